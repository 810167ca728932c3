#!/usr/bin/env bash
# End to end on this machine: build, create a broker home with a SoftHSM2 development token, start the
# broker, fetch its JWKS over HTTPS, and stop it. Everything lives under ./.quickstart (recreated each run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/prerequisites.sh
source scripts/prerequisites.sh
ensure_prerequisites

work="$PWD/.quickstart"
home="$work/broker-home"
step() { printf '\n==> %s\n' "$*"; }

step "building (mvn -B -q package -DskipTests)"
mvn -B -q -ntp package -DskipTests

rm -rf "$work"
mkdir -p "$work"

step "broker init --home $home"
bin/broker init --home "$home" --grpc-port 0 --https-port 0

step "broker keys list --home $home"
bin/broker keys list --home "$home"

step "broker serve --home $home"
broker_pid=""
cleanup() {
  if [[ -n "$broker_pid" ]] && kill -0 "$broker_pid" 2>/dev/null; then
    kill "$broker_pid" && wait "$broker_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
bin/broker serve --home "$home" >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 120); do
  grep -q '^broker ready:' "$work/broker.log" && break
  kill -0 "$broker_pid" 2>/dev/null || { cat "$work/broker.log" >&2; echo "broker exited early" >&2; exit 1; }
  sleep 0.5
done
ready="$(grep '^broker ready:' "$work/broker.log")" || { cat "$work/broker.log" >&2; exit 1; }
echo "$ready"
https_port="$(sed -n 's/.* https=[^:]*:\([0-9]*\).*/\1/p' <<<"$ready")"

step "GET https://localhost:$https_port/.well-known/jwks.json (trusting only the home's dev CA)"
jwks="$(curl -sS --fail --cacert "$home/tls/ca.crt" "https://localhost:$https_port/.well-known/jwks.json")"
echo "$jwks"
keys="$(grep -o '"kid"' <<<"$jwks" | wc -l)"
if [[ "$keys" -lt 2 ]]; then
  echo "expected the ACTIVE and NEXT keys in the JWKS, got $keys" >&2
  exit 1
fi

step "check the HSM: the private keys are sensitive and never extractable"
SOFTHSM2_CONF="$home/hsm/softhsm2.conf" pkcs11-tool --module "$(tb_softhsm_library)" --token-label tokenbroker \
  --login --pin "$(cat "$home/hsm/pin")" -O 2>/dev/null | grep -A4 'Private Key Object'

step "stopping the broker"
cleanup
broker_pid=""
echo
echo "quickstart OK: the broker signed nothing yet but published $keys HSM-backed keys."
echo "home: $home (logs: $work/broker.log)"
