#!/bin/bash
# test.sh: `make test`. Set-up, then the whole suite. As root, every test
# binary runs as the unprivileged test user (testdata/asuser); as a normal
# user, as that user. With CI=true a missing prerequisite fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0
TAGS='exclude_graphdriver_btrfs containers_image_openpgp'
export RL_TEST_REGISTRY=${RL_TEST_REGISTRY:-127.0.0.1:5000}
export RL_TEST_CACHE=${RL_TEST_CACHE:-/var/tmp/rl-test-cache}

testdata/setup.sh
if [ -x testdata/vm/setup.sh ]; then testdata/vm/setup.sh; fi

echo "== lint"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then
	echo "gofmt: not formatted: $bad" >&2
	exit 1
fi
go vet -tags "$TAGS" ./...

echo "== build"
# The scripts run the rl users get (RL_TEST_BIN), not the test binary.
make build
go vet -tags "$TAGS rllight" ./cmd/rl
go vet -tags "$TAGS rllight rlfront" ./cmd/rl
export RL_TEST_BIN=$PWD/rl
if go list -deps -tags "$TAGS rllight" ./cmd/rl | grep -q '^go.podman.io/image/'; then
	echo "the rllight build links containers/image: keep it out (see cmd/rl/transfer.go)" >&2
	exit 1
fi
if go list -deps -tags "$TAGS rllight rlfront" ./cmd/rl | grep -Eq '^(go.podman.io/|github.com/rootless-containers/|net/http$)'; then
	echo "the front links containers/storage, rootlesskit or net/http: keep them out (see cmd/rl/front.go)" >&2
	exit 1
fi

echo "== fixtures"
testdata/registry.sh start
trap 'testdata/registry.sh stop' EXIT
testdata/fixtures.sh

echo "== tests"
go test -count=1 -timeout 40m -tags "$TAGS" -exec "$PWD/testdata/asuser" ./...
