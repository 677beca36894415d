# Kith: two commands for a new user — `make demo` and `make test`.
SHELL := /bin/bash
NODE_DEPS := node_modules/.package-lock.json
# A router's userland beside the project (txiki.js, ubusd, ubus): the tests use
# it when it is there; explicit TJS, UBUSD and UBUS_CLI still win.
ROUTER_BIN := $(abspath ../shared/router/bin)
TJS ?= $(wildcard $(ROUTER_BIN)/tjs)
UBUSD ?= $(wildcard $(ROUTER_BIN)/ubusd)
UBUS_CLI ?= $(wildcard $(ROUTER_BIN)/ubus)
# OpenWrt's real firewall4 and its namespace prober (test/package/firewall.test.ts).
FW4_NETNS_CHECK ?= $(wildcard $(ROUTER_BIN)/fw4-netns-check)
export TJS UBUSD UBUS_CLI FW4_NETNS_CHECK
# What the tests run against: real WireGuard, NAT, DNS servers and clients.
# systemd: systemd-analyze checks the Debian package's unit (test/package/deb.test.ts).
# miniupnpd-nftables: the home routers of test/netns/portmap.sh (NAT-PMP/PCP).
APT_PACKAGES := wireguard-go wireguard-tools iproute2 nftables iputils-ping procps dnsmasq dnsutils zbar-tools conntrack tcpdump systemd miniupnpd-nftables
# The LuCI app's browser tests (test/luci/browser): Chromium, driven by playwright-core from npm.
APT_LUCI := chromium
# What the benchmarks compare with.
APT_BENCH := dnsperf unbound util-linux tinc iperf3

.PHONY: all build deps deps-bench deps-luci demo test test-luci pot test-repeat unit netns qjs sizes sim bench bench-mesh bench-dns bench-tinc bench-punch bench-relay bench-attack bench-crypto bench-rss bench-exit bench-relay-failover bench-netmap typecheck ipk image deb package-test cross clean

all: build

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: $(NODE_DEPS)
	node build/bundle.mjs
	node build/native.mjs

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; }; fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))

deps-luci: deps
	$(call apt_install,$(APT_LUCI))

deps-bench: deps
	$(call apt_install,$(APT_BENCH))

demo: deps build
	bash test/netns/demo.sh

typecheck: $(NODE_DEPS)
	npx tsc --noEmit -p .

# Unit, codec, QuickJS-ng, package and real-ubusd tests (the last skips without UBUSD).
unit: $(NODE_DEPS) build
	npx uvu -r tsx test '\.test\.ts$$' -i netns

qjs: $(NODE_DEPS)
	node build/qjs-check.mjs

# Real processes in network namespaces, under Node.js and txiki.js (TJS, ../shared/router/bin/tjs or tjs on PATH).
netns: deps build
	bash test/netns/run.sh

# The namespace suite N times in a row; prints how many runs passed per runtime.
N ?= 10
test-repeat: deps build
	bash test/netns/repeat.sh $(N)

sizes: build
	@node build/sizes.mjs

# The deterministic simulator of NodeCore at 10, 100 and 1000 nodes (test/sim): one row per size (with the time a
# revocation takes to reach every node), exit 1 if an invariant broke. KITH_SIM_SEED, KITH_SIM_SIZES=10,100, KITH_SIM_WALL_S (wall-clock limit per row, default 900).
sim: $(NODE_DEPS)
	npx tsx test/sim/main.ts

# The LuCI app's translation template (luci-app/po/templates/kith.pot) from its _() strings and menu titles.
pot:
	node build/pot.mjs

# luci-app-kith in Chromium against uhttpd, rpcd, ubusd (../shared/router) and kithd; screenshots in the folder it prints.
test-luci: deps-luci build
	bash test/luci/browser/run.sh

test: deps deps-luci build typecheck unit netns test-luci sizes
	@echo "make test: txiki.js $(if $(TJS),$(TJS),SKIPPED (no tjs: set TJS or put ../shared/router beside the project)); ubusd $(if $(UBUSD),$(UBUSD),SKIPPED (no ubusd: set UBUSD)); firewall4 $(if $(FW4_NETNS_CHECK),$(FW4_NETNS_CHECK),SKIPPED (no fw4-netns-check: set FW4_NETNS_CHECK)); router CPUs (aarch64, mipsel under qemu) not part of make test: make cross TXIKI_SRC=<txiki.js tree>"

# Router CPUs: builds the router-trimmed txiki.js from a txiki.js source tree
# (TXIKI_SRC, with its submodules) for aarch64 and mipsel with Debian's cross
# compilers, then runs the core self-test and `make demo` on each under
# qemu-user (openwrt-feed/README.md has the results). CROSS_ARCHS picks.
APT_CROSS := cmake g++-aarch64-linux-gnu g++-mipsel-linux-gnu qemu-user xz-utils
CROSS_ARCHS ?= aarch64 mipsel
cross: deps build
	@[ -n "$(TXIKI_SRC)" ] || { echo "make cross: set TXIKI_SRC to a txiki.js source tree (git clone --recursive https://github.com/saghul/txiki.js)"; exit 2; }
	$(call apt_install,$(APT_CROSS))
	@for a in $(CROSS_ARCHS); do build/cross-txiki.sh "$(TXIKI_SRC)" $$a && build/cross-check.sh build/out/tjs-$$a/tjs $$a || exit 1; done

bench: bench-mesh bench-punch bench-dns bench-tinc bench-relay bench-relay-failover bench-attack bench-crypto bench-netmap bench-rss

bench-mesh: deps build
	bash bench/mesh.sh

# Cone NAT ↔ cone NAT punch: success rate, median and worst time to a direct path (KITH_PUNCH_TRIALS, default 20).
bench-punch: deps build
	bash bench/punch.sh

# Two homes behind symmetric NATs relayed end to end through the hub: throughput, RTT and the hub's CPU, against the direct link.
bench-relay: deps-bench build
	bash bench/relay.sh

# kithd's CPU under 100 junk / forged control datagrams a second, and its RSS under a TCP DNS
# pipelining client, for this build and an earlier one (KITH_BENCH_BEFORE=dir or KITH_BENCH_BEFORE_REF).
bench-attack: deps build
	bash bench/attack.sh

# Ed25519 per runtime, tweetnacl against WebCrypto, and verifying a 100-member mesh.
bench-crypto: deps
	bash bench/crypto.sh

# One netmap computation with 100 and 1000 members, per runtime, this build against an earlier one.
bench-netmap: deps
	bash bench/netmap.sh

# kithd's resident memory with 3 and 100 member records, where it goes, and the router bundle's size.
bench-rss: deps build
	bash bench/rss.sh

# Relay failover: the relay carrying a relayed pair loses its link; the outage until both ends are on the other (median of 5).
bench-relay-failover: deps build
	bash bench/relay-failover.sh

# Exit failover: a user's donor dies; time until its LAN client is through the other donor (median of 10).
bench-exit: deps build
	bash bench/exit-failover.sh

bench-dns: deps-bench build
	bash bench/dns.sh

ipk: build
	node build/ipk.mjs

image: build
	node build/image.mjs

# dist/kith_<version>_all.deb for Raspberry Pi OS / Debian (dpkg-deb comes with dpkg).
deb: build
	$(call apt_install,dpkg)
	node build/deb.mjs

package-test: $(NODE_DEPS) build
	npx uvu -r tsx test/package '\.test\.ts$$'

clean:
	rm -rf dist

bench-tinc: deps-bench build
	bash bench/vs-tinc.sh
