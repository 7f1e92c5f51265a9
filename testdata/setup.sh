#!/bin/bash
# setup.sh: everything the host needs for rl's demo, tests and benchmarks.
# Idempotent and quick when already done. As root it installs Debian
# packages, opens /dev/fuse and /dev/net/tun to users (Debian's default
# mode, 0666; some images ship 0600) and creates the unprivileged test user.
# As a normal user it only checks, and says what is missing.
set -euo pipefail

PACKAGES=(uidmap slirp4netns fuse-overlayfs docker-registry skopeo busybox-static
	debootstrap hyperfine podman runc charliecloud qemu-system-x86 iproute2 procps
	util-linux tini jq cpio)
TEST_USER=${RL_TEST_USER:-rltest}

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "$(id -u)" != 0 ]; then
	if [ ${#missing[@]} -gt 0 ]; then
		echo "setup: missing Debian packages: ${missing[*]} (run 'make test' as root once, or apt-get install them)" >&2
		[ "${CI:-}" = true ] && exit 1
	fi
	exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packaged registry service is not used: tests start their own on 127.0.0.1.
if command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
	systemctl stop docker-registry || true
fi

chmod 0666 /dev/fuse /dev/net/tun

if ! id "$TEST_USER" >/dev/null 2>&1; then
	useradd -m -s /bin/bash "$TEST_USER"
fi
# Debian's useradd adds subordinate ranges; make sure they are there.
grep -q "^$TEST_USER:" /etc/subuid || usermod --add-subuids 200000-265535 "$TEST_USER"
grep -q "^$TEST_USER:" /etc/subgid || usermod --add-subgids 200000-265535 "$TEST_USER"
# podman (only for comparisons) must use runc: crun refuses hybrid cgroups.
home=$(getent passwd "$TEST_USER" | cut -d: -f6)
mkdir -p "$home/.config/containers"
if [ ! -f "$home/.config/containers/containers.conf" ]; then
	printf '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$home/.config/containers/containers.conf"
fi
chown -R "$TEST_USER:" "$home/.config"
