# tsfw: `make demo` runs the main job in a throwaway namespace router; `make test` runs everything.
SHELL := /bin/bash
NPM ?= npm
NODE_STAMP := node_modules/.install-stamp

.PHONY: all deps apt-deps test-apt-deps test-roots build lint typecheck unit e2e test demo clean image-test
.PHONY: bench bench-startup bench-apply bench-scale bench-repair bench-churn bench-soak reliability

all: build

# npm packages, reinstalled only when package.json / the lock changes.
$(NODE_STAMP): package.json $(wildcard package-lock.json)
	@# npm ci: exactly the committed lock (it lists every platform's optional packages), tree left clean.
	$(NPM) ci --no-audit --no-fund
	@touch $@

deps: $(NODE_STAMP) apt-deps

# Kernel-facing tools (binary:package), installed through apt-get only when a binary is missing.
# The test suite also drives the real ansible-playbook, checks the unit with systemd-analyze, builds
# Debian roots with debootstrap (systemd host, base-image stand-in) and the image with buildah.
CORE_BINS := nft:nftables iptables:iptables iptables-legacy:iptables ip:iproute2 ping:iputils-ping
# ufw, firewalld and Docker are the neighbours the integration tests run in their own namespaces.
TEST_BINS := $(CORE_BINS) python3:python3 ansible-playbook:ansible-core systemd-analyze:systemd debootstrap:debootstrap buildah:buildah runc:runc \
  ufw:ufw firewalld:firewalld dbus-daemon:dbus-daemon dockerd:docker.io

define apt_install_missing
	@missing=""; \
	for bin in $(1); do \
	  command -v "$${bin%%:*}" >/dev/null 2>&1 || missing="$$missing $${bin##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO ./scripts/apt-install.sh $$missing; \
	fi
endef

apt-deps:
	$(call apt_install_missing,$(CORE_BINS))

test-apt-deps:
	$(call apt_install_missing,$(TEST_BINS))

# What the whole-host tests start from, built when absent (a few minutes the first time) and kept
# outside the repo: the Debian 12 root test/e2e/systemd-unit.test.ts boots systemd in
# ($$TSFW_TEST_CACHE, default /var/cache/tsfw-test), and the Dockerfile's base image in buildah's
# storage (pulled, or a local stand-in when no container registry is reachable).
test-roots: test-apt-deps
	./scripts/systemd-test-root.sh >/dev/null
	./scripts/node-image-standin.sh

build: $(NODE_STAMP)
	npx tsc -p tsconfig.build.json
	node scripts/bundle.mjs

lint: $(NODE_STAMP)
	npx eslint .

typecheck: $(NODE_STAMP)
	npx tsc -p tsconfig.json --noEmit

unit: $(NODE_STAMP)
	npx vitest run --project unit

e2e: deps test-roots build
	npx vitest run --project e2e

test: deps test-apt-deps test-roots lint typecheck build
	npx vitest run $(VITEST_ARGS)

demo: deps build
	./scripts/demo.sh

# Container image: build it with buildah and prove it in namespaces (scripts/test-image.sh). `make
# test` runs the same script through test/e2e/image.test.ts.
image-test: deps test-roots build
	./scripts/test-image.sh

# Benchmarks (docs/PERFORMANCE.md): each prints its figures and writes bench/results/NAME.json.
# `make bench` runs all but the 10-minute soak; BENCH_ARGS passes options (e.g. --runs 10).
bench: bench-startup bench-apply bench-scale bench-repair bench-churn

bench-startup bench-apply bench-scale bench-repair bench-churn bench-soak: bench-%: deps build
	node bench/$*.mjs $(BENCH_ARGS)

# The long reliability suite (docs/RELIABILITY.md); its CI-sized part runs in `make test`.
reliability: deps build
	npx vitest run -c vitest.reliability.config.ts $(VITEST_ARGS)

clean:
	rm -rf dist node_modules
