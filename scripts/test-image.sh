#!/usr/bin/env bash
# Builds the tsfw image from the Dockerfile and proves it in a throwaway network namespace:
# `tsfw apply` run from the image (host networking, NET_ADMIN + NET_RAW) must write the same
# table as the checkout's own `tsfw apply` in a second clean namespace; then the image's default
# command (the daemon) must repair a flushed ruleset. The host's own ruleset is never touched.
#
#   scripts/test-image.sh              skip (exit 0, "SKIP: ...") when no engine can build
#   scripts/test-image.sh --require    fail instead of skipping
#
# Engines, first usable wins: podman, buildah (both daemonless: a container started under
# `ip netns exec` with host networking lives in that namespace), docker with a reachable local
# engine (dockerd is not in our namespace, so the container joins it with nsenter instead).
# Every run checks the container's network namespace is the test's before anything is applied.
#
# Env: TSFW_IMAGE (tag, default localhost/tsfw:test), NODE_IMAGE (base image build arg; the
# default is the Dockerfile's node:22-bookworm-slim, which must be pullable or already present).
# Needs root (ip netns), nft, and `make build` (for the reference apply from the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

require=0
[ "${1:-}" = "--require" ] && require=1
IMAGE=${TSFW_IMAGE:-localhost/tsfw:test}
build_args=()
[ -n "${NODE_IMAGE:-}" ] && build_args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")

skip() {
  echo "SKIP: $*" >&2
  [ "$require" = 1 ] && exit 1
  exit 0
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

engine=""
if command -v podman >/dev/null 2>&1 && podman info >/dev/null 2>&1; then
  engine=podman
elif command -v buildah >/dev/null 2>&1 && buildah info >/dev/null 2>&1; then
  engine=buildah
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  engine=docker
fi
[ -n "$engine" ] || skip "no container engine: podman, buildah or a reachable docker engine is needed to build the image"
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
[ -f dist/cli/main.js ] || fail "run \`make build\` first (the reference apply uses the checkout)"

echo "== building $IMAGE with $engine"
build_log=$(mktemp)
case $engine in
  podman | docker) build=("$engine" build "${build_args[@]}" -t "$IMAGE" .) ;;
  buildah) build=(buildah bud "${build_args[@]}" -t "$IMAGE" .) ;;
esac
if ! "${build[@]}" 2>&1 | tee "$build_log"; then
  if grep -qiE 'pull|manifest|registry|resolv|dial tcp|no such host|name unknown' "$build_log"; then
    skip "the base image cannot be pulled (no container registry reachable); see $build_log"
  fi
  fail "image build failed; see $build_log"
fi

suffix=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
ns="tsfwimg-$suffix"
ref="tsfwimgref-$suffix"
cfg=$(mktemp -d)
ctr=""
cleanup() {
  if [ -n "$ctr" ]; then
    case $engine in
      buildah) buildah rm "$ctr" >/dev/null 2>&1 || true ;;
      *) "$engine" rm -f "$ctr" >/dev/null 2>&1 || true ;;
    esac
  fi
  for n in "$ns" "$ref"; do
    pids=$(ip netns pids "$n" 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  rm -rf "$cfg"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns add "$ref"
for n in "$ns" "$ref"; do
  ip netns exec "$n" sh -c 'ip link set lo up && ip link add tailscale0 type veth peer name tsfw-peer0 && ip link set tailscale0 up && ip link set tsfw-peer0 up'
done
# A fast schedule so the daemon check below does not wait long.
printf 'reconcile:\n  schedule: "*/1 * * * * *"\n' >"$cfg/config.yaml"
caps=(--cap-add NET_ADMIN --cap-add NET_RAW)

# Runs `tsfw ARGS` from the image inside $ns (foreground, removed afterwards).
in_image() {
  case $engine in
    podman) ip netns exec "$ns" podman run --rm --network host "${caps[@]}" -v "$cfg:/etc/tsfw" "$IMAGE" "$@" ;;
    buildah)
      local c rc=0
      c=$(buildah from "$IMAGE")
      ip netns exec "$ns" buildah run --network host "${caps[@]}" -v "$cfg:/etc/tsfw" "$c" -- tsfw "$@" || rc=$?
      buildah rm "$c" >/dev/null
      return $rc
      ;;
    docker)
      docker run --rm "${caps[@]}" --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
        -v /run/netns:/run/netns:ro -v "$cfg:/etc/tsfw" --entrypoint nsenter "$IMAGE" \
        "--net=/run/netns/$ns" -- tsfw "$@"
      ;;
  esac
}
netns_inode() { ip netns exec "$1" stat -L -c %i /proc/self/ns/net; }

echo "== image contents"
# Runs a shell command in the image, outside any namespace trick (no network, no caps).
image_sh() {
  case $engine in
    podman | docker) "$engine" run --rm --network none --entrypoint sh "$IMAGE" -c "$1" ;;
    buildah)
      local c rc=0
      c=$(buildah from "$IMAGE")
      buildah run --network none "$c" -- sh -c "$1" || rc=$?
      buildah rm "$c" >/dev/null
      return $rc
      ;;
  esac
}
in_image --version
for unwanted in /opt/tsfw/node_modules/typescript /opt/tsfw/node_modules/vitest /opt/tsfw/node_modules/esbuild \
  /opt/tsfw/src /opt/tsfw/test /opt/tsfw/dist/backends/fake; do
  [ "$(image_sh "test -e $unwanted && echo present || echo absent")" = absent ] || fail "$unwanted is in the image"
done
for tool in gcc make g++; do
  [ "$(image_sh "command -v $tool || echo absent")" = absent ] || fail "build tool $tool is in the image"
done
for tool in nft iptables iptables-legacy ip6tables; do
  image_sh "command -v $tool" >/dev/null || fail "$tool is missing from the image"
done

echo "== the container runs in the test namespace"
want=$(netns_inode "$ns")
got=$(case $engine in
  podman) ip netns exec "$ns" podman run --rm --network host --entrypoint stat "$IMAGE" -L -c %i /proc/self/ns/net ;;
  buildah) c=$(buildah from "$IMAGE"); ip netns exec "$ns" buildah run --network host "$c" -- stat -L -c %i /proc/self/ns/net; buildah rm "$c" >/dev/null ;;
  docker) docker run --rm --cap-add SYS_ADMIN --security-opt seccomp=unconfined -v /run/netns:/run/netns:ro --entrypoint nsenter "$IMAGE" "--net=/run/netns/$ns" -- stat -L -c %i /proc/self/ns/net ;;
esac)
[ "$got" = "$want" ] || fail "container netns $got is not the test namespace $want: refusing to apply"

echo "== tsfw apply from the image"
in_image apply
image_table=$(ip netns exec "$ns" nft -s list table inet tsfw) || fail "no table inet tsfw after the image's apply"
ip netns exec "$ref" node bin/tsfw apply -c "$cfg/config.yaml" --no-save >/dev/null
ref_table=$(ip netns exec "$ref" nft -s list table inet tsfw)
[ "$image_table" = "$ref_table" ] || fail "image's table differs from the checkout's: $(diff <(echo "$image_table") <(echo "$ref_table"))"
echo "ok: image applied the same table as the checkout"

echo "== default command (daemon) repairs a flushed ruleset"
ip netns exec "$ns" nft flush ruleset
case $engine in
  podman) ctr=$(ip netns exec "$ns" podman run -d --network host "${caps[@]}" -v "$cfg:/etc/tsfw" "$IMAGE") ;;
  docker) ctr=$(docker run -d "${caps[@]}" --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
            -v /run/netns:/run/netns:ro -v "$cfg:/etc/tsfw" --entrypoint nsenter "$IMAGE" "--net=/run/netns/$ns" -- tsfw daemon) ;;
  buildah)
    ctr=$(buildah from "$IMAGE")
    ip netns exec "$ns" buildah run --network host "${caps[@]}" -v "$cfg:/etc/tsfw" "$ctr" -- tsfw daemon &
    ;;
esac
repaired=0
for _ in $(seq 1 50); do
  if [ "$(ip netns exec "$ns" nft -s list table inet tsfw 2>/dev/null)" = "$ref_table" ]; then repaired=1; break; fi
  sleep 0.2
done
[ "$repaired" = 1 ] || fail "the daemon did not restore the table within 10 s"
echo "ok: the image's daemon restored the table"
echo "PASS: image $IMAGE built with $engine and applied the ruleset inside namespace $ns"
