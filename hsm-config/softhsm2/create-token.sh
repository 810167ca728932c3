#!/usr/bin/env bash
# Creates a SoftHSM v2 development token for the tokenbroker in a directory of its own.
#
# Usage: create-token.sh DIR [LABEL]
#
# Writes, inside DIR (created if missing, must not already hold a token):
#   softhsm2.conf  from softhsm2.conf.template, tokendir = DIR/tokens
#   tokens/        the SoftHSM object store
#   pin            the random user PIN, mode 0600 (use it as 'hsm.pin-file')
#   pkcs11.cfg     SunPKCS11 configuration: library, slot, key attribute template
#                  (use it as 'hsm.pkcs11-config')
# The SO PIN is random and is not kept: if the user PIN gets locked, create a new token.
# No PIN is ever printed. softhsm2-util only takes PINs as arguments, so they are visible
# in this machine's process list for the second it runs; do not use this on a shared host.
set -euo pipefail

usage() {
  echo "usage: $0 DIR [LABEL]" >&2
  echo "  creates a SoftHSM v2 token labelled LABEL (default: tokenbroker) in DIR" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
[[ -n "$1" ]] || usage
label="${2:-tokenbroker}"
if [[ ${#label} -gt 32 || ! "$label" =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "error: LABEL must be 1 to 32 characters of A-Z a-z 0-9 . _ -" >&2
  exit 2
fi

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
template="$script_dir/softhsm2.conf.template"
[[ -r "$template" ]] || { echo "error: missing $template" >&2; exit 1; }

# Same candidates as the broker's SoftHsmDevToken, Debian path first.
library=""
for candidate in \
    /usr/lib/softhsm/libsofthsm2.so \
    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib64/pkcs11/libsofthsm2.so \
    /usr/lib64/softhsm/libsofthsm2.so \
    /usr/local/lib/softhsm/libsofthsm2.so; do
  if [[ -f "$candidate" ]]; then
    library="$candidate"
    break
  fi
done
if [[ -z "$library" ]] || ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "error: SoftHSM v2 is not installed (no libsofthsm2.so or softhsm2-util found)." >&2
  echo "install it with:  apt-get install -y softhsm2    (Fedora/RHEL: dnf install -y softhsm)" >&2
  exit 1
fi

umask 077
mkdir -p -- "$1"
dir="$(cd -- "$1" && pwd -P)"
for existing in softhsm2.conf tokens pin pkcs11.cfg; do
  if [[ -e "$dir/$existing" ]]; then
    echo "error: $dir/$existing already exists; choose an empty directory" >&2
    exit 1
  fi
done

tokendir="$dir/tokens"
conf="$dir/softhsm2.conf"
mkdir -- "$tokendir"
template_text="$(<"$template")"
printf '%s\n' "${template_text//@TOKENDIR@/$tokendir}" > "$conf"

random_pin() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
user_pin="$(random_pin)"
so_pin="$(random_pin)"

# SOFTHSM2_CONF must be set for every process that loads the library; softhsm2-util is one.
if ! output="$(SOFTHSM2_CONF="$conf" softhsm2-util --init-token --free --label "$label" \
    --so-pin "$so_pin" --pin "$user_pin" 2>&1)"; then
  echo "error: softhsm2-util --init-token failed:" >&2
  printf '%s\n' "$output" >&2
  exit 1
fi
unset so_pin

# SoftHSM moves the initialised token to a new slot ID; SunPKCS11 needs that ID.
if [[ "$output" =~ reassigned\ to\ slot\ ([0-9]+) ]]; then
  slot="${BASH_REMATCH[1]}"
else
  echo "error: could not find the slot number in softhsm2-util's output:" >&2
  printf '%s\n' "$output" >&2
  exit 1
fi

printf '%s\n' "$user_pin" > "$dir/pin"
chmod 600 "$dir/pin"
unset user_pin

cat > "$dir/pkcs11.cfg" <<EOF
# SunPKCS11 configuration written by hsm-config/softhsm2/create-token.sh for the
# SoftHSM v2 token '$label'. The broker process needs SOFTHSM2_CONF=$conf
name = tokenbroker
library = $library
slot = $slot
attributes(generate, CKO_PRIVATE_KEY, *) = {
  CKA_TOKEN = true
  CKA_PRIVATE = true
  CKA_SENSITIVE = true
  CKA_EXTRACTABLE = false
  CKA_SIGN = true
  CKA_DECRYPT = false
  CKA_UNWRAP = false
  CKA_DERIVE = false
}
attributes(generate, CKO_PUBLIC_KEY, *) = {
  CKA_TOKEN = false
  CKA_VERIFY = true
  CKA_ENCRYPT = false
  CKA_WRAP = false
}
EOF

echo "Created SoftHSM v2 token '$label' in slot $slot (library $library)."
echo "  SunPKCS11 config (hsm.pkcs11-config): $dir/pkcs11.cfg"
echo "  user PIN file    (hsm.pin-file):      $dir/pin   (mode 0600, not printed)"
echo "Every process that uses this token (broker, pkcs11-tool, softhsm2-util) needs:"
printf 'export SOFTHSM2_CONF=%q\n' "$conf"
