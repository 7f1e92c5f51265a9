#!/bin/bash
# vm/setup.sh: fetch the kernel of the cgroup v2 VM harness (vm/run.sh):
# Debian 12's own 6.1 kernel, downloaded as a package (apt-get download,
# no install) and unpacked into the test cache; then, as root, a Debian 12
# root file system with systemd (debootstrap) for VM_SYSTEMD=1, packed as
# a cpio archive under sysroot/. Quick when already done.
set -euo pipefail
CACHE=${RL_TEST_CACHE:-/var/tmp/rl-test-cache}/vm
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$CACHE"

kernel() {
	local tmp pkg
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	chmod 0755 "$tmp" # apt's _apt user downloads into it
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		echo "vm/setup.sh: no Debian kernel package found (apt-cache depends linux-image-amd64)" >&2
		return 1
	fi
	(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) || { echo "vm/setup.sh: apt-get download $pkg failed" >&2; return 1; }
	# The kernel, and brd.ko (a RAM disk: a block device for io.max tests).
	(cd "$tmp" && dpkg-deb --fsys-tarfile "$pkg"_*.deb | tar -x --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/block/brd.ko')
	cp "$tmp"/lib/modules/*/kernel/drivers/block/brd.ko "$CACHE/brd.ko"
	cp "$tmp"/boot/vmlinuz-* "$CACHE/vmlinuz.tmp"
	chmod 0644 "$CACHE/vmlinuz.tmp"
	echo "$pkg" >"$CACHE/kernel-package"
	mv "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"
	echo "vm: kernel from $pkg"
}

if [ ! -f "$CACHE/vmlinuz" ] || [ ! -f "$CACHE/brd.ko" ]; then
	kernel
fi
if [ ! -f "$CACHE/systemd.cpio" ]; then
	if [ "$(id -u)" = 0 ]; then
		"$here/systemd-root.sh" "$CACHE/systemd.cpio"
	else
		echo "vm/setup.sh: the systemd root file system needs root once (debootstrap); skipping it" >&2
	fi
fi
chmod -R a+rX "$CACHE" 2>/dev/null || true # files of another user stay as they are
