#!/usr/bin/env bash
# Entry point of `make bench-dns`: see bench/dns/bench.sh.
exec bash "$(dirname "$0")/dns/bench.sh" "$@"
