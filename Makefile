# Kith: two commands for a new user — `make demo` and `make test`.
SHELL := /bin/bash
NODE_DEPS := node_modules/.package-lock.json
APT_PACKAGES := wireguard-go wireguard-tools iproute2 nftables iputils-ping procps dnsmasq dnsutils dnsperf unbound iperf3 conntrack

.PHONY: all build deps demo test unit netns qjs sizes bench bench-dns typecheck clean

all: build

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: $(NODE_DEPS)
	node build/bundle.mjs

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; }; fi

demo: deps build
	bash test/netns/demo.sh

typecheck: $(NODE_DEPS)
	npx tsc --noEmit -p .

unit: $(NODE_DEPS)
	npx uvu -r tsx test '\.test\.ts$$' -i netns

netns: build
	bash test/netns/run.sh

sizes: build
	@node build/sizes.mjs

test: deps build typecheck unit netns sizes

bench: deps build
	bash bench/run.sh

clean:
	rm -rf dist
