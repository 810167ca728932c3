#!/usr/bin/env bash
# The Keycloak peer of the benchmark (see /work/shared/PEERS.md for how it was set up and why).
#
#   bench/keycloak/setup.sh start   fetch (once) keycloak-quarkus-dist with Maven into the cache, unpack it,
#                                   start `kc.sh start-dev` on 127.0.0.1 with a JDK 21+ and configure a realm
#                                   through the admin REST API; writes $CACHE/keycloak.env for the load generator
#   bench/keycloak/setup.sh stop    stop the Keycloak this script started (by its recorded pids)
#
# The distribution lives outside the repository, in $TOKENBROKER_BENCH_CACHE (default
# ~/.cache/tokenbroker-bench); never commit it. Every data directory is recreated on start, so each run gets a
# fresh realm; the unpacked, already-augmented distribution is reused, which makes later starts faster.
# Environment: KEYCLOAK_VERSION (26.7.3), KEYCLOAK_JAVA_HOME (Temurin 25), KEYCLOAK_PORT (18080),
# KEYCLOAK_START_TIMEOUT (240 s).
set -euo pipefail

version="${KEYCLOAK_VERSION:-26.7.3}"
cache="${TOKENBROKER_BENCH_CACHE:-$HOME/.cache/tokenbroker-bench}"
java_home="${KEYCLOAK_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
port="${KEYCLOAK_PORT:-18080}"
mgmt_port="${KEYCLOAK_MANAGEMENT_PORT:-19000}"
start_timeout="${KEYCLOAK_START_TIMEOUT:-240}"
base="http://127.0.0.1:$port"
dist="$cache/keycloak-$version"
env_file="$cache/keycloak.env"
log="$cache/keycloak.log"
realm=bench
client=bench-device
user=bench-user

say() { echo "keycloak: $*"; }
fail() { echo "keycloak: error: $*" >&2; exit 1; }

stop() {
  if [[ ! -f "$env_file" ]]; then
    say "nothing to stop (no $env_file)"
    return 0
  fi
  # shellcheck disable=SC1090
  source "$env_file"
  for pid in ${KEYCLOAK_SCRIPT_PID:-} ${KEYCLOAK_PID:-}; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 60); do
    if ! kill -0 "${KEYCLOAK_PID:-0}" 2>/dev/null; then break; fi
    sleep 0.5
  done
  if kill -0 "${KEYCLOAK_PID:-0}" 2>/dev/null; then
    say "still running after 30 s; killing pid $KEYCLOAK_PID"
    kill -KILL "$KEYCLOAK_PID" 2>/dev/null || true
  fi
  rm -f "$env_file"
  say "stopped"
}

start() {
  for tool in curl jq unzip mvn; do
    command -v "$tool" >/dev/null || fail "$tool is missing (sudo apt-get install -y $tool)"
  done
  [[ -x "$java_home/bin/java" ]] || fail "no JDK at $java_home (Keycloak $version needs Java 21+; set KEYCLOAK_JAVA_HOME)"
  if [[ -f "$env_file" ]]; then
    say "a previous Keycloak is still recorded; stopping it first"
    stop
  fi
  if curl -s -o /dev/null "$base/" 2>/dev/null; then
    fail "something already listens on 127.0.0.1:$port"
  fi
  mkdir -p "$cache"
  local zip="$cache/keycloak-quarkus-dist-$version.zip"
  if [[ ! -f "$zip" ]]; then
    say "fetching org.keycloak:keycloak-quarkus-dist:$version:zip from Maven Central into $cache"
    mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$version:zip" -DoutputDirectory="$cache" \
      || fail "cannot fetch org.keycloak:keycloak-quarkus-dist:$version:zip"
  fi
  if [[ ! -x "$dist/bin/kc.sh" ]]; then
    say "unpacking into $dist"
    rm -rf "$dist"
    unzip -q -o "$zip" -d "$cache" || fail "cannot unpack $zip"
  fi
  rm -rf "$dist/data"

  local password
  password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  say "starting kc.sh start-dev on 127.0.0.1:$port (JDK $java_home)"
  local t0=$SECONDS
  (
    cd "$dist"
    export JAVA_HOME="$java_home"
    export KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$password"
    exec setsid bin/kc.sh start-dev --http-host=127.0.0.1 --http-port="$port" \
      --http-management-host=127.0.0.1 --http-management-port="$mgmt_port" >"$log" 2>&1 </dev/null
  ) &
  local script_pid=$!
  # Record the pid at once, so that 'stop' can clean up even if the configuration below fails.
  printf 'KEYCLOAK_SCRIPT_PID=%s\nKEYCLOAK_PID=%s\n' "$script_pid" "$script_pid" >"$env_file"
  local ready=""
  for _ in $(seq 1 $((start_timeout * 2))); do
    if ! kill -0 "$script_pid" 2>/dev/null; then
      tail -5 "$log" >&2 || true
      fail "kc.sh exited during start-up (log $log)"
    fi
    if curl -sf -o /dev/null "$base/realms/master/.well-known/openid-configuration"; then
      ready=1
      break
    fi
    sleep 0.5
  done
  [[ -n "$ready" ]] || { stop; fail "not ready after $start_timeout s (log $log)"; }
  say "ready after $((SECONDS - t0)) s"
  local java_pid="$script_pid"
  if [[ "$(cat "/proc/$script_pid/comm" 2>/dev/null)" != "java" ]]; then
    java_pid="$(pgrep -P "$script_pid" -x java | head -1 || true)"
    [[ -n "$java_pid" ]] || java_pid="$script_pid"
  fi
  printf 'KEYCLOAK_SCRIPT_PID=%s\nKEYCLOAK_PID=%s\n' "$script_pid" "$java_pid" >"$env_file"

  local token
  token="$(curl -sf -d grant_type=password -d client_id=admin-cli -d username=admin \
    --data-urlencode "password=$password" "$base/realms/master/protocol/openid-connect/token" | jq -r .access_token)" \
    || fail "cannot get an admin token"
  api() { # method path json
    local code
    code="$(curl -s -o /tmp/kc-api.$$ -w '%{http_code}' -X "$1" "$base/admin/realms$2" \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data "$3")"
    [[ "$code" == 2* ]] || fail "$1 /admin/realms$2 answered $code: $(head -c 300 /tmp/kc-api.$$)"
    rm -f /tmp/kc-api.$$
  }
  # PEERS.md: rotation with reuse detection like ours, 300 s access tokens, ES256, events and brute force off.
  api POST "" "$(jq -n --arg r "$realm" '{realm: $r, enabled: true, revokeRefreshToken: true,
    refreshTokenMaxReuse: 0, accessTokenLifespan: 300, defaultSignatureAlgorithm: "ES256",
    eventsEnabled: false, adminEventsEnabled: false, bruteForceProtected: false,
    ssoSessionIdleTimeout: 36000, ssoSessionMaxLifespan: 36000}')"
  api POST "/$realm/clients" "$(jq -n --arg c "$client" '{clientId: $c, publicClient: true,
    directAccessGrantsEnabled: true, standardFlowEnabled: false,
    attributes: {"oauth2.device.authorization.grant.enabled": "true", "dpop.bound.access.tokens": "true"}}')"
  local user_password
  user_password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  api POST "/$realm/users" "$(jq -n --arg u "$user" --arg p "$user_password" '{username: $u, enabled: true,
    email: ($u + "@example.test"), emailVerified: true, firstName: "Bench", lastName: "User",
    credentials: [{type: "password", value: $p, temporary: false}]}')"

  cat >"$env_file" <<EOF
KEYCLOAK_SCRIPT_PID=$script_pid
KEYCLOAK_PID=$java_pid
KEYCLOAK_URL=$base
KEYCLOAK_REALM=$realm
KEYCLOAK_CLIENT=$client
KEYCLOAK_USER=$user
KEYCLOAK_PASSWORD=$user_password
KEYCLOAK_VERSION=$version
KEYCLOAK_JAVA_HOME=$java_home
KEYCLOAK_READY_SECONDS=$((SECONDS - t0))
EOF
  chmod 600 "$env_file"
  say "realm '$realm' (ES256, rotating refresh tokens, reuse 0), public DPoP client '$client', user '$user'"
  say "wrote $env_file; java pid $java_pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
