#!/bin/bash
# fixtures.sh: build the test images offline and push them to the local
# registry with skopeo, a client rl did not write. Needs the registry
# (registry.sh start). The Debian image is built once with debootstrap from
# the Debian mirror apt already uses, and cached.
#   busybox: $RL_TEST_REGISTRY/busybox:latest   (also an OCI layout in $CACHE/busybox)
#   debian:  $RL_TEST_REGISTRY/debian:12        (when RL_TEST_DEBIAN != 0)
#   many:    $CACHE/many-oci.tar (72 layers), hostile and corrupt archives
set -euo pipefail
cd "$(dirname "$0")/.."
ADDR=${RL_TEST_REGISTRY:-127.0.0.1:5000}
CACHE=${RL_TEST_CACHE:-/var/tmp/rl-test-cache}
mkdir -p "$CACHE"
chmod 0755 "$CACHE"

CGO_ENABLED=0 go build -o "$CACHE/mkimage" ./testdata/mkimage
rm -rf "$CACHE/busybox"
"$CACHE/mkimage" -busybox /bin/busybox -o "$CACHE/busybox"
rm -f "$CACHE/busybox.tar"
skopeo copy -q "oci:$CACHE/busybox:latest" "docker-archive:$CACHE/busybox.tar:localhost/busybox:latest"
chmod -R a+rX "$CACHE/busybox" "$CACHE/busybox.tar"
# Fault fixtures: an OCI archive with a hostile layer, one with a blob that
# does not match its digest.
for kind in hostile corrupt; do
	rm -rf "$CACHE/$kind"
	"$CACHE/mkimage" -busybox /bin/busybox -"$kind" -o "$CACHE/$kind"
	tar -C "$CACHE/$kind" -cf "$CACHE/$kind-oci.tar" .
	chmod a+r "$CACHE/$kind-oci.tar"
done
# An image of 72 layers: more than fit in one native overlay mount's
# options (a page) by path, so rl names them by their short links.
rm -rf "$CACHE/many"
"$CACHE/mkimage" -busybox /bin/busybox -layers 70 -o "$CACHE/many"
tar -C "$CACHE/many" -cf "$CACHE/many-oci.tar" .
chmod a+r "$CACHE/many-oci.tar"
if [ "${1:-}" = --no-push ]; then
	exit 0
fi
skopeo copy -q --dest-tls-verify=false "oci:$CACHE/busybox:latest" "docker://$ADDR/busybox:latest"
# The same as a docker schema1 image (registry.sh enables schema1; the
# conversion needs the config's history, which mkimage writes).
skopeo copy -q --dest-tls-verify=false --format v2s1 "oci:$CACHE/busybox:latest" "docker://$ADDR/schema1:latest"
# Faults through a registry: the hostile image, and a small image whose
# layer blob the registry serves damaged (changed in its storage, under
# the same digest; distribution does not check blobs it serves).
skopeo copy -q --dest-tls-verify=false "oci-archive:$CACHE/hostile-oci.tar" "docker://$ADDR/hostile:latest"
tmp=$(mktemp -d)
mkdir "$tmp/root"
head -c 65536 /dev/urandom >"$tmp/root/noise" # incompressible: the damage lands in deflate data
tar --numeric-owner --mtime=@1700000000 -C "$tmp/root" -cf "$tmp/rootfs.tar" .
"$CACHE/mkimage" -rootfs-tar "$tmp/rootfs.tar" -o "$tmp/oci"
skopeo copy -q --dest-tls-verify=false "oci:$tmp/oci" "docker://$ADDR/damaged:latest"
blob=$(skopeo inspect --tls-verify=false --raw "docker://$ADDR/damaged:latest" | jq -r '.layers[0].digest')
data=${RL_REGISTRY_STATE:-/tmp/rl-test-registry}/open/data/docker/registry/v2/blobs/sha256/${blob:7:2}/${blob#sha256:}/data
printf 'DAMAGE' | dd of="$data" bs=1 seek=30000 conv=notrunc status=none
rm -rf "$tmp"
# The registry with htpasswd auth (registry.sh), for login and bad credentials.
AUTH_ADDR=${RL_TEST_AUTH_REGISTRY:-127.0.0.1:5001}
skopeo copy -q --dest-tls-verify=false --dest-creds rltest:rltest-secret "oci:$CACHE/busybox:latest" "docker://$AUTH_ADDR/private/busybox:latest"

if [ "${RL_TEST_DEBIAN:-1}" != 0 ]; then
	if [ ! -f "$CACHE/debian.tar" ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "fixtures: the Debian image needs root once (debootstrap); skipping it" >&2
		else
			# The mirror apt already uses (the only one reachable in CI).
			mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
				grep -E '^(deb |URIs:)' | grep -oE 'https?://[^ ]+' | grep -v security | head -1 || true)
			mirror=${mirror:-http://deb.debian.org/debian}
			root=$(mktemp -d)
			debootstrap --variant=minbase bookworm "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1
			rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
			tar --numeric-owner --sort=name --mtime=@1700000000 -C "$root" -cf "$CACHE/debian.tar.tmp" .
			rm -rf "$root"
			mv "$CACHE/debian.tar.tmp" "$CACHE/debian.tar"
		fi
	fi
	if [ -f "$CACHE/debian.tar" ]; then
		if [ ! -d "$CACHE/debian" ]; then
			"$CACHE/mkimage" -rootfs-tar "$CACHE/debian.tar" -o "$CACHE/debian.tmp"
			mv "$CACHE/debian.tmp" "$CACHE/debian"
		fi
		skopeo copy -q --dest-tls-verify=false "oci:$CACHE/debian:latest" "docker://$ADDR/debian:12"
		chmod -R a+rX "$CACHE/debian"
	fi
fi
