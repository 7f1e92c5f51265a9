#!/bin/bash
# vm/run.sh SCRIPT [FILE...]: boot a throw-away VM with real, delegated
# cgroup v2 and run SCRIPT there as uid 1000; print its output and exit
# with its status. This host's cgroups are hybrid and must not be touched,
# so rl's limits are tested here (issue 6).
#
# The VM: qemu under TCG (no /dev/kvm needed), Debian's 6.1 kernel (see
# vm/setup.sh), an initramfs with busybox-static, the static rl binary
# ($RL), a busybox root file system for `rl run --rootfs /rootfs`, and the
# FILEs (in /files). Its init (below) mounts cgroup2 with nsdelegate,
# enables the memory, pids, cpu, io and cpuset controllers for /user and hands
# /user to uid 1000 as systemd's Delegate= does (chown of the directory,
# cgroup.procs, cgroup.threads and cgroup.subtree_control), moves itself
# there and runs SCRIPT as uid 1000. Before that it runs `SCRIPT job` as
# uid 1000 in a root-owned cgroup (as inside a Slurm job), where limits
# cannot hold. Output comes back on a second serial
# line; the first carries the kernel's console (shown on failure).
#
# VM_SYSTEMD=1 boots Debian 12 with systemd instead (vm/systemd-root.sh
# builds it once): init copies that tree to a tmpfs and hands over to
# systemd, which starts user@1000.service for the lingering user `user`
# (its cgroup subtree delegated by systemd itself) and then the unit
# rl-test.service, which runs SCRIPT as uid 1000 from a root-owned cgroup
# (/system.slice/rl-test.service). SCRIPT gets into the user's delegated
# subtree with systemd-run --user --scope.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${RL_TEST_CACHE:-/var/tmp/rl-test-cache}/vm
RL=${RL:?set RL to a static rl binary}
script=${1:?usage: run.sh SCRIPT [FILE...]}
shift
kernel=$CACHE/vmlinuz
[ -f "$kernel" ] || { echo "vm: no kernel at $kernel (run testdata/vm/setup.sh)" >&2; exit 1; }
if [ -n "${VM_SYSTEMD:-}" ] && [ ! -f "$CACHE/systemd.cpio" ]; then
	echo "vm: no systemd root file system at $CACHE/systemd.cpio (run testdata/vm/setup.sh as root)" >&2
	exit 1
fi
command -v qemu-system-x86_64 >/dev/null || { echo "vm: qemu-system-x86_64 is not installed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,files,home/user,rootfs}
cp /bin/busybox "$root/bin/busybox"
cp "$RL" "$root/bin/rl"
mkdir -p "$root/lib"
if [ -f "$CACHE/brd.ko" ]; then cp "$CACHE/brd.ko" "$root/lib/"; fi
cp "$script" "$root/test.sh"
for f in "$@"; do cp "$f" "$root/files/"; done
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' >"$root/etc/group"
# The container's root file system: busybox and its applets.
r=$root/rootfs
mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root,home/user}
cp /bin/busybox "$r/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
cp "$root/etc/passwd" "$root/etc/group" "$r/etc/"
# watchdog.sh POWEROFF...: if SCRIPT has not finished in time (rl_watchdog=
# on the kernel's command line, in seconds), show what every process waits
# for and end the VM with status 124, by POWEROFF (busybox's or systemd's).
cat >"$root/watchdog.sh" <<'WATCHDOG'
w=$(sed -n 's/.*rl_watchdog=\([0-9]*\).*/\1/p' /proc/cmdline)
sleep "${w:-240}"
echo "vm: watchdog: the script did not finish in ${w:-240}s; processes:"
for p in /proc/[0-9]*; do
	[ -n "$(tr -d '\0' <$p/cmdline 2>/dev/null)" ] || continue # kernel threads
	echo "${p#/proc/} $(cat $p/comm) $(grep State $p/status | tr -s '\t ' ' ') $(cat $p/cgroup) kernel stack: $(cut -d' ' -f2 $p/stack 2>/dev/null | head -4 | tr '\n' ' ')"
done
echo "vm-exit-status 124"
"$@"
WATCHDOG
# For VM_SYSTEMD: the unit that runs SCRIPT, and its runner.
cat >"$root/rl-test.service" <<'UNIT'
[Unit]
Description=rl's VM test
Wants=user@1000.service
After=user@1000.service

[Service]
Type=oneshot
ExecStart=/bin/sh /rltest/unit.sh
UNIT
cat >"$root/unit.sh" <<'RUNNER'
exec >/dev/ttyS1 2>&1
sh /rltest/watchdog.sh systemctl poweroff --force --force &
i=0
until systemctl is-active -q user@1000.service; do
	i=$((i + 1))
	if [ $i -gt 240 ]; then
		echo "vm: user@1000.service is not active: $(systemctl is-active user@1000.service)"
		break
	fi
	sleep 0.5
done
cd /home/user
runuser -u user -- env HOME=/home/user USER=user XDG_RUNTIME_DIR=/run/user/1000 \
	DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus PATH=/usr/local/bin:/usr/bin:/bin \
	sh /rltest/test.sh
echo "vm-exit-status $?"
sync
systemctl poweroff --force --force
RUNNER
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
export PATH=/bin
if [ -d /sysroot ]; then
	# VM_SYSTEMD: Debian with systemd on a tmpfs, the test as a unit.
	/bin/busybox mkdir -p /newroot
	/bin/busybox mount -t tmpfs -o mode=0755 root /newroot
	/bin/busybox cp -a /sysroot/. /newroot/
	/bin/busybox mkdir -p /newroot/rltest /newroot/usr/local/bin
	/bin/busybox cp /bin/rl /newroot/usr/local/bin/rl
	/bin/busybox cp -a /test.sh /unit.sh /watchdog.sh /files /rootfs /newroot/rltest/
	/bin/busybox chown -R 0:0 /newroot/usr/local/bin/rl /newroot/rltest
	/bin/busybox chown -R 1000:1000 /newroot/rltest/rootfs
	/bin/busybox cp /rl-test.service /newroot/etc/systemd/system/
	if ! /bin/busybox ln -s /etc/systemd/system/rl-test.service /newroot/etc/systemd/system/multi-user.target.wants/rl-test.service; then
		echo "vm: cannot enable rl-test.service" >/dev/ttyS1
		/bin/busybox poweroff -f
	fi
	exec /bin/busybox switch_root /newroot /lib/systemd/systemd
fi
if [ "$1" != stage2 ]; then
	# pivot_root(2) refuses the initramfs's rootfs (EINVAL), as on any host
	# booted without a real root: move everything to a tmpfs and start over.
	/bin/busybox mkdir -p /newroot
	/bin/busybox mount -t tmpfs -o mode=0755 root /newroot
	for d in bin etc files home lib rootfs init test.sh watchdog.sh; do /bin/busybox cp -a /$d /newroot/; done
	/bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp
	exec /bin/busybox switch_root /newroot /init stage2
fi
/bin/busybox --install -s /bin
# The archive's files belong to whoever built it.
chown -R 0:0 /bin /etc /init /test.sh /watchdog.sh /files /lib
chown -R 1000:1000 /home/user /rootfs
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmp /tmp
# /dev/ram0, 16 MiB, readable by the user: a block device for io.max.
if [ -f /lib/brd.ko ]; then insmod /lib/brd.ko rd_nr=1 rd_size=16384 && chmod 0666 /dev/ram0; fi
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
echo "+memory +pids +cpu +io +cpuset" >/sys/fs/cgroup/cgroup.subtree_control
mkdir /sys/fs/cgroup/user
for f in . cgroup.procs cgroup.threads cgroup.subtree_control; do chown 1000:1000 /sys/fs/cgroup/user/$f; done
# The watchdog (watchdog.sh) ends the VM with status 124 if SCRIPT hangs.
sh /watchdog.sh poweroff -f >/dev/ttyS1 2>&1 &
# A root-owned cgroup, as a Slurm job's: SCRIPT runs there first, with
# the argument "job", as the same user.
mkdir /sys/fs/cgroup/job
cd /home/user
sh -c 'echo $$ >/sys/fs/cgroup/job/cgroup.procs; exec su -s /bin/sh user -c "export HOME=/home/user PATH=/bin; sh /test.sh job"' >/dev/ttyS1 2>&1
echo $$ >/sys/fs/cgroup/user/cgroup.procs
ip link set lo up 2>/dev/null
su -s /bin/sh user -c 'export HOME=/home/user PATH=/bin; sh /test.sh' >/dev/ttyS1 2>&1
echo "vm-exit-status $?" >/dev/ttyS1
sync
poweroff -f
INIT
chmod 0755 "$root/init"
(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) >"$tmp/initrd"
mem=${VM_MEM:-1024}
if [ -n "${VM_SYSTEMD:-}" ]; then
	# The kernel unpacks concatenated archives one after the other.
	cat "$CACHE/systemd.cpio" >>"$tmp/initrd"
	mem=${VM_MEM:-2048}
fi

# -smp 2: TCG runs one host thread per vCPU. tsc_early_khz avoids the
# TSC calibration that sometimes hangs an emulated boot.
khz=$(awk -F: '/cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
set +e
timeout "${VM_TIMEOUT:-600}" qemu-system-x86_64 -nodefaults -display none -no-reboot \
	-m "$mem" -smp "${VM_SMP:-2}" -cpu "${VM_CPU:-max}" \
	-kernel "$kernel" -initrd "$tmp/initrd" \
	-append "console=ttyS0 panic=-1 quiet tsc_early_khz=$khz rl_watchdog=$(( ${VM_TIMEOUT:-600} * 3 / 4 )) ${VM_APPEND:-}" \
	-serial "file:$tmp/console" -serial "file:$tmp/out" </dev/null
qrc=$?
set -e
if ! grep -q '^vm-exit-status ' "$tmp/out" 2>/dev/null; then
	echo "vm: the VM did not finish its script (qemu status $qrc); its output:" >&2
	tr -d '\r' <"$tmp/out" >&2 || true
	echo "vm: its console:" >&2
	tail -20 "$tmp/console" >&2
	exit 1
fi
sed '/^vm-exit-status /d' "$tmp/out" | tr -d '\r'
exit "$(tr -d '\r' <"$tmp/out" | awk '/^vm-exit-status / { print $2 }')"
