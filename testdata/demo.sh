#!/bin/bash
# demo.sh: `make demo`. Set-up, build rl and a busybox image offline, then
# run a real container as an unprivileged user: no root, no daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
export RL_TEST_CACHE=${RL_TEST_CACHE:-/var/tmp/rl-test-cache}
testdata/setup.sh
make -s build
RL_TEST_DEBIAN=0 RL_TEST_REGISTRY=none testdata/fixtures.sh --no-push

if [ "$(id -u)" = 0 ]; then
	# Root proves nothing: run as the unprivileged test user, in a
	# directory of theirs.
	user=${RL_TEST_USER:-rltest}
	work=$(runuser -u "$user" -- mktemp -d /tmp/rl-demo.XXXXXX)
	install -m 0755 rl "$work/rl"
	as=(runuser -u "$user" -- env -i HOME="$(getent passwd "$user" | cut -d: -f6)" PATH=/usr/sbin:/usr/bin:/sbin:/bin)
else
	work=$PWD
	as=(env)
fi
cd "$work"
rl=$work/rl
[ -x "$rl" ] || rl=$OLDPWD/rl
set -x
"${as[@]}" "$rl" load -q -i "$RL_TEST_CACHE/busybox.tar"
"${as[@]}" "$rl" run --rm -v "$work":/src -e X=1 localhost/busybox:latest \
	sh -c 'echo "X=$X, uid inside: $(id -u)"; echo hello > /src/written-in-container'
set +x
ls -ln "$work/written-in-container"
echo "host owner: $(stat -c %U "$work/written-in-container")"
