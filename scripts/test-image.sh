#!/usr/bin/env bash
# Builds the tsfw image from the Dockerfile with buildah and proves it in throwaway network
# namespaces (`make image-test`, part of `make test`). The host's own ruleset is never touched:
# the script compares the host's ruleset and interfaces before and after, and fails on a change.
#
# 1. Base image: scripts/node-image-standin.sh makes sure the Dockerfile's base is in buildah's
#    storage (present, pulled, or a local stand-in built from Debian 12 + Node from the npm
#    registry when no container registry is reachable); the build then runs with --pull=never.
# 2. Build (docker format, so the HEALTHCHECK is kept), then check the contents: no node_modules,
#    sources, tests or build tools; nft and iptables present.
# 3. Size: what the image adds to its base (the sizes of its own layers) is printed and must be at
#    most $TSFW_IMAGE_MAX_MB (default 60).
# 4. In a namespace with host networking and NET_ADMIN + NET_RAW only: `tsfw apply` from the image
#    writes the same table as the checkout's own `tsfw apply` in a second clean namespace, and a
#    spoofed CGNAT packet from a LAN peer, answered before the apply, is dropped after it (by the
#    cgnat-spoof rule, whose counter moves).
# 5. The image's default command (the daemon) restores the table after `nft flush ruleset`, and
#    its HEALTHCHECK command says healthy, then unhealthy once the daemon is frozen (SIGSTOP).
#
# Containers join the test namespace with `--network ns:/run/netns/NAME`: what `--network host`
# is on a real host (not `ip netns exec`, whose private /sys hides the cgroup mounts runc needs).
# Every run checks that the container's network namespace is the test's before anything is
# applied. Env: TSFW_IMAGE (tag, default localhost/tsfw:test), NODE_IMAGE (base image; default the
# Dockerfile's docker.io/library/node:22-bookworm-slim). Needs root, buildah, ip, nft, ping and
# `make build` (the reference apply runs from the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${TSFW_IMAGE:-localhost/tsfw:test}
BASE=${NODE_IMAGE:-docker.io/library/node:22-bookworm-slim}
MAX_MB=${TSFW_IMAGE_MAX_MB:-60}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, buildah)"
command -v buildah >/dev/null 2>&1 || fail "buildah is missing (make image-test installs it)"
[ -f dist/bundle/tsfw.cjs ] || fail "run \`make build\` first (the reference apply uses the checkout)"

# The host's own network namespace must come out as it went in: its ruleset (without counters)
# and its interfaces. buildah's defaults would change it (see the build and the health check).
host_state() { nft -s list ruleset; ip -o link show | awk -F': ' '{print $2}' | sort; }
host_before=$(host_state)

echo "== base image"
scripts/node-image-standin.sh "$BASE"
standin=$(buildah inspect --type image --format '{{index .Docker.Config.Labels "org.tsfw.standin"}}' "$BASE" 2>/dev/null || true)
[ "$standin" = true ] && echo "note: building against a local stand-in of $BASE, not the official image"

echo "== building $IMAGE"
previous=$(buildah images -q --no-trunc "$IMAGE" 2>/dev/null || true)
# --network host: the build's RUN steps (apt-get, npm ci) use the host's network as it is. buildah's
# default gives each RUN step a CNI bridge, which creates cni-podman0 and CNI-FORWARD/CNI-ADMIN
# chains in the host's own namespace and leaves them there.
buildah bud --pull=never --network host --format docker --build-arg "NODE_IMAGE=$BASE" -t "$IMAGE" . >/dev/null
# The previous build of this tag is garbage now: drop it, so repeated runs do not fill the storage.
[ -n "$previous" ] && [ "$previous" != "$(buildah images -q --no-trunc "$IMAGE")" ] && buildah rmi "$previous" >/dev/null 2>&1 || true

suffix=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
ns="tsfwimg-$suffix"
ref="tsfwimgref-$suffix"
peer="tsfwimgpeer-$suffix"
cfg=$(mktemp -d)
work=$(mktemp -d)
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -CONT "$daemon_pid" 2>/dev/null || true
  while read -r c; do buildah rm "$c" >/dev/null 2>&1 || true; done <"$work/containers"
  for n in "$ns" "$ref" "$peer"; do
    pids=$(ip netns pids "$n" 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  rm -rf "$cfg" "$work"
}
trap cleanup EXIT
: >"$work/containers"
# A new working container of the image, recorded so that cleanup removes it whatever happens.
new_ctr() { buildah from -q --pull=never "$IMAGE" | tee -a "$work/containers"; }

# Runs a command in a fresh container of the image: image_run OPTIONS... CTR -- COMMAND... (CTR is
# replaced by the container's name).
image_run() {
  local c rc=0 args=()
  c=$(new_ctr)
  for a in "$@"; do [ "$a" = CTR ] && args+=("$c") || args+=("$a"); done
  buildah run "${args[@]}" || rc=$?
  buildah rm "$c" >/dev/null
  return $rc
}
image_sh() { image_run --network none CTR -- sh -c "$1"; }

echo "== image contents"
image_run --network none CTR -- tsfw --version
for unwanted in /opt/tsfw/node_modules /opt/tsfw/src /opt/tsfw/test /opt/tsfw/dist/cli /opt/tsfw/dist/backends /root/.npm; do
  [ "$(image_sh "test -e $unwanted && echo present || echo absent")" = absent ] || fail "$unwanted is in the image"
done
for tool in gcc make g++ tsc; do
  [ "$(image_sh "command -v $tool || echo absent")" = absent ] || fail "build tool $tool is in the image"
done
for tool in nft iptables iptables-legacy ip6tables ip; do
  image_sh "command -v $tool" >/dev/null || fail "$tool is missing from the image"
done
health=$(buildah inspect --type image --format '{{.Docker.Config.Healthcheck.Test}}' "$IMAGE")
[ "$health" = "[CMD env -u NODE_OPTIONS tsfw health]" ] || fail "HEALTHCHECK is '$health', not tsfw health without the daemon's NODE_OPTIONS"
# The daemon's heap setting is the unit's (systemd/tsfw.service).
unit_opts=$(sed -n -E 's/^Environment="?NODE_OPTIONS=([^"]*)"?$/\1/p' systemd/tsfw.service)
unit_tunables=$(sed -n -E 's/^Environment="?GLIBC_TUNABLES=([^"]*)"?$/\1/p' systemd/tsfw.service)
image_opts=$(image_sh 'printf %s "$NODE_OPTIONS"')
image_tunables=$(image_sh 'printf %s "$GLIBC_TUNABLES"')
[ -n "$unit_opts" ] && [ "$image_opts" = "$unit_opts" ] || fail "the image's NODE_OPTIONS '$image_opts' differ from the unit's '$unit_opts'"
[ -n "$unit_tunables" ] && [ "$image_tunables" = "$unit_tunables" ] || fail "the image's GLIBC_TUNABLES '$image_tunables' differ from the unit's '$unit_tunables'"

echo "== size over the base image"
added=$(node -e '
  const { readFileSync } = require("node:fs");
  const [graphRoot, image, base] = process.argv.slice(1).map((a, i) => (i === 0 ? a : JSON.parse(a)));
  const layers = JSON.parse(readFileSync(`${graphRoot}/overlay-layers/layers.json`, "utf8"));
  const size = new Map(layers.map((l) => [l["diff-digest"], l["diff-size"]]));
  const own = image.OCIv1.rootfs.diff_ids.filter((d) => !base.OCIv1.rootfs.diff_ids.includes(d));
  const missing = own.filter((d) => !size.has(d));
  if (missing.length) throw new Error(`no size for layer ${missing[0]}`);
  console.log(own.reduce((n, d) => n + size.get(d), 0));' \
  "$(buildah info --format '{{.store.GraphRoot}}')" "$(buildah inspect --type image "$IMAGE")" "$(buildah inspect --type image "$BASE")")
added_mb=$(( (added + 524288) / 1048576 ))
echo "image $IMAGE adds $added_mb MB ($added bytes) to $BASE"
[ "$added_mb" -le "$MAX_MB" ] || fail "the image adds $added_mb MB to its base, more than $MAX_MB MB"

echo "== namespaces"
ip netns add "$ns"
ip netns add "$ref"
ip netns add "$peer"
for n in "$ns" "$ref"; do
  ip netns exec "$n" sh -c 'ip link set lo up && ip link add tailscale0 type veth peer name tsfw-peer0 && ip link set tailscale0 up && ip link set tsfw-peer0 up'
done
# A LAN peer that can send from a spoofed tailnet (CGNAT) source; the router routes replies to it.
ip link add lan0 netns "$ns" type veth peer name lan0 netns "$peer"
ip netns exec "$ns" sh -c 'ip addr add 192.0.2.1/24 dev lan0 && ip link set lan0 up && ip route add 100.64.0.5/32 via 192.0.2.2'
ip netns exec "$peer" sh -c 'ip link set lo up && ip addr add 192.0.2.2/24 dev lan0 && ip addr add 100.64.0.5/32 dev lan0 && ip link set lan0 up'
spoofed_ping() { ip netns exec "$peer" ping -c 1 -W 1 -I 100.64.0.5 192.0.2.1 >/dev/null 2>&1; }
# A fast schedule so the daemon check below does not wait long.
printf 'reconcile:\n  schedule: "*/1 * * * * *"\n' >"$cfg/config.yaml"
caps=(--cap-add CAP_NET_ADMIN --cap-add CAP_NET_RAW)
netns_inode() { ip netns exec "$1" stat -L -c %i /proc/self/ns/net; }

echo "== the container runs in the test namespace"
want=$(netns_inode "$ns")
got=$(buildah run --network "ns:/run/netns/$ns" "$(new_ctr)" -- stat -L -c %i /proc/self/ns/net)
[ "$got" = "$want" ] || fail "container netns $got is not the test namespace $want: refusing to apply"

echo "== tsfw apply from the image"
spoofed_ping || fail "control: the spoofed ping should be answered before tsfw applies anything"
buildah run --network "ns:/run/netns/$ns" "${caps[@]}" -v "$cfg:/etc/tsfw" "$(new_ctr)" -- tsfw apply
image_table=$(ip netns exec "$ns" nft -s list table inet tsfw) || fail "no table inet tsfw after the image's apply"
# The reference apply runs on this host: its run directory goes to the scratch dir, not /run/tsfw.
mkdir -p -m 0700 "$work/run"
TSFW_RUN_DIR="$work/run" ip netns exec "$ref" node bin/tsfw apply -c "$cfg/config.yaml" --no-save >/dev/null
ref_table=$(ip netns exec "$ref" nft -s list table inet tsfw)
[ "$image_table" = "$ref_table" ] || fail "image's table differs from the checkout's: $(diff <(echo "$image_table") <(echo "$ref_table"))"
echo "ok: image applied the same table as the checkout"
spoof_count() { ip netns exec "$ns" nft list chain inet tsfw ts-input | sed -nE 's/.*counter packets ([0-9]+) .*tsfw:ts-input\/cgnat-spoof.*/\1/p'; }
before=$(spoof_count)
spoofed_ping && fail "a spoofed CGNAT packet from the LAN was answered after the apply"
after=$(spoof_count)
[ "$after" -gt "$before" ] || fail "the cgnat-spoof rule's counter did not move ($before → $after)"
echo "ok: spoofed 100.64.0.5 → 192.0.2.1 from the LAN dropped by ts-input/cgnat-spoof (counter $before → $after)"

echo "== default command (daemon) repairs a flushed ruleset; HEALTHCHECK follows it"
ip netns exec "$ns" nft flush ruleset
ctr=$(new_ctr)
# --pid host: the health check below runs in another container of the same rootfs (buildah has no
# exec) and must see the daemon's pid the way `docker exec` would. It joins the daemon's network
# namespace too, as `docker exec` does: buildah 1.28 given no network together with the host's pid
# namespace attaches the container to its CNI bridge instead, creating cni-podman0 and CNI chains
# in the host's own namespace.
buildah run --network "ns:/run/netns/$ns" --pid host "${caps[@]}" -v "$cfg:/etc/tsfw" "$ctr" -- tsfw daemon 2> >(tee "$work/daemon.log" >&2) &
daemon_job=$!
repaired=0
for _ in $(seq 1 100); do
  if [ "$(ip netns exec "$ns" nft -s list table inet tsfw 2>/dev/null)" = "$ref_table" ]; then repaired=1; break; fi
  sleep 0.2
done
[ "$repaired" = 1 ] || fail "the daemon did not restore the table within 20 s"
echo "ok: the image's daemon restored the table"
health() { buildah run --network "ns:/run/netns/$ns" --pid host "$ctr" -- env -u NODE_OPTIONS tsfw health "$@"; }
healthy=""
for _ in $(seq 1 50); do
  if healthy=$(health 2>&1); then break; fi
  healthy=""
  sleep 0.2
done
[ -n "$healthy" ] || fail "tsfw health never said healthy while the daemon ran: $(health 2>&1 || true)"
echo "ok: $healthy"
daemon_pid=$(buildah run --network "ns:/run/netns/$ns" --pid host "$ctr" -- node -e 'console.log(JSON.parse(require("fs").readFileSync("/run/tsfw/state.json","utf8")).pid)')
kill -STOP "$daemon_pid"
unhealthy=""
for _ in $(seq 1 50); do
  if out=$(health --max-age 3 2>&1); then sleep 0.2; else unhealthy=$out; break; fi
done
[ -n "$unhealthy" ] || fail "tsfw health still healthy 10 s after the daemon was frozen"
kill -CONT "$daemon_pid"
echo "ok: frozen daemon → $unhealthy"
daemon_env=$(tr '\0' '\n' < "/proc/$daemon_pid/environ" | sed -n 's/^NODE_OPTIONS=//p')
[ "$daemon_env" = "$unit_opts" ] || fail "the image's daemon runs with NODE_OPTIONS '$daemon_env', not the unit's '$unit_opts'"
echo "ok: the daemon runs with NODE_OPTIONS=$daemon_env"
kill -TERM "$daemon_pid"
wait "$daemon_job" || fail "the daemon did not exit 0 on SIGTERM"
daemon_pid=""
[ "$(ip netns exec "$ns" nft -s list table inet tsfw)" = "$ref_table" ] || fail "the table changed when the daemon stopped"
echo "ok: SIGTERM → the daemon exited 0, rules left in place"
# Every tool the daemon runs is in the image (the address monitor needs ip from iproute2).
! grep -E 'failed to execute|exitCode":127' "$work/daemon.log" || fail "the image's daemon could not run a tool (above)"
[ "$(host_state)" = "$host_before" ] || fail "the host's own namespace changed during the image test: $(diff <(echo "$host_before") <(host_state) | head -20)"
echo "ok: the host's own ruleset and interfaces are as before"
echo "PASS: image $IMAGE (adds $added_mb MB to $BASE) applied the ruleset inside namespace $ns and dropped a spoofed CGNAT packet"
