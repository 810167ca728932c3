# shellcheck shell=bash
# Shared by ./test.sh and ./quickstart.sh: makes sure the tools the broker and its tests need are here.
# As root it installs missing Debian packages; otherwise it prints the exact command and stops.

tb_need_packages=()

tb_check_command() { # command package
  command -v "$1" >/dev/null 2>&1 || tb_need_packages+=("$2")
}

tb_softhsm_library() {
  local candidate
  for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/lib64/pkcs11/libsofthsm2.so \
    /usr/lib64/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
    if [[ -f "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# ensure_prerequisites [browser]: "browser" adds Debian's chromium and chromium-driver, which the verification
# page's browser tests drive headless through Selenium (./test.sh needs them; the quickstart does not).
ensure_prerequisites() {
  tb_need_packages=()
  if [[ "${1:-}" == browser ]]; then
    tb_check_command chromium chromium
    tb_check_command chromedriver chromium-driver
  fi
  tb_check_command java openjdk-17-jdk-headless
  tb_check_command mvn maven
  tb_check_command softhsm2-util softhsm2
  tb_check_command pkcs11-tool opensc
  tb_check_command curl curl
  tb_check_command openssl openssl
  tb_softhsm_library >/dev/null || tb_need_packages+=(softhsm2)
  if ((${#tb_need_packages[@]} > 0)); then
    # shellcheck disable=SC2207
    local unique=($(printf '%s\n' "${tb_need_packages[@]}" | sort -u))
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      echo "installing: ${unique[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${unique[@]}" >/dev/null
    else
      echo "missing: ${unique[*]}" >&2
      echo "run: sudo apt-get install -y ${unique[*]}" >&2
      return 1
    fi
  fi
  local version
  version="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  if [[ -z "$version" || "${version%%.*}" -lt 17 ]]; then
    echo "Java 17 or newer is needed (found: ${version:-none}); run: sudo apt-get install -y openjdk-17-jdk-headless" >&2
    return 1
  fi
}
