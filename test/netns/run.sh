#!/usr/bin/env bash
# The namespace test suite: real kithd processes, real wireguard-go, real NAT.
# Runs every test with the Node.js bundles, then with the txiki.js bundles
# (TJS=/path/to/tjs, else ../shared/router/bin/tjs beside the project, else tjs
# on PATH). KT_RUNTIMES="node txiki" picks runtimes. At the end it checks that
# no namespace, process or temporary directory of its own is left, and its
# last lines say what ran, what passed and what was skipped. Arguments name
# the tests to run (e.g. `run.sh routes`); by default all of them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
kt_require || exit 1

runtimes=()
for rt in ${KT_RUNTIMES:-node txiki}; do
  if [ "$rt" = txiki ] && [ -z "$TJS" ]; then SKIPPED="txiki.js run skipped: no tjs binary (set TJS=/path/to/tjs)"; continue; fi
  runtimes+=("$rt")
done
if [ $# -gt 0 ]; then tests=("$@"); else tests=(mesh lan-dns symmetric cgnat portmap ipv6 relay-failover routes revoke clients exits mapped deb); fi
for t in "${tests[@]}"; do [ -f "$here/$t.sh" ] || { echo "netns: no test $t.sh"; exit 2; }; done
base=$(( ($$ % 900) * 10 ))
export KT_TMP_PREFIX=/tmp/kith-netns-run$$  # this run's temporary directories, to check that none is left

declare -A RESULT
rc=0
i=0
for rt in "${runtimes[@]}"; do
  echo "== namespace tests with the $rt bundles"
  RESULT[$rt]=pass
  for t in "${tests[@]}"; do
    i=$((i + 1))
    start=$SECONDS
    if KT_RUNTIME=$rt KT_ID=$((base + i)) bash "$here/$t.sh"; then :; else rc=1; RESULT[$rt]=fail; echo "  ($t.sh with $rt failed)"; fi
    echo "  ($t.sh took $((SECONDS - start)) s)"
  done
done

# Nothing of ours may outlive the suite: namespaces, their processes, wireguard-go, temporary directories.
left=""
for j in $(seq 1 "$i"); do left+=$(kt_leftovers $((base + j))); done
newdirs=$(ls -d "$KT_TMP_PREFIX".* 2>/dev/null || true)
[ -z "$newdirs" ] || left+="temporary directories: $newdirs"
echo
if [ -n "$left" ]; then echo "netns: LEFT BEHIND: $left"; rc=1; else echo "netns: nothing left behind (namespaces, processes, temporary directories)"; fi
for rt in "${runtimes[@]}"; do echo "netns-result $rt ${RESULT[$rt]}"; done
if [ -n "${SKIPPED:-}" ]; then
  echo "netns: $SKIPPED"
  [ "${KITH_REQUIRE_ALL:-}" = 1 ] && { echo "netns: KITH_REQUIRE_ALL=1: a skipped runtime fails the run"; rc=1; }
fi
exit $rc
