package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"rl/cgroupv2"
	"rl/network"
	"rl/spec"
	"rl/userns"
)

// runFlags are the raw flags of `rl run`.
type runFlags struct {
	volumes, mounts, tmpfs        []string
	env, envFiles                 []string
	workdir, user                 string
	groupAdd                      []string
	entrypoint                    string
	hostname, name                string
	rm, interactive, tty          bool
	readOnly, init, privileged    bool
	detach, dryRun                bool
	userns                        string
	capAdd, capDrop, securityOpts []string
	pull, networkMode             string
	publish                       []string
	dns, dnsSearch, dnsOption     []string
	addHost                       []string
	noHosts                       bool
	tlsVerify                     bool
	creds                         string
	limits                        limitFlags
	cgroups                       string
	statsAtExit, rootfs           bool
	oomScoreAdj                   int
}

func (f *runFlags) define(fs *pflag.FlagSet) {
	listVar(fs, &f.volumes, "volume", "v", "bind mount `HOST:CONTAINER[:ro|rw]`", false)
	listVar(fs, &f.mounts, "mount", "", "mount `type=bind|tmpfs,source=,target=[,readonly]`", false)
	listVar(fs, &f.tmpfs, "tmpfs", "", "mount a tmpfs at `PATH[:OPTIONS]`", false)
	listVar(fs, &f.env, "env", "e", "set `KEY=VALUE` (KEY alone: the host's value)", false)
	listVar(fs, &f.envFiles, "env-file", "", "read environment variables from `FILE`", false)
	fs.StringVarP(&f.workdir, "workdir", "w", "", "working `DIR` inside the container")
	fs.StringVarP(&f.user, "user", "u", "", "run as `USER[:GROUP]` (names or numbers)")
	listVar(fs, &f.groupAdd, "group-add", "", "add a supplementary `GROUP`", false)
	fs.StringVar(&f.entrypoint, "entrypoint", "", "override the image's entrypoint with `CMD`")
	fs.StringVarP(&f.hostname, "hostname", "h", "", "container host `NAME`")
	fs.StringVar(&f.name, "name", "", "container `NAME`")
	fs.BoolVar(&f.rm, "rm", false, "remove the container when it exits (always done; rl keeps no stopped containers)")
	fs.BoolVarP(&f.interactive, "interactive", "i", false, "keep stdin open")
	fs.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-terminal")
	fs.BoolVar(&f.readOnly, "read-only", false, "mount the root file system read-only")
	fs.BoolVar(&f.init, "init", false, "run a reaping init (tini or catatonit) as pid 1")
	fs.BoolVar(&f.privileged, "privileged", false, "all capabilities inside the user namespace, no masked paths")
	fs.BoolVarP(&f.detach, "detach", "d", false, "not supported: rl runs containers in the foreground")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the OCI runtime configuration (config.json) instead of running")
	fs.StringVar(&f.userns, "userns", "", "user namespace mode: `keep-id` or host (the default)")
	listVar(fs, &f.capAdd, "cap-add", "", "add `CAPABILITIES`", true)
	listVar(fs, &f.capDrop, "cap-drop", "", "drop `CAPABILITIES`", true)
	listVar(fs, &f.securityOpts, "security-opt", "", "`no-new-privileges`", false)
	fs.StringVar(&f.pull, "pull", "missing", "pull the image: `missing`, always or never")
	fs.StringVar(&f.networkMode, "network", "", "`slirp4netns` (default), host or none")
	fs.StringVar(&f.networkMode, "net", "", "same as --network")
	listVar(fs, &f.publish, "publish", "p", "publish `[IP:]HOSTPORT:PORT[/tcp|udp]`", false)
	listVar(fs, &f.dns, "dns", "", "DNS `SERVER`s", true)
	listVar(fs, &f.dnsSearch, "dns-search", "", "DNS search `DOMAIN`s", true)
	listVar(fs, &f.dnsOption, "dns-option", "", "resolv.conf `OPTION`s", true)
	listVar(fs, &f.addHost, "add-host", "", "add `NAME:IP` to /etc/hosts", false)
	fs.BoolVar(&f.noHosts, "no-hosts", false, "do not write /etc/hosts")
	fs.BoolVar(&f.tlsVerify, "tls-verify", true, "require HTTPS when pulling")
	fs.StringVar(&f.creds, "creds", "", "`USER[:PASSWORD]` for pulling")
	fs.StringVar(&f.cgroups, "cgroups", "enabled", "`enabled` or disabled (no cgroup of its own)")
	fs.BoolVar(&f.statsAtExit, "stats-at-exit", false, "print the container's memory, cpu, pids and io use from its cgroup when it exits")
	fs.IntVar(&f.oomScoreAdj, "oom-score-adj", 0, "the command's OOM killer `ADJUSTMENT` (-1000 to 1000; lowering it needs privileges)")
	fs.BoolVar(&f.rootfs, "rootfs", false, "the first argument is a directory to use as the root file system, not an image")
	f.limits.Define(fs)
	fs.MarkHidden("net")
}

// runConfig is everything `rl run` decided before its first side effect.
type runConfig struct {
	Opts      spec.Options
	Image     string
	Network   network.Mode
	Publish   []network.Port
	AddHosts  []network.HostEntry
	Pull      string
	Limits    *cgroupv2.Limits
	Cgroup    bool   // the container gets a cgroup of its own (limits or --stats-at-exit)
	Rootfs    string // --rootfs: the absolute directory
	Flags     *runFlags
	TLSVerify *bool
}

// validName reports whether s is a valid --name or --hostname, docker's
// [a-zA-Z0-9][a-zA-Z0-9_.-]* (by hand: a regexp is compiled at init,
// which every exec of the front would pay).
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return s != ""
}

// validate checks every flag and turns them into a runConfig. It reads
// files named by flags (--env-file, -v sources) but changes nothing.
func (f *runFlags) validate(fs *pflag.FlagSet, args []string) (*runConfig, error) {
	bad := func(format string, a ...any) error {
		return &usageError{Msg: "run: " + fmt.Sprintf(format, a...), Code: exitRLFailed}
	}
	wrap := func(err error) error {
		return &hintedUsage{usageError{Msg: "run: " + err.Error(), Code: exitRLFailed}, hintOf(err)}
	}
	if len(args) == 0 {
		return nil, bad("an image name is required (usage: %s)", commands["run"].Usage)
	}
	c := &runConfig{Image: args[0], Flags: f}
	o := &c.Opts
	o.Args = args[1:]
	if f.detach {
		return nil, &hintedUsage{usageError{Msg: "run: --detach is not supported: rl has no daemon to keep the container", Code: exitRLFailed}, "run it in the background with your shell (rl run ... &) or under nohup/tmux"}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("finding the current directory: %w", err)
	}
	for _, v := range f.volumes {
		m, err := spec.ParseVolume(v, cwd)
		if err != nil {
			return nil, bad("%v", err)
		}
		if _, err := os.Stat(m.Source); err != nil {
			return nil, bad("-v %s: host path %s does not exist", v, m.Source)
		}
		o.Mounts = append(o.Mounts, m)
	}
	for _, v := range f.mounts {
		m, err := spec.ParseMount(v, cwd)
		if err != nil {
			return nil, bad("%v", err)
		}
		if m.Type == "bind" {
			if _, err := os.Stat(m.Source); err != nil {
				return nil, bad("--mount %s: host path %s does not exist", v, m.Source)
			}
		}
		o.Mounts = append(o.Mounts, m)
	}
	for _, v := range f.tmpfs {
		m, err := spec.ParseTmpfs(v)
		if err != nil {
			return nil, bad("%v", err)
		}
		o.Mounts = append(o.Mounts, m)
	}
	for _, m := range o.Mounts {
		if m.Destination == "/" {
			return nil, bad("cannot mount over the container's /")
		}
	}
	// --env-file first, then -e, so that -e wins (docker).
	var envs []string
	for _, name := range f.envFiles {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, bad("--env-file %s: %v", name, unwrapPath(err))
		}
		e, err := spec.ParseEnvFile(name, string(b), os.LookupEnv)
		if err != nil {
			return nil, bad("%v", err)
		}
		envs = append(envs, e...)
	}
	for _, v := range f.env {
		e, err := spec.ParseEnv(v, os.LookupEnv)
		if err != nil {
			return nil, bad("%v", err)
		}
		envs = append(envs, e...)
	}
	o.Env = envs
	if f.workdir != "" && !strings.HasPrefix(f.workdir, "/") {
		return nil, bad("-w %q: the working directory must be an absolute path", f.workdir)
	}
	o.Workdir, o.User, o.GroupAdd = f.workdir, f.user, f.groupAdd
	if strings.HasPrefix(f.user, ":") || strings.HasSuffix(f.user, ":") || strings.Count(f.user, ":") > 1 {
		return nil, bad("-u %q: want USER[:GROUP]", f.user)
	}
	if fs.Changed("entrypoint") {
		e := f.entrypoint
		o.Entrypoint = &e
	}
	if f.hostname != "" && (len(f.hostname) > 64 || !validName(f.hostname)) {
		return nil, bad("--hostname %q: not a valid host name", f.hostname)
	}
	o.Hostname = f.hostname
	if f.name != "" && !validName(f.name) {
		return nil, bad("--name %q: names are [a-zA-Z0-9][a-zA-Z0-9_.-]*", f.name)
	}
	o.Terminal, o.ReadOnly, o.Privileged = f.tty, f.readOnly, f.privileged
	switch f.userns {
	case "", "host":
	case "keep-id":
		o.KeepID = true
	default:
		return nil, bad("--userns %q: want keep-id or host", f.userns)
	}
	for _, v := range f.capAdd {
		cp, err := spec.ParseCap(v)
		if err != nil {
			return nil, bad("--cap-add: %v", err)
		}
		o.CapAdd = append(o.CapAdd, cp)
	}
	for _, v := range f.capDrop {
		cp, err := spec.ParseCap(v)
		if err != nil {
			return nil, bad("--cap-drop: %v", err)
		}
		o.CapDrop = append(o.CapDrop, cp)
	}
	for _, v := range f.securityOpts {
		switch v {
		case "no-new-privileges", "no-new-privileges:true", "no-new-privileges=true":
			o.NoNewPrivs = true
		case "no-new-privileges:false", "no-new-privileges=false":
		case "label=disable", "seccomp=unconfined", "apparmor=unconfined":
			// Nothing to disable: rl applies no LSM profile or seccomp filter.
		default:
			return nil, bad("--security-opt %q: rl supports no-new-privileges only", v)
		}
	}
	switch f.pull {
	case "missing", "always", "never", "newer":
		c.Pull = f.pull
	default:
		return nil, bad("--pull %q: want missing, always or never", f.pull)
	}
	if c.Network, err = network.ParseMode(f.networkMode); err != nil {
		return nil, wrap(err)
	}
	o.HostNet = c.Network.Kind == network.Host
	for _, p := range f.publish {
		port, err := network.ParsePort(p)
		if err != nil {
			return nil, bad("%v", err)
		}
		c.Publish = append(c.Publish, port)
	}
	if len(c.Publish) > 0 && c.Network.Kind != network.SlirpMode {
		return nil, bad("-p needs the slirp4netns network; with --network %s there is nothing to publish", c.Network.Kind)
	}
	for _, h := range f.addHost {
		e, err := network.ParseAddHost(h)
		if err != nil {
			return nil, bad("%v", err)
		}
		c.AddHosts = append(c.AddHosts, e)
	}
	for _, d := range f.dns {
		if !network.ValidIP(d) {
			return nil, bad("--dns %q: not an IP address", d)
		}
	}
	if err := network.Check(c.Network); err != nil {
		return nil, wrap(err)
	}
	if f.init {
		p, err := findInit()
		if err != nil {
			return nil, wrap(err)
		}
		o.Init = p
	}
	if f.tty && f.interactive && !isTerminal(os.Stdin) {
		return nil, bad("the input device is not a TTY (drop -t, or run from a terminal)")
	}
	switch f.cgroups {
	case "enabled", "disabled", "no-conmon":
	default:
		return nil, bad("--cgroups %q: want enabled or disabled", f.cgroups)
	}
	lim, err := f.limits.Parse(fs)
	if err != nil {
		return nil, bad("%v", err)
	}
	if lim != nil || f.statsAtExit {
		if f.cgroups == "disabled" {
			return nil, bad("resource limits and --stats-at-exit need a cgroup; they cannot be combined with --cgroups=disabled")
		}
		check := lim
		if check == nil {
			check = &cgroupv2.Limits{Set: []string{"--stats-at-exit"}}
		}
		// In P only. C validates the same flags again, possibly while
		// newuidmap is writing its maps: an ownership check across that
		// moment compared an unmapped uid with a mapped owner and failed
		// now and then (seen in the systemd VM test). C's cgroup step
		// (cgroupv2.Create) checks again once C is mapped.
		if !userns.IsChild() {
			if err := cgroupv2.CanEnforce(check); err != nil {
				return nil, wrap(err)
			}
		}
		c.Limits, c.Cgroup = lim, true
		o.Cgroup = true
	}
	if fs.Changed("oom-score-adj") {
		if f.oomScoreAdj < -1000 || f.oomScoreAdj > 1000 {
			return nil, bad("--oom-score-adj %d: want -1000 to 1000", f.oomScoreAdj)
		}
		v := f.oomScoreAdj
		o.OOMScoreAdj = &v
	}
	if f.rootfs {
		dir, err := filepath.Abs(c.Image)
		if err == nil {
			var st os.FileInfo
			if st, err = os.Stat(dir); err == nil && !st.IsDir() {
				err = errors.New("not a directory")
			}
		}
		if err != nil {
			return nil, bad("--rootfs %s: %v", c.Image, unwrapPath(err))
		}
		c.Rootfs = dir
	}
	if fs.Changed("tls-verify") {
		v := f.tlsVerify
		c.TLSVerify = &v
	}
	return c, nil
}

// findInit looks for a static init for --init: it is bind-mounted into
// images whose libc is unknown, so it must not need one.
func findInit() (string, error) {
	for _, name := range []string{"catatonit", "tini-static", "/usr/libexec/podman/catatonit", "tini"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if f, err := os.Open(p); err == nil {
			static, err := staticELF(f)
			f.Close()
			if err == nil && static {
				return p, nil
			}
		}
	}
	return "", &hintErr{fmt.Errorf("--init: no statically linked init (catatonit or tini-static) found"), "apt-get install catatonit (or tini)"}
}

// staticELF reports whether r is an ELF executable without a program
// interpreter (PT_INTERP; elf(5)): one that needs no dynamic loader. By
// hand: debug/elf links compress/flate and debug/dwarf, whose package
// initialisation cost every start of rl ~0.7 ms here.
func staticELF(r io.ReaderAt) (bool, error) {
	var h [64]byte
	if _, err := r.ReadAt(h[:], 0); err != nil && err != io.EOF {
		return false, err
	}
	if string(h[:4]) != "\x7fELF" {
		return false, errors.New("not an ELF file")
	}
	var order binary.ByteOrder
	switch h[5] {
	case 1:
		order = binary.LittleEndian
	case 2:
		order = binary.BigEndian
	default:
		return false, errors.New("ELF: unknown byte order")
	}
	var off int64
	var size, num int
	switch h[4] {
	case 1: // ELFCLASS32
		off, size, num = int64(order.Uint32(h[0x1c:])), int(order.Uint16(h[0x2a:])), int(order.Uint16(h[0x2c:]))
	case 2: // ELFCLASS64
		off, size, num = int64(order.Uint64(h[0x20:])), int(order.Uint16(h[0x36:])), int(order.Uint16(h[0x38:]))
	default:
		return false, errors.New("ELF: unknown class")
	}
	if size < 4 || off < 0 {
		return false, errors.New("ELF: bad program headers")
	}
	ph := make([]byte, size*num)
	if _, err := r.ReadAt(ph, off); err != nil {
		return false, fmt.Errorf("ELF: program headers: %w", err)
	}
	const ptInterp = 3
	for i := 0; i < num; i++ {
		if order.Uint32(ph[i*size:]) == ptInterp {
			return false, nil
		}
	}
	return true, nil
}

type hintedUsage struct {
	usageError
	hint string
}

func (e *hintedUsage) Hint() string  { return e.hint }
func (e *hintedUsage) Unwrap() error { return &e.usageError }

func hintOf(err error) string {
	if h, ok := err.(hinter); ok {
		return h.Hint()
	}
	return ""
}

type hintErr struct {
	err  error
	hint string
}

func (e *hintErr) Error() string { return e.err.Error() }
func (e *hintErr) Unwrap() error { return e.err }
func (e *hintErr) Hint() string  { return e.hint }

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
