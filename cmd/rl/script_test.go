package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"go.podman.io/storage/pkg/reexec"
)

// TestMain makes this test binary double as rl: testscript runs it as `rl`
// (it dispatches on argv[0], which rl keeps when it re-executes itself).
func TestMain(m *testing.M) {
	// storage re-executes /proc/self/exe as "storage-untar" and the like;
	// without this, such a child would run the whole test suite again.
	if reexec.Init() {
		return
	}
	os.Exit(testscript.RunMain(m, map[string]func() int{"rl": rlCmd, "udpecho": udpEcho, "udpsend": udpSend, "leftovers": leftovers, "layersums": layerSums, "regproxy": regProxy}))
}

// rlCmd is the scripts' rl: the build users run when make test names it in
// RL_TEST_BIN (the rllight build with the default one embedded, see
// transfer.go), else this test binary's own rl (the default build).
func rlCmd() int {
	if bin := os.Getenv("RL_TEST_BIN"); bin != "" {
		err := syscall.Exec(bin, os.Args, os.Environ())
		fmt.Fprintf(os.Stderr, "rl test: exec %s: %v\n", bin, err)
		return 125
	}
	return rlMain()
}

// TestScripts runs the black-box CLI tests in testdata/script, as the
// unprivileged user, twice: without XDG_RUNTIME_DIR (su, runuser, cron and
// Slurm jobs on hosts without systemd) and with a private one.
func TestScripts(t *testing.T) {
	if os.Getuid() == 0 {
		t.Fatal("the CLI tests run containers and must not run as root (it would prove nothing): run `make test`, which re-runs them as the unprivileged test user")
	}
	for _, xdg := range []bool{false, true} {
		name := "no-xdg"
		if xdg {
			name = "xdg"
		}
		t.Run(name, func(t *testing.T) {
			testscript.Run(t, testscript.Params{
				Dir:                 "testdata/script",
				RequireExplicitExec: true,
				Setup:               func(e *testscript.Env) error { return setupScript(e, xdg) },
				Condition: func(cond string) (bool, error) {
					if cond == "xdg" { // which of the two passes this is
						return xdg, nil
					}
					return condition(cond)
				},
			})
		})
	}
}

// TestVM runs the scripts of testdata/vm, which boot the cgroup v2 VM of
// testdata/vm/run.sh. It runs after TestScripts, alone: an emulated VM on
// a host busy with the parallel container tests was seen to stall.
func TestVM(t *testing.T) {
	if os.Getuid() == 0 {
		t.Fatal("the CLI tests must not run as root: run `make test`")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/vm",
		RequireExplicitExec: true,
		Setup:               func(e *testscript.Env) error { return setupScript(e, false) },
		Condition:           condition,
	})
}

// stopPodmanPause kills the pause processes of podman runs whose runtime
// directory is in work: $XDG_RUNTIME_DIR (work/run), else podman's
// $TMPDIR/podman-run-UID.
func stopPodmanPause(work string) {
	files, _ := filepath.Glob(filepath.Join(work, ".tmp", "podman-run-*", "libpod", "tmp", "pause.pid"))
	files = append(files, filepath.Join(work, "run", "libpod", "tmp", "pause.pid"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			continue
		}
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.HasPrefix(string(comm), "podman") { // ("podman pause")
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func setupScript(e *testscript.Env, xdg bool) error {
	// A fresh HOME per script: its own image store, config and auth files.
	home := filepath.Join(e.WorkDir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	e.Setenv("HOME", home)
	e.Setenv("XDG_RUNTIME_DIR", "")
	if xdg {
		run := filepath.Join(e.WorkDir, "run")
		if err := os.Mkdir(run, 0o700); err != nil {
			return err
		}
		e.Setenv("XDG_RUNTIME_DIR", run)
	}
	// podman, which some scripts run to check compatibility, leaves a
	// pause process per runtime directory (it keeps its user namespace):
	// stop the script's once it ends.
	work := e.WorkDir
	e.Defer(func() { stopPodmanPause(work) })
	for _, k := range []string{"RL_TEST_REGISTRY", "RL_TEST_AUTH_REGISTRY", "RL_TEST_CACHE", "RL_TEST_BIN", "CI", "TERM"} {
		e.Setenv(k, os.Getenv(k))
	}
	if os.Getenv("RL_TEST_AUTH_REGISTRY") == "" {
		e.Setenv("RL_TEST_AUTH_REGISTRY", "127.0.0.1:5001")
	}
	if os.Getenv("RL_TEST_REGISTRY") == "" {
		e.Setenv("RL_TEST_REGISTRY", "127.0.0.1:5000")
	}
	if os.Getenv("RL_TEST_CACHE") == "" {
		e.Setenv("RL_TEST_CACHE", "/var/tmp/rl-test-cache")
	}
	// The test binary itself, static (CGO_ENABLED=0 in make test), so
	// that scripts can bind-mount it into a container as udpecho.
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	e.Setenv("RLTESTBIN", exe)
	// RLBIN is the rl binary itself, for scripts that copy it (the VM).
	bin := os.Getenv("RL_TEST_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			return fmt.Errorf("CI tests the rl users run: set RL_TEST_BIN to the output of make build (make test does)")
		}
		bin = exe
	}
	e.Setenv("RLBIN", bin)
	vm, err := filepath.Abs("../../testdata/vm/run.sh")
	if err != nil {
		return err
	}
	e.Setenv("RL_VM", vm)
	e.Setenv("UID", fmt.Sprint(os.Getuid()))
	e.Setenv("GID", fmt.Sprint(os.Getgid()))
	return nil
}

// condition answers the script conditions. A prerequisite that is missing
// skips the script on a developer's machine but fails it in CI, where
// everything must be there (CI=true).
func condition(cond string) (bool, error) {
	var ok bool
	var why string
	switch cond {
	case "subuid":
		ok, why = haveSubuid()
	case "fuse":
		ok, why = haveFuse()
	case "overlay":
		ok, why = haveOverlay()
	case "registry":
		ok, why = haveRegistry()
	case "debian":
		// The Debian image is built by fixtures.sh as root (debootstrap);
		// make test always builds it.
		_, err := os.Stat(filepath.Join(testCacheDir(), "debian"))
		ok, why = err == nil, "no Debian image in "+testCacheDir()+" (run testdata/fixtures.sh as root)"
	case "podman":
		_, err := exec.LookPath("podman")
		ok, why = err == nil, "podman is not installed"
	case "cgroup2":
		// Legitimately absent on hybrid-cgroup hosts such as the CI
		// machine: never an error. The VM test covers delegation.
		ok, _ = haveDelegatedCgroup2()
		return ok, nil
	case "vm":
		ok, why = haveVM()
	case "vm-systemd":
		if ok, why = haveVM(); ok {
			if _, err := os.Stat(filepath.Join(testCacheDir(), "vm", "systemd.cpio")); err != nil {
				ok, why = false, "no systemd root file system in "+testCacheDir()+"/vm (run testdata/vm/setup.sh as root)"
			}
		}
	case "front":
		// make build's rl: a front and its core (cmd/rl/front.go).
		ok, why = os.Getenv("RL_TEST_BIN") != "", "the scripts run the test binary, not make build's rl (set RL_TEST_BIN)"
	case "root":
		return os.Getuid() == 0, nil
	default:
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if !ok && os.Getenv("CI") == "true" {
		return false, fmt.Errorf("prerequisite [%s] is missing in CI: %s", cond, why)
	}
	return ok, nil
}

// haveVM: the cgroup v2 VM harness can boot (testdata/vm/setup.sh
// fetched the kernel; qemu and busybox-static are installed).
func haveVM() (bool, string) {
	for _, f := range []string{"vmlinuz", "brd.ko"} {
		if _, err := os.Stat(filepath.Join(testCacheDir(), "vm", f)); err != nil {
			return false, "no VM kernel or brd.ko in " + testCacheDir() + "/vm (run testdata/vm/setup.sh)"
		}
	}
	// The test binary runs as rl inside the VM, which has no libc.
	if exe, err := os.Executable(); err == nil {
		if f, err := elf.Open(exe); err == nil {
			defer f.Close()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					return false, "the test binary is not static (build it with CGO_ENABLED=0, as make test does)"
				}
			}
		}
	}
	for _, p := range []string{"qemu-system-x86_64", "/bin/busybox"} {
		if _, err := exec.LookPath(p); err != nil {
			return false, p + " is not installed"
		}
	}
	return true, ""
}

func haveSubuid() (bool, string) {
	if _, err := exec.LookPath("newuidmap"); err != nil {
		return false, "newuidmap not found (apt-get install uidmap)"
	}
	u := os.Getenv("USER")
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return false, err.Error()
		}
		found := false
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, u+":") || strings.HasPrefix(l, fmt.Sprint(os.Getuid())+":") {
				found = true
			}
		}
		if !found {
			return false, "no range for " + u + " in " + f
		}
	}
	return true, ""
}

func haveFuse() (bool, string) {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return false, err.Error()
	}
	f.Close()
	if _, err := exec.LookPath("fuse-overlayfs"); err != nil {
		return false, "fuse-overlayfs not found"
	}
	return true, ""
}

// haveOverlay probes native overlayfs in a user namespace with userxattr.
func haveOverlay() (bool, string) {
	dir, err := os.MkdirTemp("", "rl-overlay-probe")
	if err != nil {
		return false, err.Error()
	}
	defer os.RemoveAll(dir)
	script := `cd "$1" && mkdir l u w m && mount -t overlay -o lowerdir=l,upperdir=u,workdir=w,userxattr overlay m`
	out, err := exec.Command("unshare", "-Urm", "sh", "-c", script, "sh", dir).CombinedOutput()
	if err != nil {
		return false, strings.TrimSpace(string(out))
	}
	return true, ""
}

func haveRegistry() (bool, string) {
	addr := os.Getenv("RL_TEST_REGISTRY")
	if addr == "" {
		addr = "127.0.0.1:5000"
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false, "no registry at " + addr + " (testdata/registry.sh start)"
	}
	c.Close()
	return true, ""
}

func haveDelegatedCgroup2() (bool, string) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return false, err.Error()
	}
	line := strings.TrimSpace(string(b))
	if !strings.HasPrefix(line, "0::") || strings.Contains(line, "\n") {
		return false, "not a pure cgroup v2 host"
	}
	dir := filepath.Join("/sys/fs/cgroup", strings.TrimPrefix(line, "0::"))
	if err := unixAccessW(filepath.Join(dir, "cgroup.subtree_control")); err != nil {
		return false, "own cgroup not delegated: " + err.Error()
	}
	return true, ""
}

// udpEcho (udpecho PORT) answers every UDP datagram on PORT with "echo:"
// and the datagram. Busybox has no UDP server; this runs in containers.
func udpEcho() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: udpecho PORT")
		return 2
	}
	c, err := net.ListenPacket("udp", ":"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	buf := make([]byte, 1500)
	for {
		n, addr, err := c.ReadFrom(buf)
		if err != nil {
			return 1
		}
		c.WriteTo(append([]byte("echo:"), buf[:n]...), addr)
	}
}

// regProxy (regproxy REGISTRY DIR) forwards HTTP requests to REGISTRY
// from an address of its own, which it writes to DIR/addr once it
// listens, and appends each request ("METHOD PATH") to DIR/log: a count
// of what rl asks a registry for.
func regProxy() int {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: regproxy REGISTRY DIR")
		return 2
	}
	dir := os.Args[2]
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	var log *os.File
	if err == nil {
		log, err = os.OpenFile(filepath.Join(dir, "log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "addr.tmp"), []byte(l.Addr().String()), 0o644)
	}
	if err == nil {
		err = os.Rename(filepath.Join(dir, "addr.tmp"), filepath.Join(dir, "addr"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: os.Args[1]})
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(log, r.Method, r.URL.Path)
		p.ServeHTTP(w, r)
	}))
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// udpSend (udpsend HOST:PORT MSG) sends MSG until an answer comes (for up
// to 10 s: the server may still be starting) and prints the answer.
func udpSend() int {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: udpsend HOST:PORT MSG")
		return 2
	}
	c, err := net.Dial("udp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	buf := make([]byte, 1500)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		c.Write([]byte(os.Args[2]))
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			fmt.Println(string(buf[:n]))
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, "udpsend: no answer")
	return 1
}

// leftovers (leftovers HOME) lists the live processes (zombies aside)
// whose environment has HOME=HOME, other than itself: every process of
// one script (rl, its helpers, containers) inherits the script's HOME, so
// this finds what a script left behind without seeing scripts that run
// in parallel.
func leftovers() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: leftovers HOME")
		return 2
	}
	want := "HOME=" + os.Args[1]
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' || pid == fmt.Sprint(os.Getpid()) {
			continue
		}
		env, err := os.ReadFile("/proc/" + pid + "/environ")
		if err != nil {
			continue
		}
		found := false
		for _, kv := range strings.Split(string(env), "\x00") {
			found = found || kv == want
		}
		stat, _ := os.ReadFile("/proc/" + pid + "/stat")
		if i := strings.LastIndexByte(string(stat), ')'); !found || i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		fmt.Println(pid, strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return 0
}

func testCacheDir() string {
	if d := os.Getenv("RL_TEST_CACHE"); d != "" {
		return d
	}
	return "/var/tmp/rl-test-cache"
}

// layerSums (layersums ARCHIVE) prints the sha256 of every layer of a
// docker-archive or oci-archive, uncompressed, in order: two archives of
// the same image have the same lines exactly when their layers are
// byte-identical.
func layerSums() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: layersums ARCHIVE")
		return 2
	}
	files := map[string][]byte{}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(tr)
		files[path.Clean(h.Name)] = b
	}
	var layers []string
	if m, ok := files["manifest.json"]; ok { // docker-archive
		var dm []struct{ Layers []string }
		json.Unmarshal(m, &dm)
		if len(dm) > 0 {
			layers = dm[0].Layers
		}
	} else { // oci-archive
		var idx struct{ Manifests []struct{ Digest string } }
		json.Unmarshal(files["index.json"], &idx)
		if len(idx.Manifests) == 0 {
			fmt.Fprintln(os.Stderr, "layersums: no manifest")
			return 1
		}
		blob := func(d string) string { return "blobs/sha256/" + strings.TrimPrefix(d, "sha256:") }
		var m struct{ Layers []struct{ Digest string } }
		json.Unmarshal(files[blob(idx.Manifests[0].Digest)], &m)
		for _, l := range m.Layers {
			layers = append(layers, blob(l.Digest))
		}
	}
	for _, l := range layers {
		b, ok := files[path.Clean(l)]
		if !ok {
			fmt.Fprintln(os.Stderr, "layersums: missing layer", l)
			return 1
		}
		var r io.Reader = bytes.NewReader(b)
		if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
			zr, err := gzip.NewReader(r)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			r = zr
		}
		h := sha256.New()
		io.Copy(h, r)
		fmt.Printf("%x\n", h.Sum(nil))
	}
	return 0
}
