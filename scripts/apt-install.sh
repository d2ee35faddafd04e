#!/usr/bin/env bash
# apt-get install for tsfw's build and test tools, never starting a service on this host: the
# firewall managers and dockerd the tests use run only inside the tests' own namespaces. Debian's
# maintainer scripts ask /usr/sbin/policy-rc.d whether they may start a service; exit 101 says no.
# An existing policy-rc.d (the admin's) is left as it is.
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by tsfw scripts/apt-install.sh for the length of one install\nexit 101\n' > "$policy"
  chmod 0755 "$policy"
  ours=1
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
[ -z "$ours" ] || echo "apt-install: services were not started (temporary $policy removed)"
