# tsfw container image: the daemon beside tailscaled, managing the host's netfilter rules.
#
#   docker build -t tsfw .
#   docker run -d --name tsfw --restart unless-stopped --init \
#     --network host --cap-add NET_ADMIN --cap-add NET_RAW \
#     -v /etc/tsfw:/etc/tsfw tsfw
#
# --network host: the rules belong in the host's network namespace (where tailscale0 is), not
# in a container namespace of their own. NET_ADMIN changes netfilter; NET_RAW is needed by
# iptables-legacy. /etc/tsfw holds config.yaml (optional: without it the built-in defaults
# apply); `tsfw apply --mode X` records the mode there, so mount it read-write.
# One-off commands: docker run --rm --network host --cap-add NET_ADMIN --cap-add NET_RAW \
#   -v /etc/tsfw:/etc/tsfw tsfw status
# scripts/test-image.sh (make image-test) builds this image and proves it inside a throwaway
# network namespace, and prints how much it adds to the base image.

ARG NODE_IMAGE=node:22-bookworm-slim

# Compile TypeScript and the bundle of the CLI with every dependency inside it (scripts/bundle.mjs:
# tsfw.cjs and tsfw-libs.cjs), plus their V8 code caches made by this same Node.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs scripts/
COPY bin bin/
COPY rules rules/
COPY src src/
RUN npm run build

# Runtime: node, nft, iptables and ip (iproute2: `addresses: auto` and the daemon's address
# monitor read the tunnel through it), and the bundle. No node_modules (the bundle holds the runtime
# dependencies), no per-module dist/cli, no compiler, no sources, no npm cache.
FROM ${NODE_IMAGE}
# One layer that leaves nothing behind: no docs, man pages or locales from these packages (what
# Debian's -slim images configure too), no package lists or caches, no apt/dpkg logs.
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
      'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' >/etc/dpkg/dpkg.cfg.d/tsfw-slim \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nftables iptables iproute2 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/lib/dpkg/*-old \
      /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
WORKDIR /opt/tsfw
ENV NODE_ENV=production
# The daemon's memory settings, as in systemd/tsfw.service (docs/PERFORMANCE.md). The health
# check runs without NODE_OPTIONS: any V8 flag makes node reject the bundle's code cache.
ENV NODE_OPTIONS="--max-semi-space-size=1 --jitless --expose-gc"
ENV GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=65536
COPY package.json ./
COPY bin bin/
COPY rules rules/
COPY --from=build /src/dist/bundle dist/bundle/
RUN ln -s /opt/tsfw/bin/tsfw /usr/local/bin/tsfw && tsfw --version && tsfw validate >/dev/null
LABEL org.opencontainers.image.title="tsfw" \
      org.opencontainers.image.description="Tailscale-style netfilter rules (on/nodivert/off) for nftables and iptables, kept in place" \
      org.opencontainers.image.licenses="BSD-3-Clause"
VOLUME ["/etc/tsfw"]
# Healthy while the daemon's last pass (state file, no firewall call) is under 120 s old and good:
# a hung daemon, a failing nft or a repair held back by the anti-fight budget turns it unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["env", "-u", "NODE_OPTIONS", "tsfw", "health"]
ENTRYPOINT ["tsfw"]
CMD ["daemon"]
