package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/reference"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/signature"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"rl/image"
)

// Options are the registry options shared by pull, push and run.
type Options struct {
	TLSVerify *bool  // nil: registries.conf decides
	Creds     string // USER[:PASSWORD]
	Platform  string // OS/ARCH[/VARIANT]
	Quiet     bool
	// Progress receives progress bars; nil means stderr when it is a
	// terminal and nothing otherwise.
	Progress io.Writer
}

// SystemContext builds containers/image's settings from the options;
// everything else (registries.conf, auth.json, certs) is read as podman does.
func (o Options) SystemContext() (*types.SystemContext, error) {
	sys := &types.SystemContext{AuthFilePath: authFile()}
	if o.TLSVerify != nil {
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!*o.TLSVerify)
		sys.OCIInsecureSkipTLSVerify = !*o.TLSVerify
	}
	if o.Creds != "" {
		user, pass, _ := strings.Cut(o.Creds, ":")
		if user == "" {
			return nil, fmt.Errorf("--creds %q: want USER[:PASSWORD]", o.Creds)
		}
		sys.DockerAuthConfig = &types.DockerAuthConfig{Username: user, Password: pass}
	}
	if o.Platform != "" {
		f := strings.Split(o.Platform, "/")
		if len(f) < 2 || len(f) > 3 || f[0] == "" || f[1] == "" {
			return nil, fmt.Errorf("--platform %q: want OS/ARCH[/VARIANT]", o.Platform)
		}
		sys.OSChoice, sys.ArchitectureChoice = f[0], f[1]
		if len(f) == 3 {
			sys.VariantChoice = f[2]
		}
	}
	return sys, nil
}

func (o Options) progress() io.Writer {
	if o.Quiet {
		return nil
	}
	if o.Progress != nil {
		return o.Progress
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return os.Stderr
	}
	return nil
}

// policyContext is the user's policy.json. sigstore: one of its
// requirements is sigstoreSigned, whose signatures a shared source cannot
// pass on (see shareSource).
func policyContext(sys *types.SystemContext) (pc *signature.PolicyContext, sigstore bool, err error) {
	p, err := signature.DefaultPolicy(sys)
	if err != nil {
		return nil, false, &hintError{fmt.Errorf("reading policy.json: %w", err),
			"install containers-common's /etc/containers/policy.json or write ~/.config/containers/policy.json"}
	}
	// (The requirements' types are containers/image's own; their JSON
	// names them.)
	b, err := json.Marshal(p)
	sigstore = err != nil || bytes.Contains(b, []byte(`"sigstoreSigned"`)) || sigstoreAttachments(sys)
	pc, err = signature.NewPolicyContext(p)
	return pc, sigstore, err
}

// sigstoreAttachments: a registries.d file (containers-registries.d(5),
// read from where containers/image reads it) turns on sigstore
// attachments, which a pull copies with the image whatever the policy.
// (containers/image has no function that says so: a line of the YAML
// files is enough to keep the source unshared.)
func sigstoreAttachments(sys *types.SystemContext) bool {
	dirs := []string{"/usr/share/containers/registries.d", "/etc/containers/registries.d"}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".config/containers/registries.d"))
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		dirs = append(dirs, filepath.Join(d, "containers/registries.d"))
	}
	if sys != nil && sys.RegistriesDirPath != "" {
		dirs = []string{sys.RegistriesDirPath}
	}
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.yaml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(b), "\n") {
				k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
				if ok && k == "use-sigstore-attachments" && strings.TrimSpace(v) == "true" {
					return true
				}
			}
		}
	}
	return false
}

// Pull copies name from its registry into the store and returns the image.
// A short name is tried against registries.conf's unqualified-search
// registries in order, as podman does.
func Pull(ctx context.Context, s *image.Store, name string, o Options) (*image.Image, error) {
	sys, err := o.SystemContext()
	if err != nil {
		return nil, err
	}
	name = strings.TrimPrefix(name, "docker://")
	if _, err := reference.ParseNormalizedNamed(name); err != nil {
		return nil, fmt.Errorf("invalid reference %q: %v", name, err)
	}
	var candidates []reference.Named
	if image.IsShortName(name) {
		candidates, err = shortNameCandidates(sys, name)
		if err != nil {
			return nil, err
		}
		if len(candidates) == 0 {
			return nil, &hintError{fmt.Errorf("short name %q: no unqualified-search registries are configured", name),
				"use a fully qualified name (registry.example.com/" + name + ") or set unqualified-search-registries in registries.conf"}
		}
	} else {
		n, err := normalize(name)
		if err != nil {
			return nil, err
		}
		candidates = []reference.Named{n}
	}
	pc, sigstore, err := policyContext(sys)
	if err != nil {
		return nil, err
	}
	defer pc.Destroy()
	var firstErr error
	for _, c := range candidates {
		img, err := pullOne(ctx, s, c, sys, pc, !sigstore, o)
		if err == nil {
			return img, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func pullOne(ctx context.Context, s *image.Store, n reference.Named, sys *types.SystemContext, pc *signature.PolicyContext, share bool, o Options) (*image.Image, error) {
	src, err := docker.NewReference(n)
	if err != nil {
		return nil, fmt.Errorf("invalid reference %q: %v", n, err)
	}
	dst, err := istorage.Transport.ParseStoreReference(s.S, n.String())
	if err != nil {
		return nil, err
	}
	unlock, err := writeLock(ctx, s)
	if err != nil {
		return nil, pullError(n.String(), err)
	}
	defer unlock()
	from, raw, done := shareSource(ctx, src, sys, share)
	defer done()
	if err := unpackLayers(ctx, s.S, raw, sys, pc, o.progress()); err != nil {
		return nil, pullError(n.String(), err)
	}
	// containers/image writes layers to a staging area and commits the
	// image record last: an interrupted pull leaves at most unreferenced
	// layers, never an image with missing layers.
	_, err = copy.Image(ctx, pc, dst, from, &copy.Options{
		ReportWriter:   o.progress(),
		SourceCtx:      sys,
		DestinationCtx: sys,
	})
	if err != nil {
		return nil, pullError(n.String(), err)
	}
	return s.Lookup(n.String())
}

// pullError turns containers/image's errors into one line that says what
// went wrong with which reference, with a hint where the fix is known.
func pullError(ref string, err error) error {
	msg := err.Error()
	host := reference.Domain(mustNamed(ref))
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return &hintError{fmt.Errorf("pulling %s: %s speaks plain HTTP, not HTTPS", ref, host),
			"use --tls-verify=false, or mark the registry insecure in registries.conf ([[registry]] location=\"" + host + "\" insecure=true)"}
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"),
		strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "network is unreachable"):
		return fmt.Errorf("pulling %s: cannot reach registry %s: %s", ref, host, lastPart(msg))
	case strings.Contains(msg, "manifest unknown"), strings.Contains(msg, "name unknown"),
		strings.Contains(msg, "not found"):
		return fmt.Errorf("pulling %s: image not found in registry %s", ref, host)
	case strings.Contains(msg, "unauthorized"), strings.Contains(msg, "authentication required"),
		strings.Contains(msg, "invalid username/password"):
		return &hintError{fmt.Errorf("pulling %s: registry %s refused the credentials", ref, host),
			"run 'rl login " + host + "' or pass --creds USER:PASSWORD"}
	case strings.Contains(msg, "unpacking failed"):
		return fmt.Errorf("pulling %s: a layer could not be unpacked (%s); nothing was stored", ref, unpackOutput(msg))
	case strings.Contains(strings.ToLower(msg), "digest"):
		return fmt.Errorf("pulling %s: a blob does not match its digest; nothing was stored", ref)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("pulling %s: interrupted", ref)
	}
	return fmt.Errorf("pulling %s: %s", ref, lastPart(msg))
}

func mustNamed(s string) reference.Named {
	n, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		n, _ = reference.ParseNormalizedNamed("invalid")
	}
	return n
}

// lastPart keeps the innermost cause of a chain "a: b: c" of wrapped errors.
func lastPart(msg string) string {
	msg = strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }

// shortNameCandidates resolves a short name as podman does without a
// terminal to prompt on: an alias from registries.conf wins, else each
// unqualified-search registry in order.
func shortNameCandidates(sys *types.SystemContext, name string) ([]reference.Named, error) {
	tagged := image.ShortTagged(name)
	if alias, _, err := sysregistriesv2.ResolveShortNameAlias(sys, strings.SplitN(strings.SplitN(name, "@", 2)[0], ":", 2)[0]); err == nil && alias != nil {
		n, err := normalize(alias.String() + strings.TrimPrefix(tagged, strings.SplitN(strings.SplitN(tagged, "@", 2)[0], ":", 2)[0]))
		if err == nil {
			return []reference.Named{n}, nil
		}
	}
	regs, err := sysregistriesv2.UnqualifiedSearchRegistries(sys)
	if err != nil {
		return nil, fmt.Errorf("reading registries.conf: %w", err)
	}
	var out []reference.Named
	for _, r := range regs {
		n, err := reference.ParseNormalizedNamed(r + "/" + tagged)
		if err != nil {
			return nil, fmt.Errorf("invalid reference %q: %v", name, err)
		}
		out = append(out, reference.TagNameOnly(n))
	}
	return out, nil
}

// writeLock serialises rl's writers of the store's layers (pull, load,
// import). Seen with storage v1.64.2: of eight concurrent pulls of one
// image into an empty store, one now and then failed with "a layer could
// not be unpacked (mkdir /bin: no such file or directory)", its staging
// directory removed under it by another writer. With the lock the later
// pulls wait, then find the layers there and finish at once. The lock is
// flock(2) on a file in the graph root: the kernel drops it when its
// holder dies, so a killed pull never blocks the next one.
func writeLock(ctx context.Context, s *image.Store) (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.GraphRoot(), "rl-write.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking the store: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// normalize is image.Normalize as a reference containers/image takes.
func normalize(s string) (reference.Named, error) {
	n, err := image.Normalize(s)
	if err != nil {
		return nil, err
	}
	return reference.ParseNormalizedNamed(n)
}
