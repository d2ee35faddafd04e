#!/usr/bin/env bash
# make demo: tsfw's main job in a throwaway namespace router, proven with real packets.
#
#   peer (tailnet)                 router                         lan host
#   eth0 100.100.0.2 ──── tailscale0 100.100.0.1   lan0 192.0.2.1 ──── eth0 192.0.2.2 (+ 100.100.0.99 spoofed)
#                                  wan0 198.51.100.1 ──── eth0 198.51.100.2  wan host
#
# Same shape as test/helpers/topology.ts. Only 100.64.0.0/10 and documentation addresses, only
# inside namespaces created here (random names), all removed on exit, even on failure. The host's
# own ruleset is never touched: every nft call runs inside the router namespace.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then exec sudo -E "$0" "$@"; fi
  echo "demo: needs root to create network namespaces" >&2
  exit 1
fi
NODE="$(command -v node)"
TSFW=("$NODE" "$ROOT/bin/tsfw")

SUFFIX="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
R="tsfwdemo-r-$SUFFIX" P="tsfwdemo-p-$SUFFIX" L="tsfwdemo-l-$SUFFIX" W="tsfwdemo-w-$SUFFIX"
WORK="$(mktemp -d /tmp/tsfw-demo.XXXXXX)"
# tsfw's lock, state and memos go to the demo's own run directory (removed with WORK), not to the
# host's /run/tsfw, which belongs to a tsfw the host itself may run.
export TSFW_RUN_DIR="$WORK/run"
FAILED=0

cleanup() {
  for ns in "$R" "$P" "$L" "$W"; do
    if ip netns list | grep -qw -- "$ns"; then
      pids="$(ip netns pids "$ns" 2>/dev/null || true)"
      [[ -n $pids ]] && kill -9 $pids 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# IPv6 addresses skip duplicate address detection, so they are usable at once.
dad_off() { [[ $1 == *:* ]] && echo nodad || true; }
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
if [[ -t 1 ]]; then BOLD=$'\033[1m' GREEN=$'\033[32m' RED=$'\033[31m' PLAIN=$'\033[0m'; else BOLD='' GREEN='' RED='' PLAIN=''; fi
say() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }

# link NS_A IF_A ADDR_A... -- NS_B IF_B ADDR_B...: a veth pair created inside the two namespaces
# (never in the host's own), brought up and addressed there.
link() {
  local a="$1" aif="$2" b="$4" bif="$5"
  ip link add "$aif" netns "$a" type veth peer name "$bif" netns "$b"
  in_ns "$a" ip link set "$aif" up
  in_ns "$b" ip link set "$bif" up
  for addr in $3; do in_ns "$a" ip addr add "$addr" dev "$aif" $(dad_off "$addr"); done
  for addr in $6; do in_ns "$b" ip addr add "$addr" dev "$bif" $(dad_off "$addr"); done
}

say "building namespace router ($R) with tailscale0, lan0, wan0"
for ns in "$R" "$P" "$L" "$W"; do ip netns add "$ns"; in_ns "$ns" ip link set lo up; done
link "$R" tailscale0 "100.100.0.1/24 2001:db8:100::1/64" "$P" eth0 "100.100.0.2/24 2001:db8:100::2/64"
link "$R" lan0 "192.0.2.1/24 2001:db8:1::1/64" "$L" eth0 "192.0.2.2/24 2001:db8:1::2/64"
link "$R" wan0 "198.51.100.1/24 2001:db8:2::1/64" "$W" eth0 "198.51.100.2/24 2001:db8:2::2/64"
in_ns "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
for key in all default tailscale0 lan0 wan0; do in_ns "$R" sysctl -qw "net.ipv4.conf.$key.rp_filter=0"; done
in_ns "$P" ip route add default via 100.100.0.1
in_ns "$L" ip addr add 100.100.0.99/32 dev eth0   # the spoofed CGNAT source, on the LAN link
in_ns "$L" ip route add default via 192.0.2.1
in_ns "$W" ip route add default via 198.51.100.1

# A UDP listener that prints the source address of the first datagram it gets (or nothing).
LISTENER='
const s = require("node:dgram").createSocket("udp4");
s.on("message", (_m, r) => { console.log(r.address); process.exit(0); });
s.bind(Number(process.argv[1]), () => { console.log("ready"); setTimeout(() => process.exit(0), 1000); });'
# A UDP sender bound to a chosen source address (how the spoof is staged).
SENDER='
const [src, dst, port] = process.argv.slice(1);
const s = require("node:dgram").createSocket("udp4");
s.bind({ address: src }, () => s.send("tsfw-demo", Number(port), dst, (e) => { s.close(); if (e) { console.error(e.message); process.exit(1); } }));'

PORT=7000
# probe SENDER_NS SRC RECEIVER_NS DST: prints the source address the receiver saw, or nothing.
probe() {
  local out="$WORK/probe-$PORT" pid
  in_ns "$3" "$NODE" -e "$LISTENER" "$PORT" >"$out" &
  pid=$!
  for _ in $(seq 250); do grep -q ready "$out" && break; sleep 0.02; done
  grep -q ready "$out" || { echo "demo: UDP listener in $3 did not start" >&2; return 1; }
  in_ns "$1" "$NODE" -e "$SENDER" "$2" "$4" "$PORT"
  wait "$pid" || true
  PORT=$((PORT + 1))
  grep -v ready "$out" || true
}

# check WHAT "dropped"|SOURCE SENDER_NS SRC RECEIVER_NS DST
check() {
  local what="$1" want="$2" got
  got="$(probe "$3" "$4" "$5" "$6")"
  local shown="${got:-nothing arrived}"
  if [[ $want == dropped && -z $got ]] || [[ $want != dropped && $got == "$want" ]]; then
    printf '  %sPASS%s %-64s (%s)\n' "$GREEN" "$PLAIN" "$what" "$shown"
  else
    printf '  %sFAIL%s %-64s expected %s, got: %s\n' "$RED" "$PLAIN" "$what" "$want" "$shown"
    FAILED=1
  fi
}

say "without tsfw: nothing filters, so the spoofed CGNAT source gets in"
check "lan0, spoofed 100.100.0.99 -> router 192.0.2.1: arrives" 100.100.0.99 "$L" 100.100.0.99 "$R" 192.0.2.1

CONFIG="$WORK/config.yaml"
printf 'backend: nftables\n' >"$CONFIG"
say "tsfw apply --mode on -c $CONFIG   (inside $R)"
in_ns "$R" "${TSFW[@]}" apply --mode on -c "$CONFIG"

say "tsfw status"
in_ns "$R" "${TSFW[@]}" status -c "$CONFIG"

say "real packets through the router in mode on"
check "lan0, spoofed 100.100.0.99 -> router 192.0.2.1: dropped" dropped "$L" 100.100.0.99 "$R" 192.0.2.1
check "lan0, spoofed 100.100.0.99 -> tailnet 100.100.0.2: dropped" dropped "$L" 100.100.0.99 "$P" 100.100.0.2
check "tailscale0, 100.100.0.2 -> router 100.100.0.1: accepted" 100.100.0.2 "$P" 100.100.0.2 "$R" 100.100.0.1
check "tailscale0, 100.100.0.2 -> LAN 192.0.2.2: forwarded, masqueraded" 192.0.2.1 "$P" 100.100.0.2 "$L" 192.0.2.2
check "lan0, 192.0.2.2 -> tailnet 100.100.0.2: forwarded" 192.0.2.2 "$L" 192.0.2.2 "$P" 100.100.0.2

say "packet counters of the anti-spoof rules"
in_ns "$R" "${TSFW[@]}" status -c "$CONFIG" | grep -E 'cgnat-(spoof|to-tunnel)'

say "tsfw apply --mode off: tsfw removes its table; the spoof gets in again"
in_ns "$R" "${TSFW[@]}" apply --mode off -c "$CONFIG"
check "lan0, spoofed 100.100.0.99 -> router 192.0.2.1: arrives" 100.100.0.99 "$L" 100.100.0.99 "$R" 192.0.2.1

if [[ $FAILED -ne 0 ]]; then
  say "demo FAILED: see the FAIL lines above"
  exit 1
fi
say "demo passed; removing namespaces"
