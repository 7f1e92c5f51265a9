package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{
		"a": true, "web-1": true, "a_b.c-d": true, "A9": true, "9": true,
		"": false, "-a": false, "_a": false, ".a": false, "a b": false, "a/b": false, "é": false, "a:b": false,
	} {
		if got := validName(s); got != want {
			t.Errorf("validName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestStaticELF(t *testing.T) {
	// A minimal ELF header and program headers: class, byte order, and
	// the types of the program headers.
	mk := func(class, data byte, types ...uint32) []byte {
		var order binary.ByteOrder = binary.LittleEndian
		if data == 2 {
			order = binary.BigEndian
		}
		h := make([]byte, 64)
		copy(h, "\x7fELF")
		h[4], h[5] = class, data
		size := 56
		if class == 1 {
			size = 32
			order.PutUint32(h[0x1c:], 64)
			order.PutUint16(h[0x2a:], uint16(size))
			order.PutUint16(h[0x2c:], uint16(len(types)))
		} else {
			order.PutUint64(h[0x20:], 64)
			order.PutUint16(h[0x36:], uint16(size))
			order.PutUint16(h[0x38:], uint16(len(types)))
		}
		for _, typ := range types {
			ph := make([]byte, size)
			order.PutUint32(ph, typ)
			h = append(h, ph...)
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		static bool
		bad    bool
	}{
		{"64-bit static", mk(2, 1, 1, 1, 4), true, false},
		{"64-bit dynamic", mk(2, 1, 6, 3, 1), false, false},
		{"32-bit big-endian dynamic", mk(1, 2, 3), false, false},
		{"32-bit static", mk(1, 1, 1), true, false},
		{"not ELF", []byte("#!/bin/sh\nexec tini\n"), false, true},
		{"truncated program headers", mk(2, 1, 1, 3)[:80], false, true},
		{"unknown class", mk(3, 1, 1), false, true},
		{"empty", nil, false, true},
	} {
		static, err := staticELF(bytes.NewReader(tc.data))
		if (err != nil) != tc.bad || static != tc.static {
			t.Errorf("%s: staticELF = %v, %v", tc.name, static, err)
		}
	}
	// Real programs: busybox-static has no interpreter, /bin/true has one.
	for path, want := range map[string]bool{"/bin/busybox": true, "/bin/true": false} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		static, err := staticELF(f)
		f.Close()
		if err != nil || static != want {
			t.Errorf("staticELF(%s) = %v, %v; want %v", path, static, err, want)
		}
	}
}
