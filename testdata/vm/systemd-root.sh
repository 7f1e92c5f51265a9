#!/bin/bash
# vm/systemd-root.sh OUT: build the root file system of the systemd VM
# (run.sh with VM_SYSTEMD=1) with debootstrap, as root, once: Debian 12
# minbase plus systemd, dbus, the user session bits (libpam-systemd,
# dbus-user-session) and uidmap; the user `user` (uid 1000, with
# /etc/subuid ranges, as Debian's useradd makes them) with lingering, so
# that systemd starts user@1000.service at boot, whose cgroup subtree is
# delegated to the user (Delegate= in user@.service): the delegation HPC
# sites and desktops get from systemd. Written to OUT as a cpio archive
# whose files are under sysroot/.
set -euo pipefail
out=${1:?usage: systemd-root.sh OUT}
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -E '^(deb |URIs:)' | grep -oE 'https?://[^ ]+' | grep -v security | head -1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/sysroot
echo "vm: building the systemd root file system with debootstrap (once)" >&2
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,uidmap \
	bookworm "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
	tail -20 "$tmp/debootstrap.log" >&2
	exit 1
}
chroot "$root" useradd -m -u 1000 -s /bin/sh user
mkdir -p "$root/var/lib/systemd/linger"
touch "$root/var/lib/systemd/linger/user"
# A quiet, quick boot: no logins, no timers.
for u in getty@.service serial-getty@.service apt-daily.timer apt-daily-upgrade.timer \
	e2scrub_all.timer fstrim.timer systemd-tmpfiles-clean.timer; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
echo vm >"$root/etc/hostname"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
	"$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale "$root"/usr/share/info
(cd "$tmp" && find sysroot | cpio -o -H newc --quiet) >"$out.tmp"
chmod 0644 "$out.tmp"
mv "$out.tmp" "$out"
echo "vm: systemd root file system: $(du -h "$out" | cut -f1)" >&2
