#!/bin/bash
# registry.sh start|stop: Debian's docker-registry (distribution 2.8) on
# 127.0.0.1, no auth, storage in a scratch dir. The packaged config enables
# htpasswd auth, so rl's tests use this one. Images are pushed by fixtures.sh.
set -euo pipefail
ADDR=${RL_TEST_REGISTRY:-127.0.0.1:5000}
STATE=${RL_REGISTRY_STATE:-/tmp/rl-test-registry}
PIDFILE=$STATE/pid

case "${1:-}" in
start)
	if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		exit 0
	fi
	mkdir -p "$STATE/data"
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
CONF
	docker-registry serve "$STATE/config.yml" >"$STATE/log" 2>&1 &
	echo $! >"$PIDFILE"
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR#*:}") 2>/dev/null; then
			exit 0
		fi
		sleep 0.05
	done
	echo "registry.sh: docker-registry did not listen on $ADDR; log:" >&2
	tail -5 "$STATE/log" >&2
	exit 1
	;;
stop)
	if [ -f "$PIDFILE" ]; then
		kill "$(cat "$PIDFILE")" 2>/dev/null || true
		rm -f "$PIDFILE"
	fi
	;;
*)
	echo "usage: registry.sh start|stop" >&2
	exit 2
	;;
esac
