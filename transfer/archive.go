package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/distribution/reference"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/archive"
	ociarchive "go.podman.io/image/v5/oci/archive"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/tarball"
	"go.podman.io/image/v5/types"

	"rl/image"
)

// copyImage copies src to dst with the policy of this user.
func copyImage(ctx context.Context, s *image.Store, dst, src types.ImageReference, sys *types.SystemContext, o Options) error {
	pc, sigstore, err := policyContext(sys)
	if err != nil {
		return err
	}
	defer pc.Destroy()
	if dst.Transport().Name() == istorage.Transport.Name() {
		unlock, err := writeLock(ctx, s)
		if err != nil {
			return err
		}
		defer unlock()
		var raw types.ImageSource
		var done func()
		src, raw, done = shareSource(ctx, src, sys, !sigstore)
		defer done()
		if err := unpackLayers(ctx, s.S, raw, sys, pc, o.progress()); err != nil {
			return err
		}
	}
	_, err = copy.Image(ctx, pc, dst, src, &copy.Options{ReportWriter: o.progress(), SourceCtx: sys, DestinationCtx: sys})
	return err
}

// Load stores the images of a docker-archive or oci-archive file (as
// written by docker save, podman save, skopeo) and returns their names
// (or IDs for untagged images).
func Load(ctx context.Context, s *image.Store, path string, o Options) ([]string, error) {
	if path == "-" || path == "" {
		tmp, err := spool(os.Stdin)
		if err != nil {
			return nil, fmt.Errorf("reading the archive from standard input: %w", err)
		}
		defer os.Remove(tmp)
		path = tmp
	}
	ar, err := image.ParseArchiveRef(path)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	path = ar.Path
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	sys, err := o.SystemContext()
	if err != nil {
		return nil, err
	}
	if ar.Transport != "" { // named by the user: no detection
		load := loadDocker
		if ar.Transport == "oci-archive" {
			load = loadOCI
		}
		names, err := load(ctx, s, path, sys, o)
		if err != nil {
			return nil, fmt.Errorf("load %s: %s", path, lastPart(err.Error()))
		}
		return names, nil
	}
	names, derr := loadDocker(ctx, s, path, sys, o)
	if derr == nil {
		return names, nil
	}
	names, oerr := loadOCI(ctx, s, path, sys, o)
	if oerr == nil {
		return names, nil
	}
	if os.Getenv("RL_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "rl: load: as docker-archive: %v\nrl: load: as oci-archive: %v\n", derr, oerr)
	}
	for _, e := range []error{derr, oerr} {
		if isDigestError(e) {
			return nil, fmt.Errorf("load %s: a blob does not match its digest (a damaged or tampered archive); nothing was stored", path)
		}
		if m := e.Error(); strings.Contains(m, "unpacking failed") {
			return nil, fmt.Errorf("load %s: a layer could not be unpacked (%s); nothing was stored", path, unpackOutput(m))
		}
		if errors.Is(e, context.Canceled) {
			return nil, fmt.Errorf("load %s: interrupted; nothing was stored", path)
		}
	}
	return nil, fmt.Errorf("load %s: neither a docker-archive (%s) nor an oci-archive (%s)", path, lastPart(derr.Error()), lastPart(oerr.Error()))
}

func loadDocker(ctx context.Context, s *image.Store, path string, sys *types.SystemContext, o Options) ([]string, error) {
	r, err := archive.NewReader(sys, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	groups, err := r.List()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, refs := range groups {
		for _, src := range refs {
			dst, name, err := destFor(ctx, s, src, sys)
			if err != nil {
				return nil, err
			}
			if err := copyImage(ctx, s, dst, src, sys, o); err != nil {
				return nil, fmt.Errorf("loading %s: %w", name, err)
			}
			names = append(names, name)
		}
	}
	return names, nil
}

func loadOCI(ctx context.Context, s *image.Store, path string, sys *types.SystemContext, o Options) ([]string, error) {
	src, err := ociarchive.NewReference(path, "")
	if err != nil {
		return nil, err
	}
	dst, name, err := destFor(ctx, s, src, sys)
	if err != nil {
		return nil, err
	}
	if err := copyImage(ctx, s, dst, src, sys, o); err != nil {
		return nil, fmt.Errorf("loading %s: %w", name, err)
	}
	return []string{name}, nil
}

// destFor names the stored copy of src after its tag, or by its ID (the
// digest of its config, as docker and podman compute it) when untagged.
func destFor(ctx context.Context, s *image.Store, src types.ImageReference, sys *types.SystemContext) (types.ImageReference, string, error) {
	if n := src.DockerReference(); n != nil {
		dst, err := istorage.Transport.NewStoreReference(s.S, reference.TagNameOnly(n), "")
		return dst, n.String(), err
	}
	img, err := src.NewImage(ctx, sys)
	if err != nil {
		return nil, "", err
	}
	defer img.Close()
	id := img.ConfigInfo().Digest.Encoded()
	dst, err := istorage.Transport.NewStoreReference(s.S, nil, id)
	return dst, id, err
}

func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "rl-load-*.tar")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Save writes images to an archive file: docker-archive (several images,
// tagged) or oci-archive (one image).
func Save(ctx context.Context, s *image.Store, names []string, path, format string, o Options) error {
	sys, err := o.SystemContext()
	if err != nil {
		return err
	}
	switch format {
	case "", "docker-archive":
		w, err := archive.NewWriter(sys, path)
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		for _, name := range names {
			si, err := s.Find(name)
			if err != nil {
				return err
			}
			src, err := istorage.Transport.NewStoreReference(s.S, nil, si.ID)
			if err != nil {
				return err
			}
			var tagged reference.NamedTagged
			if n, err := normalize(name); err == nil && !strings.HasPrefix(si.ID, name) {
				if nt, ok := n.(reference.NamedTagged); ok {
					tagged = nt
				}
				full, err := image.NameFor(si.Names, name)
				if err != nil {
					return err
				}
				if fn, err := reference.ParseNormalizedNamed(full); full != "" && err == nil {
					if nt, ok := fn.(reference.NamedTagged); ok {
						tagged = nt
					}
				}
			}
			dst, err := w.NewReference(tagged)
			if err != nil {
				return err
			}
			if err := copyImage(ctx, s, dst, src, sys, o); err != nil {
				w.Close()
				return fmt.Errorf("saving %s: %w", name, err)
			}
		}
		return w.Close()
	case "oci-archive":
		if len(names) != 1 {
			return errors.New("save: oci-archive holds one image; name exactly one")
		}
		si, err := s.Find(names[0])
		if err != nil {
			return err
		}
		src, err := istorage.Transport.NewStoreReference(s.S, nil, si.ID)
		if err != nil {
			return err
		}
		refName := ""
		if len(si.Names) > 0 {
			refName = si.Names[0]
		}
		dst, err := ociarchive.NewReference(path, refName)
		if err != nil {
			return err
		}
		return copyImage(ctx, s, dst, src, sys, o)
	default:
		return fmt.Errorf("save: unknown format %q: want docker-archive or oci-archive", format)
	}
}

// Import makes a one-layer image from a root filesystem tarball, as docker
// import does, and names it.
func Import(ctx context.Context, s *image.Store, path, name string, o Options) (string, error) {
	n, err := normalize(name)
	if err != nil {
		return "", err
	}
	full := n.String()
	if image.IsShortName(name) {
		full = "localhost/" + strings.TrimPrefix(full, "docker.io/library/")
		if n, err = normalize(full); err != nil {
			return "", err
		}
	}
	if path != "-" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("import: %w", err)
		}
	}
	var stdin []byte
	if path == "-" {
		if stdin, err = io.ReadAll(os.Stdin); err != nil {
			return "", err
		}
	}
	src, err := tarball.NewReference([]string{path}, stdin)
	if err != nil {
		return "", fmt.Errorf("import %s: %w", path, err)
	}
	dst, err := istorage.Transport.NewStoreReference(s.S, n, "")
	if err != nil {
		return "", err
	}
	sys, err := o.SystemContext()
	if err != nil {
		return "", err
	}
	if err := copyImage(ctx, s, dst, src, sys, o); err != nil {
		return "", fmt.Errorf("import %s: %s", path, lastPart(err.Error()))
	}
	return full, nil
}

// Push copies an image from the store to a registry.
func Push(ctx context.Context, s *image.Store, name, dest string, o Options) error {
	si, err := s.Find(name)
	if err != nil {
		return err
	}
	if dest == "" {
		dest = name
	}
	n, err := normalize(dest)
	if err != nil {
		return err
	}
	src, err := istorage.Transport.NewStoreReference(s.S, nil, si.ID)
	if err != nil {
		return err
	}
	dst, err := docker.NewReference(n)
	if err != nil {
		return err
	}
	sys, err := o.SystemContext()
	if err != nil {
		return err
	}
	if err := copyImage(ctx, s, dst, src, sys, o); err != nil {
		e := pullError(n.String(), err)
		return errors.New(strings.Replace(e.Error(), "pulling", "pushing", 1))
	}
	return nil
}

func isDigestError(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "digest did not match") || strings.Contains(m, "digest mismatch")
}

// unpackOutput extracts the helper's message from storage's "unpacking
// failed (error: ...; output: MSG)".
func unpackOutput(m string) string {
	if i := strings.LastIndex(m, "output: "); i >= 0 {
		return strings.TrimSuffix(strings.TrimSpace(m[i+len("output: "):]), ")")
	}
	return lastPart(m)
}
