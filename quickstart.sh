#!/usr/bin/env bash
# The product end to end on this machine, in plain steps:
#   build; create a broker home with a SoftHSM2 token; start the broker and the example telemetry service (a
#   backend protected by the verifier library); give the device its own SoftHSM2 token; run 'device-agent
#   login' and approve the user code as the operator; start the agent; call the service with a DPoP-bound token
#   and proof from the agent's local socket (accepted); revoke the device as the operator; call again (refused).
# Everything lives under ./.quickstart (recreated each run); everything started is stopped at the end.
# QUICKSTART_SKIP_BUILD=1 reuses jars that are already built (./test.sh sets it after its own build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/prerequisites.sh
source scripts/prerequisites.sh
ensure_prerequisites

work="$PWD/.quickstart"
bhome="$work/broker-home"
device="$work/device"
audience="https://api.example.test"
current_step="prerequisites"
pids=()

step() {
  current_step="$*"
  printf '\n==> %s\n' "$*"
}

say() { printf '    %s\n' "$*"; }

stop_all() {
  local pid
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  pids=()
}

on_exit() {
  local rc=$?
  stop_all
  if [[ $rc -ne 0 ]]; then
    echo >&2
    echo "quickstart FAILED at step: $current_step (exit $rc); logs are in $work" >&2
  fi
}
trap on_exit EXIT

fail() {
  echo "    error: $*" >&2
  exit 1
}

# wait_for_line FILE PATTERN PID WHAT: waits (60 s at most) until FILE has a line matching PATTERN.
wait_for_line() {
  local file="$1" pattern="$2" pid="$3" what="$4"
  for _ in $(seq 1 240); do
    if grep -qE "$pattern" "$file" 2>/dev/null; then
      grep -E "$pattern" "$file" | head -n 1
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$file" >&2
      fail "$what exited before it was ready"
    fi
    sleep 0.25
  done
  cat "$file" >&2
  fail "$what was not ready within 60 s"
}

# The agent's own token: its SoftHSM2 configuration and PIN go to agent commands only, never to the broker.
agent() {
  SOFTHSM2_CONF="$device/hsm/softhsm2.conf" DEVICE_AGENT_PKCS11_PIN="$device_pin" \
    bin/device-agent --config "$device/agent.properties" "$@"
}
# For "agent_in_background ... &" only: the background job's subshell becomes the agent (the launcher execs the
# JVM), so $! is the JVM's pid and stop_all stops it; a backgrounded plain function would leave it running.
agent_in_background() {
  SOFTHSM2_CONF="$device/hsm/softhsm2.conf" DEVICE_AGENT_PKCS11_PIN="$device_pin" \
    exec bin/device-agent --config "$device/agent.properties" "$@"
}
if [[ "${QUICKSTART_SKIP_BUILD:-0}" == 1 && -f broker/target/broker.jar && -f device-agent/target/device-agent.jar \
  && -f examples/target/telemetry-service.jar ]]; then
  step "using the jars already built"
else
  step "building (mvn -B -q package -DskipTests)"
  mvn -B -q -ntp package -DskipTests
fi

rm -rf "$work"
mkdir -p "$work"

step "creating a broker home with a SoftHSM2 token: broker init --home $bhome"
bin/broker init --home "$bhome" --grpc-port 0 --https-port 0 | sed 's/^/    /'
issuer="$(sed -n 's/^broker\.issuer=//p' "$bhome/broker.properties")"

step "starting the broker (gRPC and HTTPS over TLS, keys in the HSM)"
bin/broker serve --home "$bhome" >"$work/broker.log" 2>&1 &
pids+=($!)
ready="$(wait_for_line "$work/broker.log" '^broker ready:' "${pids[-1]}" "the broker")"
say "$ready"
grpc_port="$(sed -n 's/.*grpc=[^:]*:\([0-9]*\).*/\1/p' <<<"$ready")"
https_port="$(sed -n 's/.* https=[^:]*:\([0-9]*\).*/\1/p' <<<"$ready")"
target="localhost:$grpc_port"
jwks="$(curl -sS --fail --cacert "$bhome/tls/ca.crt" "https://localhost:$https_port/.well-known/jwks.json")"
say "its JWKS (https://localhost:$https_port/.well-known/jwks.json) publishes $(grep -o '"kid"' <<<"$jwks" | wc -l) HSM-backed keys"

step "starting the example telemetry service, protected by the verifier library (scope telemetry:write)"
java -jar examples/target/telemetry-service.jar serve --broker "$target" --broker-home "$bhome" --port 0 \
  >"$work/telemetry.log" 2>&1 &
pids+=($!)
ready="$(wait_for_line "$work/telemetry.log" '^telemetry service ready:' "${pids[-1]}" "the telemetry service")"
say "$ready"
telemetry_port="$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$ready")"
htu="$(sed -n 's/.*htu=\([^ ]*\).*/\1/p' <<<"$ready")"

step "giving the device its own PKCS#11 token (SoftHSM2 standing in for a TPM or secure element)"
mkdir -p "$device/hsm/tokens"
chmod 700 "$device"
cat >"$device/hsm/softhsm2.conf" <<EOF
directories.tokendir = $device/hsm/tokens
objectstore.backend = file
log.level = ERROR
EOF
device_pin="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
slot="$(SOFTHSM2_CONF="$device/hsm/softhsm2.conf" softhsm2-util --init-token --free --label device --so-pin "${device_pin}so" --pin "$device_pin" \
  | sed -n 's/.*reassigned to slot \([0-9]*\).*/\1/p')"
[[ -n "$slot" ]] || fail "softhsm2-util did not create the device token"
# Only which token to use: the agent adds its own key template (sensitive, never extractable keys).
cat >"$device/hsm/pkcs11.cfg" <<EOF
name = device
library = $(tb_softhsm_library)
slot = $slot
EOF
cat >"$device/agent.properties" <<EOF
broker.target=$target
broker.external-url=$issuer
broker.ca-file=$bhome/tls/ca.crt
client-id=demo-device
audience=$audience
state-dir=state
pkcs11.config=hsm/pkcs11.cfg
EOF
say "token in slot $slot; agent configuration: $device/agent.properties"

step "device-agent login: the RFC 8628 device flow"
agent_in_background login >"$work/login.log" 2>&1 &
login_pid=$!
pids+=("$login_pid")
code_line="$(wait_for_line "$work/login.log" 'enter the code: [B-Z]{4}-[B-Z]{4}' "$login_pid" "device-agent login")"
grep -v '^\s*$' "$work/login.log" | sed 's/^/    agent: /'
user_code="$(grep -oE '[B-Z]{4}-[B-Z]{4}' <<<"$code_line" | head -n 1)"

step "the owner approves $user_code (the operator CLI stands in for the /device page here)"
bin/broker admin approve "$user_code" --owner quickstart --home "$bhome" --target "$target" | sed 's/^/    /'
wait "$login_pid" || { cat "$work/login.log" >&2; fail "device-agent login did not succeed"; }
grep -E 'enrolled' "$work/login.log" | sed 's/^/    agent: /'

step "starting the agent daemon (keeps the token fresh, serves the local socket)"
agent_in_background run >"$work/agent.log" 2>&1 &
pids+=($!)
wait_for_line "$work/agent.log" '^device-agent running:' "${pids[-1]}" "device-agent run" | sed 's/^/    /'
device_id="$(agent status --json | sed -n 's/.*"device_id" *: *"\([^"]*\)".*/\1/p')"
[[ -n "$device_id" ]] || fail "device-agent status --json did not name the device"
say "device id: $device_id"

# call_service OUTPUT: one telemetry call with the agent's current token and a fresh proof from its socket.
call_service() {
  agent token --audience "$audience" >"$work/token"
  local proof
  proof="$(agent proof --method POST --uri "$htu" --audience "$audience")"
  java -jar examples/target/telemetry-service.jar send --target "localhost:$telemetry_port" --broker-home "$bhome" \
    --token-file "$work/token" --proof "$proof" >"$1" 2>&1
}

step "calling the telemetry service with the DPoP-bound token and a proof made by the agent ($htu)"
call_service "$work/call-1.log" || { cat "$work/call-1.log" >&2; fail "the service refused a valid device"; }
sed 's/^/    service: /' "$work/call-1.log"

# The call after the revocation is made by a client that is already running and connected when the revocation
# is acknowledged, with a proof made beforehand, so what is timed is the call, not a JVM start.
agent token --audience "$audience" >"$work/token"
proof="$(agent proof --method POST --uri "$htu" --audience "$audience")"
mkfifo "$work/go"
java -jar examples/target/telemetry-service.jar send --target "localhost:$telemetry_port" --broker-home "$bhome" \
  --token-file "$work/token" --proof "$proof" --wait-for-enter <"$work/go" >"$work/call-2.log" 2>&1 &
send_pid=$!
pids+=("$send_pid")
exec 3>"$work/go"
wait_for_line "$work/call-2.log" '^connected to ' "$send_pid" "the telemetry client" >/dev/null

step "the operator revokes the device: broker admin devices revoke $device_id"
bin/broker admin devices revoke "$device_id" --reason "quickstart: device reported stolen" --home "$bhome" \
  --target "$target" | sed 's/^/    /'

step "calling the service again at once, with the same (unexpired) token and a fresh proof"
revoked_at="$(date +%s%N)"
echo go >&3
exec 3>&-
rc=0
wait "$send_pid" || rc=$?
refused_ms="$(( ($(date +%s%N) - revoked_at) / 1000000 ))"
sed 's/^/    service: /' "$work/call-2.log" | grep -v 'service: connected to'
[[ $rc -eq 3 ]] || fail "the service did not refuse the revoked device's token (exit $rc)"
say "refused ${refused_ms} ms after the operator's revocation was acknowledged: the service had already"
say "received it on the broker's WatchRevocations stream"
(( refused_ms < 1000 )) || fail "the refusal took ${refused_ms} ms, more than a second"

step "stopping the agent, the service and the broker"
stop_all
if left="$(pgrep -af -- "$work/" 2>/dev/null)"; then
  fail "still running after the stop: $left"
fi
current_step="done"
echo
echo "quickstart OK: a device enrolled with an HSM-held DPoP key, called a protected service with a DPoP-bound"
echo "token signed in the broker's HSM, and was refused ${refused_ms} ms after the operator revoked it."
echo "logs: $work"
