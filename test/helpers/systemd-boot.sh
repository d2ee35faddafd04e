#!/usr/bin/env bash
# Boots a real systemd as PID 1 over a Debian root, in private pid/mount/net/uts/ipc/cgroup
# namespaces, so a test can drive the shipped unit the way a host would. Started (and ended) by
# test/helpers/systemd-host.ts, which documents the whole harness; nothing here touches the host's
# own namespaces: every mount below happens inside the new mount namespace.
#
#   systemd-boot.sh LOWER DIR CGROUP_DIR...
#
# LOWER       the cached Debian root (read-only lower layer of an overlay: the cache stays pristine)
# DIR         a fresh directory holding upper/ (the host's changes, prepared by the caller), work/, root/
# CGROUP_DIR  fresh child cgroups, one per hierarchy, made by the caller: this shell moves into them
#             before unsharing, so the new cgroup namespace is rooted there (systemd builds its tree
#             inside it and can map every notify message to its unit)
# TSFW_CGROUP_MOUNTS  lines "NAME FSTYPE OPTIONS": the hierarchies to mount afresh inside
set -euo pipefail

if [ "${1:-}" != --inside ]; then
  lower=$1 dir=$2
  shift 2
  for cg in "$@"; do echo $$ >"$cg/cgroup.procs"; done
  exec unshare --fork --pid --mount --uts --ipc --net --cgroup -- "$0" --inside "$lower" "$dir"
fi

lower=$2 dir=$3 root=$3/root
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$root"
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
# Kernel-wide settings stay the host's: /proc/sys and sysrq read-only (the net.* of this namespace too).
mount --bind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
if [ -e "$root/proc/sysrq-trigger" ]; then
  mount --bind "$root/proc/sysrq-trigger" "$root/proc/sysrq-trigger"
  mount -o remount,bind,ro "$root/proc/sysrq-trigger"
fi
mount --rbind /sys "$root/sys"
mount -o remount,bind,ro "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
# cgroups mounted afresh from inside the cgroup namespace: an rbind of the host's would show the
# host's root, where systemd cannot tell which unit a notify message belongs to.
mount -t tmpfs -o mode=755 tmpfs "$root/sys/fs/cgroup"
while read -r name fstype options; do
  [ -n "$name" ] || continue
  if [ "$name" = . ]; then
    umount "$root/sys/fs/cgroup"
    mount -t "$fstype" "$fstype" "$root/sys/fs/cgroup"
  else
    mkdir -p "$root/sys/fs/cgroup/$name"
    mount -t "$fstype" -o "$options" "$fstype" "$root/sys/fs/cgroup/$name"
  fi
done <<<"${TSFW_CGROUP_MOUNTS:-}"
# No console for the container: systemd would write its boot messages over the test's terminal.
mount --bind /dev/null "$root/dev/console"
exec env -i container=other "$(command -v chroot)" "$root" /lib/systemd/systemd
