#!/usr/bin/env bash
# The whole test suite: unit tests, tests against a real SoftHSM2 token (one JVM per class), browser tests of
# the verification page, and end-to-end tests that run the packaged broker, agent and example service as
# separate processes over TLS on loopback; then a short fuzzing run of every Jazzer target (FUZZ_SECONDS each,
# default 5; 0 skips it; fuzz/run fuzzes for longer); then ./quickstart.sh on the jars just built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/prerequisites.sh
source scripts/prerequisites.sh
ensure_prerequisites browser
echo "JDK: $(java -version 2>&1 | head -n 1)"
t0=$SECONDS
mvn -B -ntp verify "$@"
t1=$SECONDS
if [[ "${FUZZ_SECONDS:-5}" != "0" ]]; then
  fuzz/run "${FUZZ_SECONDS:-5}"
fi
t2=$SECONDS
QUICKSTART_SKIP_BUILD=1 ./quickstart.sh
echo "test.sh: passed in $SECONDS s (prerequisites $t0 s, mvn verify $((t1 - t0)) s, fuzzing $((t2 - t1)) s," \
  "quickstart $((SECONDS - t2)) s)"
