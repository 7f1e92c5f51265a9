# rl: see README.md. `make demo` and `make test` do all set-up themselves.
GO      ?= go
TAGS    := exclude_graphdriver_btrfs containers_image_openpgp
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
export CGO_ENABLED := 0

# Two builds: the default one, with containers/image (pull, push, load,
# save, import, login), is embedded in the shipped rl, which leaves
# containers/image out (tag rllight) so that rl run and rl images do not
# pay its package inits on every exec: see cmd/rl/transfer.go.
.PHONY: build
build:
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o cmd/rl/rl-full ./cmd/rl
	$(GO) build -tags '$(TAGS) rllight' -ldflags '$(LDFLAGS)' -o rl ./cmd/rl

# The README's two commands.
.PHONY: demo test
demo:
	testdata/demo.sh
test:
	testdata/test.sh

.PHONY: lint
lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt: $$bad"; exit 1; fi
	$(GO) vet -tags '$(TAGS)' ./...
	test -f cmd/rl/rl-full || $(MAKE) build
	$(GO) vet -tags '$(TAGS) rllight' ./cmd/rl

# Side-by-side timings against podman and the unshare floor (not part of test).
.PHONY: bench
bench: build
	bench/bench.sh
