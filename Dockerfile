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
# scripts/test-image.sh builds this image and proves it inside a throwaway network namespace.

ARG NODE_IMAGE=node:22-bookworm-slim

# Production dependencies only, installed from the lock file.
FROM ${NODE_IMAGE} AS deps
WORKDIR /opt/tsfw
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Compile TypeScript (and the start-up bundle) with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs scripts/
COPY bin bin/
COPY rules rules/
COPY src src/
RUN npm run build && rm -rf dist/backends/fake

# Runtime: node, nft and iptables; no dev dependencies, no compiler, no sources.
FROM ${NODE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nftables iptables \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/tsfw
ENV NODE_ENV=production
COPY --from=deps /opt/tsfw/node_modules node_modules/
COPY --from=build /src/dist dist/
COPY package.json ./
COPY bin bin/
COPY rules rules/
RUN ln -s /opt/tsfw/bin/tsfw /usr/local/bin/tsfw && tsfw --version
LABEL org.opencontainers.image.title="tsfw" \
      org.opencontainers.image.description="Tailscale-style netfilter rules (on/nodivert/off) for nftables and iptables, kept in place" \
      org.opencontainers.image.licenses="BSD-3-Clause"
VOLUME ["/etc/tsfw"]
ENTRYPOINT ["tsfw"]
CMD ["daemon"]
