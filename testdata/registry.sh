#!/bin/bash
# registry.sh start|stop: Debian's docker-registry (distribution 2.8) on
# 127.0.0.1, no auth, storage in a scratch dir (the packaged config enables
# htpasswd auth, so rl's tests use their own), and a second one with
# htpasswd auth (user rltest, password rltest-secret) for login and
# credential errors. Images are pushed by fixtures.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE0=${RL_REGISTRY_STATE:-/tmp/rl-test-registry}

# serve NAME ADDR [HTPASSWD]: one registry instance.
serve() {
	local ADDR=$2 STATE=$STATE0/$1 auth=""
	local PIDFILE=$STATE/pid
	if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		return 0
	fi
	mkdir -p "$STATE/data"
	if [ -n "${3:-}" ]; then
		echo "$3" >"$STATE/htpasswd"
		auth="auth:
  htpasswd:
    realm: rl-test
    path: $STATE/htpasswd"
	fi
	cat >"$STATE/config.yml" <<CONF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STATE/data
  delete:
    enabled: true
http:
  addr: $ADDR
compatibility:
  schema1:
    enabled: true
$auth
CONF
	docker-registry serve "$STATE/config.yml" >"$STATE/log" 2>&1 &
	echo $! >"$PIDFILE"
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR#*:}") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "registry.sh: docker-registry did not listen on $ADDR; log:" >&2
	tail -5 "$STATE/log" >&2
	exit 1
}

case "${1:-}" in
start)
	serve open "${RL_TEST_REGISTRY:-127.0.0.1:5000}"
	CGO_ENABLED=0 go build -o "$STATE0/mkimage" ./testdata/mkimage
	serve auth "${RL_TEST_AUTH_REGISTRY:-127.0.0.1:5001}" "$("$STATE0/mkimage" -htpasswd rltest:rltest-secret)"
	;;
stop)
	for f in "$STATE0"/*/pid; do
		[ -f "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null || true
		rm -f "$f"
	done
	;;
*)
	echo "usage: registry.sh start|stop" >&2
	exit 2
	;;
esac
