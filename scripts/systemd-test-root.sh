#!/usr/bin/env bash
# The Debian 12 root that test/e2e/systemd-unit.test.ts boots systemd in (cached; see
# scripts/bookworm-root.sh): systemd as init, D-Bus, the firewall tools and Node 22. Prints its path.
exec "$(dirname "$0")/bookworm-root.sh" systemd-bookworm --node 22 systemd systemd-sysv dbus nftables iptables iproute2
