package transfer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	tsstorage "github.com/vbatts/tar-split/tar/storage"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	cimage "go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	graphdriver "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/unshare"

	"rl/layer"
)

// unpackLayers stores the layers of src that the store lacks with rl's own
// unpacker (package layer), before copy.Image runs: copy.Image then finds
// every layer by its digest (TryReusingBlob) and only stores the image
// record (manifest, config, names, signatures), as it does for an image
// whose layers another image brought.
//
// Why: containers/image first spools each blob to a file, inflating it
// once to learn its DiffID, and containers/storage then inflates it again
// and unpacks it in a helper process, with a path walk per entry; here the
// blob is read once, inflated once, and unpacked while it downloads, with
// the *at calls on open directories. The layers are made as
// containers/image makes them (same IDs, digests and tar-split data, so
// that podman uses them and rl save writes the same bytes), through
// containers/storage's API for layers unpacked by someone else
// (PrepareStagedLayer, ApplyStagedLayer).
//
// It does nothing, and leaves all to copy.Image, where it cannot do
// exactly what copy.Image would: an image the policy refuses, a manifest
// without DiffIDs (docker schema1), encrypted layers, a store that maps
// ids or forces modes, a layer stored already under another parent, and
// any error before a layer is being unpacked (copy.Image meets it again
// and reports it as always). An error while a layer is unpacked (a blob
// that does not match its digest, a layer that cannot be unpacked) is
// returned: nothing of that layer is kept.
func unpackLayers(ctx context.Context, st storage.Store, raw types.ImageSource, sys *types.SystemContext, pc *signature.PolicyContext, progress io.Writer) error {
	if os.Getenv("RL_UNPACKER") == "storage" || raw == nil {
		return nil // containers/storage's own, for comparison; or no source
	}
	unparsed := cimage.UnparsedInstance(raw, nil)
	mb, mt, err := unparsed.Manifest(ctx)
	if err != nil {
		return nil
	}
	if manifest.MIMETypeIsMultiImage(mt) {
		list, err := manifest.ListFromBlob(mb, mt)
		if err != nil {
			return nil
		}
		d, err := list.ChooseInstance(sys)
		if err != nil {
			return nil
		}
		unparsed = cimage.UnparsedInstance(raw, &d)
	}
	// The policy first, as copy.Image checks it first: nothing is stored
	// of an image the policy refuses.
	if ok, err := pc.IsRunningImageAllowed(ctx, unparsed); !ok || err != nil {
		return nil
	}
	img, err := cimage.FromUnparsedImage(ctx, sys, unparsed)
	if err != nil {
		return nil
	}
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return nil
	}
	infos := img.LayerInfos()
	diffIDs := cfg.RootFS.DiffIDs
	if len(infos) == 0 || len(infos) != len(diffIDs) {
		return nil
	}
	for i, l := range infos {
		// Only what this file hashes (sha256); others go the long way.
		if strings.Contains(l.MediaType, "encrypted") || l.Digest.Validate() != nil ||
			l.Digest.Algorithm() != digest.SHA256 || diffIDs[i].Validate() != nil || diffIDs[i].Algorithm() != digest.SHA256 {
			return nil
		}
	}
	var pool *mpb.Progress
	if progress != nil {
		pool = mpb.New(mpb.WithWidth(40), mpb.WithOutput(progress))
		defer pool.Wait()
	}
	parent := ""
	for i, l := range infos {
		id := chainID(parent, diffIDs[i])
		if _, err := st.Layer(id); err == nil {
			parent = id
			continue
		}
		if ls, err := st.LayersByCompressedDigest(l.Digest); err == nil && len(ls) > 0 {
			return nil // stored under another parent: copy.Image makes the copy
		}
		blob, _, err := raw.GetBlob(ctx, l, none.NoCache)
		if err != nil {
			return nil
		}
		var r io.Reader = blob
		var bar *mpb.Bar
		if pool != nil {
			bar = newBar(pool, l)
			r = bar.ProxyReader(blob)
		}
		stored, err := stageLayer(st, id, parent, r, l.Size, l.Digest, diffIDs[i])
		blob.Close()
		if bar != nil {
			if err != nil {
				bar.Abort(false)
			} else {
				bar.SetTotal(-1, true)
			}
		}
		if err != nil || !stored {
			return err
		}
		parent = id
	}
	return nil
}

// chainID is the ID containers/image gives a layer (storage_dest.go,
// layerID): the DiffID for the first layer, then the digest of the
// parent's ID, "+" and the DiffID.
func chainID(parent string, diffID digest.Digest) string {
	if parent == "" {
		return diffID.Encoded()
	}
	return digest.Canonical.FromString(parent + "+" + diffID.Encoded()).Encoded()
}

func newBar(pool *mpb.Progress, l types.BlobInfo) *mpb.Bar {
	prefix := "Copying blob " + l.Digest.Encoded()[:12]
	if l.Size <= 0 {
		return pool.New(0, mpb.SpinnerStyle(".", "..", "...", "....", "").PositionLeft(), mpb.BarFillerClearOnComplete(),
			mpb.PrependDecorators(decor.OnComplete(decor.Name(prefix), prefix+" done")))
	}
	return pool.AddBar(l.Size, mpb.BarFillerClearOnComplete(),
		mpb.PrependDecorators(decor.OnComplete(decor.Name(prefix), prefix+" done")),
		mpb.AppendDecorators(
			decor.OnComplete(decor.CountersKibiByte("%.1f / %.1f"), ""),
			decor.Name(" | "),
			decor.OnComplete(decor.EwmaSpeed(decor.SizeB1024(0), "% .1f", 30), "")))
}

// stageLayer unpacks one blob into a staging directory of the store and
// makes it layer id; on any error nothing of it stays. stored is false
// when the store wants the layer unpacked its own way (errNotMine).
func stageLayer(st storage.Store, id, parent string, blob io.Reader, size int64, want, diffID digest.Digest) (stored bool, err error) {
	d := &differ{blob: blob, size: size, want: want, diffID: diffID}
	out, err := st.PrepareStagedLayer(nil, d)
	if err != nil {
		if out != nil && out.Target != "" {
			st.CleanupStagedLayer(out)
		}
		if errors.Is(err, errNotMine) || errors.Is(err, storage.ErrNotSupported) {
			return false, nil // the driver (vfs, say) or its options want their own way
		}
		return false, err
	}
	// Another writer (podman) may have stored the layer meanwhile; applying
	// ours would replace its files under it (as containers/image checks).
	if _, err := st.Layer(id); err == nil {
		st.CleanupStagedLayer(out)
		return true, nil
	}
	_, err = st.ApplyStagedLayer(storage.ApplyStagedLayerOptions{ID: id, ParentLayer: parent, DiffOutput: out,
		DiffOptions: &graphdriver.ApplyDiffWithDifferOpts{}})
	if err != nil {
		st.CleanupStagedLayer(out)
		return false, fmt.Errorf("storing layer %s: %w", want.Encoded()[:12], err)
	}
	return true, nil
}

var errNotMine = errors.New("left to containers/storage")

// differ is rl's unpacker in the form containers/storage calls it
// (drivers.Differ): it writes the layer into the staging directory dest
// and says what the layer is.
type differ struct {
	blob         io.Reader
	size         int64 // of the blob, as the manifest says; <= 0: unknown
	want, diffID digest.Digest
}

func (d *differ) Close() error { return nil }

func (d *differ) ApplyDiff(dest string, opts *archive.TarOptions, dopts *graphdriver.DifferOptions) (graphdriver.DriverWithDifferOutput, error) {
	var none graphdriver.DriverWithDifferOutput
	if dopts == nil || dopts.Format != graphdriver.DifferOutputFormatDir || opts.ForceMask != nil ||
		len(opts.UIDMaps) > 0 || len(opts.GIDMaps) > 0 || opts.WhiteoutFormat != archive.OverlayWhiteoutFormat {
		return none, errNotMine
	}
	blob := &guarded{r: bufio.NewReaderSize(d.blob, 1<<16), h: sha256.New()}
	raw, err := decompress(blob)
	if err != nil {
		return none, err
	}
	// The tar-split data (how to write the layer's tar stream again, byte
	// for byte, from the files) goes to a file the store compresses.
	ts, err := os.CreateTemp(dopts.StagingDirectory, "tar-split-")
	if err != nil {
		raw.Close()
		return none, err
	}
	os.Remove(ts.Name())
	fail := func(err error) (graphdriver.DriverWithDifferOutput, error) {
		ts.Close()
		return none, err
	}
	uncompressed := &counter{h: sha256.New()}
	tarStream, done, err := asm.NewInputTarStreamWithDone(io.TeeReader(raw, uncompressed), tsstorage.NewJSONPacker(ts), nil)
	if err != nil {
		raw.Close()
		return fail(err)
	}
	opaque := "trusted.overlay.opaque"
	if unshare.IsRootless() {
		opaque = "user.overlay.opaque" // as containers/storage's archive.GetOverlayXattrName
	}
	res, err := layer.Unpack(dest, tarStream, layer.Options{OpaqueXattr: opaque, IgnoreChownErrors: opts.IgnoreChownErrors})
	if err == nil {
		// The end of the stream (tar's padding): the digests cover all.
		_, err = io.Copy(io.Discard, tarStream)
	}
	// Order: stop the tar-split goroutine (it reads raw), then the
	// decompressor, then cut the blob off from both (whatever they might
	// still read fails) and read the rest of it into the digest, up to the
	// size the manifest gives.
	tarStream.Close()
	if derr := <-done; err == nil {
		err = derr
	}
	raw.Close()
	if cerr := blob.drain(d.size); cerr != nil {
		return fail(fmt.Errorf("reading blob %s: %w", d.want.Encoded()[:12], cerr)) // interrupted, say
	}
	// A damaged blob shows first as a decompression or tar error: its
	// digest says which it was.
	if got := digest.NewDigest(digest.SHA256, blob.h); got != d.want {
		return fail(fmt.Errorf("blob %s: digest mismatch (got %s)", d.want, got))
	}
	if err != nil {
		return fail(fmt.Errorf("%w (output: %v)", errUnpack, err))
	}
	if got := digest.NewDigest(digest.SHA256, uncompressed.h); got != d.diffID {
		return fail(fmt.Errorf("blob %s: digest mismatch: its contents are %s, the config says %s", d.want, got, d.diffID))
	}
	return graphdriver.DriverWithDifferOutput{
		Size:               uncompressed.n,
		UIDs:               res.UIDs,
		GIDs:               res.GIDs,
		UncompressedDigest: d.diffID,
		CompressedDigest:   d.want,
		TarSplit:           ts,
		RootDirMode:        res.RootMode, // set: the store must not give it the parent layer's
	}, nil
}

// decompress reads gzip, zstd or plain tar, the layer formats of OCI and
// docker; others (bzip2, xz) are left to containers/storage.
func decompress(r *guarded) (io.ReadCloser, error) {
	magic, _ := r.r.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%w (output: %v)", errUnpack, err)
		}
		return z, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("%w (output: %v)", errUnpack, err)
		}
		return z.IOReadCloser(), nil
	case bytes.HasPrefix(magic, []byte("BZh")), bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X'}):
		return nil, errNotMine
	}
	return io.NopCloser(r), nil
}

// guarded is the blob as the decompressor reads it, digested as it goes.
// drain cuts the decompressor off (a goroutine of it may still be reading)
// and reads the rest.
type guarded struct {
	mu  sync.Mutex
	r   *bufio.Reader
	h   hash.Hash
	n   int64
	cut bool
}

var errCut = errors.New("blob read after the end of unpacking")

func (g *guarded) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cut {
		return 0, errCut
	}
	n, err := g.r.Read(p)
	g.h.Write(p[:n])
	g.n += int64(n)
	return n, err
}

// drain reads what is left of the blob into the digest: at most one byte
// more than size (a longer blob does not match its digest anyway), or,
// size unknown, 1 MiB past the end of the layer.
func (g *guarded) drain(size int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cut = true
	limit := int64(1 << 20)
	if size > 0 {
		limit = max(size-g.n, 0) + 1
	}
	n, err := io.Copy(g.h, io.LimitReader(g.r, limit))
	g.n += n
	return err
}

var errUnpack = errors.New("unpacking failed")

type counter struct {
	h hash.Hash
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}
