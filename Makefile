# rl: see README.md. `make demo` and `make test` do all set-up themselves.
GO      ?= go
TAGS    := exclude_graphdriver_btrfs containers_image_openpgp
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
export CGO_ENABLED := 0

# Four builds: rl-init (the container's first process), the default build
# of rl, with containers/image (pull, push, load, save, import, login);
# rl's core (tag rllight), which leaves containers/image out so that rl run
# and rl images do not pay its package inits on every exec, and carries
# the first two inside itself (cmd/rl/light.go); and the rl users run, the
# front (tags rllight rlfront), which carries the core and rl-init, is rl
# run's process on the host, and runs everything else in the core (see
# cmd/rl/front.go).
.PHONY: build
build:
	$(GO) build -ldflags '-s -w' -o cmd/rl/rl-init ./cmd/rl-init
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o cmd/rl/rl-full ./cmd/rl
	$(GO) build -tags '$(TAGS) rllight' -ldflags '$(LDFLAGS)' -o cmd/rl/rl-core ./cmd/rl
	$(GO) build -tags '$(TAGS) rllight rlfront' -ldflags '$(LDFLAGS)' -o rl ./cmd/rl

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
	test -f cmd/rl/rl-full -a -f cmd/rl/rl-init -a -f cmd/rl/rl-core || $(MAKE) build
	$(GO) vet -tags '$(TAGS) rllight' ./cmd/rl
	$(GO) vet -tags '$(TAGS) rllight rlfront' ./cmd/rl

# Side-by-side timings against podman and the unshare floor (not part of test).
.PHONY: bench
bench: build
	bench/bench.sh
