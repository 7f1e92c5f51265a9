// Command mkimage builds rl's test images offline, as OCI image layouts,
// from files already on the host: a busybox image from Debian's
// busybox-static (two layers, files of several owners, a whiteout), or a
// one-layer image from a rootfs tarball (debootstrap's output). Output is
// deterministic: the same inputs give the same digests.
//
//	mkimage -busybox /bin/busybox -o DIR
//	mkimage -rootfs-tar debian.tar -o DIR
//	mkimage -busybox /bin/busybox -hostile -o DIR   (a third, hostile layer)
//	mkimage -busybox /bin/busybox -corrupt -o DIR   (a layer blob that does not match its digest)
//	mkimage -htpasswd USER:PASSWORD                 (a bcrypt line for docker-registry)
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

var epoch = time.Unix(1700000000, 0).UTC()

type entry struct {
	name     string
	mode     int64
	uid, gid int
	typ      byte
	body     string // file content, or link target
}

func main() {
	busybox := flag.String("busybox", "", "path of a static busybox binary")
	rootfsTar := flag.String("rootfs-tar", "", "a rootfs tarball to wrap as one layer")
	out := flag.String("o", "", "output OCI layout directory")
	hostile := flag.Bool("hostile", false, "add a layer that tries to write outside itself")
	corrupt := flag.Bool("corrupt", false, "damage a layer blob after writing it")
	extra := flag.Int("layers", 0, "add `N` layers of one small file each")
	htpasswd := flag.String("htpasswd", "", "print a bcrypt htpasswd line for `USER:PASSWORD`")
	flag.Parse()
	if *htpasswd != "" {
		user, pass, _ := strings.Cut(*htpasswd, ":")
		h, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkimage:", err)
			os.Exit(1)
		}
		fmt.Printf("%s:%s\n", user, h)
		return
	}
	if *out == "" || (*busybox == "") == (*rootfsTar == "") {
		fmt.Fprintln(os.Stderr, "usage: mkimage (-busybox PATH | -rootfs-tar FILE) -o DIR")
		os.Exit(2)
	}
	var layers [][]byte
	var err error
	cmd := []string{"sh"}
	if *busybox != "" {
		layers, err = busyboxLayers(*busybox)
		if err == nil && *hostile {
			var h []byte
			h, err = tarOf(hostileEntries)
			layers = append(layers, h)
		}
		for i := 0; err == nil && i < *extra; i++ {
			var l []byte
			l, err = tarOf([]entry{{name: "layers/", mode: 0755}, {name: fmt.Sprintf("layers/%d", i), mode: 0644, body: fmt.Sprintf("%d\n", i)}})
			layers = append(layers, l)
		}
	} else {
		var b []byte
		b, err = os.ReadFile(*rootfsTar)
		layers = [][]byte{b}
		cmd = []string{"bash"}
	}
	if err == nil {
		err = writeLayout(*out, layers, cmd)
	}
	if err == nil && *corrupt {
		err = damageLayer(*out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func busyboxLayers(bb string) ([][]byte, error) {
	bin, err := os.ReadFile(bb)
	if err != nil {
		return nil, err
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", bb, err)
	}
	base := []entry{
		{name: "bin/", mode: 0755}, {name: "dev/", mode: 0755}, {name: "etc/", mode: 0755},
		{name: "home/", mode: 0755}, {name: "home/user/", mode: 0755, uid: 1000, gid: 1000},
		{name: "proc/", mode: 0555}, {name: "root/", mode: 0700}, {name: "run/", mode: 0755},
		{name: "sys/", mode: 0555}, {name: "tmp/", mode: 01777}, {name: "var/", mode: 0755},
		{name: "usr/", mode: 0755}, {name: "usr/bin/", mode: 0755},
		{name: "bin/busybox", mode: 0755, body: string(bin)},
		{name: "etc/passwd", mode: 0644, body: "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		{name: "etc/group", mode: 0644, body: "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n"},
		{name: "owned/", mode: 0755},
		{name: "owned/1000", mode: 0644, uid: 1000, gid: 1000, body: "1000\n"},
		{name: "owned/2000", mode: 0600, uid: 2000, gid: 2000, body: "2000\n"},
		{name: "owned/65534", mode: 0644, uid: 65534, gid: 65534, body: "65534\n"},
		{name: "owned/dir1000/", mode: 0700, uid: 1000, gid: 1000},
		{name: "owned/dir1000/secret", mode: 0600, uid: 1000, gid: 1000, body: "secret\n"},
	}
	for _, a := range strings.Fields(string(list)) {
		if a != "busybox" {
			base = append(base, entry{name: "bin/" + a, typ: tar.TypeSymlink, body: "busybox", mode: 0777})
		}
	}
	top := []entry{
		{name: "etc/", mode: 0755},
		{name: "etc/motd", mode: 0644, body: "rl test image\n"},
		{name: "owned/", mode: 0755},
		{name: "owned/.wh.65534", mode: 0644}, // deleted in the top layer
	}
	l1, err := tarOf(base)
	if err != nil {
		return nil, err
	}
	l2, err := tarOf(top)
	return [][]byte{l1, l2}, err
}

// hostileEntries try every way out of a layer that a registry could
// serve: "..", an absolute name, a write through a symlink that points
// out, and a device node. (A hard link to a file outside the layer makes
// containers/storage refuse the whole layer: "unpacking failed".)
var hostileEntries = []entry{
	{name: "../../../../../../tmp/rl-hostile-dotdot", mode: 0644, body: "escaped\n"},
	{name: "/tmp/rl-hostile-abs", mode: 0644, body: "escaped\n"},
	{name: "escape", mode: 0777, typ: tar.TypeSymlink, body: "/tmp"},
	{name: "escape/rl-hostile-via-symlink", mode: 0644, body: "escaped\n"},
	{name: "devnode", mode: 0666, typ: tar.TypeChar, body: "1:3"},
	{name: "inside", mode: 0644, body: "a normal file\n"},
}

// damageLayer changes the first layer blob, keeping its name: the blob no
// longer matches its digest.
func damageLayer(dir string) error {
	ib, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return err
	}
	var idx struct{ Manifests []descriptor }
	json.Unmarshal(ib, &idx)
	mb, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(idx.Manifests[0].Digest, "sha256:")))
	if err != nil {
		return err
	}
	var m struct{ Layers []descriptor }
	json.Unmarshal(mb, &m)
	p := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(m.Layers[0].Digest, "sha256:"))
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	// A valid gzip stream of a different tar (one more zero block): only
	// the digest check can notice.
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	raw = append(raw, make([]byte, 512)...)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	zw.Write(raw)
	zw.Close()
	return os.WriteFile(p, gz.Bytes(), 0644)
}

func tarOf(es []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case e.typ == tar.TypeSymlink || e.typ == tar.TypeLink:
			h.Typeflag, h.Linkname = e.typ, e.body
		case e.typ == tar.TypeChar:
			h.Typeflag = tar.TypeChar
			fmt.Sscanf(e.body, "%d:%d", &h.Devmajor, &h.Devminor)
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag = tar.TypeDir
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				return nil, err
			}
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func writeLayout(dir string, layers [][]byte, cmd []string) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0755); err != nil {
		return err
	}
	put := func(b []byte, mt string) (descriptor, error) {
		sum := sha256.Sum256(b)
		d := descriptor{MediaType: mt, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(b))}
		return d, os.WriteFile(filepath.Join(blobs, hex.EncodeToString(sum[:])), b, 0644)
	}
	var diffIDs []string
	var layerDescs []descriptor
	for _, l := range layers {
		sum := sha256.Sum256(l)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(sum[:]))
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed) // no name, no mtime: deterministic
		zw.Write(l)
		zw.Close()
		d, err := put(gz.Bytes(), "application/vnd.oci.image.layer.v1.tar+gzip")
		if err != nil {
			return err
		}
		layerDescs = append(layerDescs, d)
	}
	config := map[string]any{
		"created":      epoch.Format(time.RFC3339),
		"architecture": "amd64",
		"os":           "linux",
		"config": map[string]any{
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Cmd": cmd,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	}
	// A history entry per layer: what converting the image to docker
	// schema1 needs (skopeo copy --format v2s1, for rl's schema1 test).
	var history []map[string]any
	for i := range layers {
		history = append(history, map[string]any{"created": epoch.Format(time.RFC3339), "created_by": fmt.Sprintf("mkimage layer %d", i+1)})
	}
	config["history"] = history
	cb, _ := json.Marshal(config)
	cd, err := put(cb, "application/vnd.oci.image.config.v1+json")
	if err != nil {
		return err
	}
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        cd,
		"layers":        layerDescs,
	}
	mb, _ := json.Marshal(manifest)
	md, err := put(mb, "application/vnd.oci.image.manifest.v1+json")
	if err != nil {
		return err
	}
	md.Annotations = map[string]string{"org.opencontainers.image.ref.name": "latest"}
	ib, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []descriptor{md}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), ib, 0644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0644)
}
