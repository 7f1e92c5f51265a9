package transfer

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// sharedSource is one source for all of a pull or load: rl's unpacker
// (unpackLayers) and copy.Image after it read the image's manifests and
// configuration through it, and each is fetched once. Each was fetched
// twice before, and Docker Hub counts every manifest GET as a pull
// against its rate limit. (docker's source keeps the manifest of its
// reference itself, fetched when it is opened; the instances of a
// multi-platform list and the configurations are kept here.)
type sharedSource struct {
	types.ImageSource
	mu        sync.Mutex
	manifests map[digest.Digest]manifestBlob // by instance digest ("": the reference's own)
	configs   map[digest.Digest][]byte       // nil value: a configuration not read yet
}

type manifestBlob struct {
	b    []byte
	mime string
}

// maxConfig is the largest configuration kept in memory; a larger one is
// read from the source each time.
const maxConfig = 4 << 20

func newSharedSource(src types.ImageSource) *sharedSource {
	return &sharedSource{ImageSource: src, manifests: map[digest.Digest]manifestBlob{}, configs: map[digest.Digest][]byte{}}
}

func (s *sharedSource) GetManifest(ctx context.Context, instance *digest.Digest) ([]byte, string, error) {
	var key digest.Digest
	if instance != nil {
		key = *instance
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.manifests[key]; ok {
		return m.b, m.mime, nil
	}
	b, mime, err := s.ImageSource.GetManifest(ctx, instance)
	if err != nil {
		return nil, "", err
	}
	s.manifests[key] = manifestBlob{b, mime}
	if !manifest.MIMETypeIsMultiImage(manifest.NormalizedMIMEType(mime)) {
		if m, err := manifest.FromBlob(b, manifest.NormalizedMIMEType(mime)); err == nil {
			if c := m.ConfigInfo().Digest; c != "" {
				if _, ok := s.configs[c]; !ok {
					s.configs[c] = nil
				}
			}
		}
	}
	return b, mime, nil
}

// GetBlob serves a configuration that a manifest read through s names
// from memory once it has been read; any other blob from the source.
func (s *sharedSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	s.mu.Lock()
	b, isConfig := s.configs[info.Digest]
	s.mu.Unlock()
	if !isConfig || info.Size > maxConfig || !info.Digest.Algorithm().Available() {
		return s.ImageSource.GetBlob(ctx, info, cache)
	}
	if b == nil {
		r, _, err := s.ImageSource.GetBlob(ctx, info, cache)
		if err != nil {
			return nil, 0, err
		}
		b, err = io.ReadAll(io.LimitReader(r, maxConfig+1))
		r.Close()
		if err != nil {
			return nil, 0, err
		}
		if len(b) > maxConfig || info.Digest.Algorithm().FromBytes(b) != info.Digest {
			// (Too large, or damaged: the source again, whose reader
			// copy.Image and the unpacker verify.)
			return s.ImageSource.GetBlob(ctx, info, cache)
		}
		s.mu.Lock()
		s.configs[info.Digest] = b
		s.mu.Unlock()
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

// Close does nothing: whoever opened the source closes it once both
// readers are done (copy.Image closes what its reference opens).
func (s *sharedSource) Close() error { return nil }

// sharedRef is src as copy.Image gets it: opening it gives the shared
// source.
type sharedRef struct {
	types.ImageReference
	src *sharedSource
}

func (r sharedRef) NewImageSource(context.Context, *types.SystemContext) (types.ImageSource, error) {
	return r.src, nil
}

// shareSource opens src for the unpacker (raw) and, if share, for
// copy.Image too (ref): the shared source is a public types.ImageSource,
// which gives copy.Image simple signatures only, not sigstore's (nor
// partial pulls: containers/image's private interface cannot be
// implemented outside it), so a policy that requires sigstore signatures
// gets the source to itself in each, as before. done closes raw. Where
// src cannot be opened, copy.Image opens it itself and reports why as
// always (raw is nil: the unpacker leaves all to it).
func shareSource(ctx context.Context, src types.ImageReference, sys *types.SystemContext, share bool) (ref types.ImageReference, raw types.ImageSource, done func()) {
	s, err := src.NewImageSource(ctx, sys)
	if err != nil {
		return src, nil, func() {}
	}
	if !share || os.Getenv("RL_UNPACKER") == "storage" { // (containers/storage's own, whole)
		return src, s, func() { s.Close() }
	}
	shared := newSharedSource(s)
	return sharedRef{src, shared}, shared, func() { s.Close() }
}
