#!/usr/bin/env bash
# The namespace test suite: real kithd processes, real wireguard-go, real NAT.
# Runs with the Node.js bundles, then again with the txiki.js bundles when a
# tjs binary is found (TJS=/path/to/tjs or tjs on PATH).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
kt_require || exit 1

runtimes=(node)
TJS=${TJS:-$(command -v tjs || true)}
if [ -n "$TJS" ] && [ -x "$TJS" ]; then runtimes+=(txiki); export TJS
else echo "netns: txiki.js run skipped (no tjs binary: set TJS=/path/to/tjs)"; fi

rc=0
for rt in "${runtimes[@]}"; do
  echo "== namespace tests with the $rt bundles"
  for t in mesh lan-dns symmetric; do
    KT_RUNTIME=$rt KT_ID=$(( ($$ + ${#rt} + ${#t}) % 10000 )) bash "$here/$t.sh" || rc=1
  done
done
exit $rc
