# rl: see README.md. `make demo` and `make test` do all set-up themselves.
GO      ?= go
TAGS    := exclude_graphdriver_btrfs containers_image_openpgp
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
export CGO_ENABLED := 0

.PHONY: build
build:
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o rl ./cmd/rl
