// Command tcpbench measures TCP throughput for `make bench` (issue 5). It
// is built static so the same binary runs on the host and, bind-mounted,
// in a busybox container.
//
//	tcpbench sink PORT          accept one connection, read it to EOF, print Gbit/s
//	tcpbench send ADDR MB       connect (retrying while nobody listens) and write MB MiB
//
// The receiver measures, from its first byte to EOF, so start-up costs of
// either side (a container start, a port forwarder's first dial) are not
// counted. The receiver greets each connection with one byte, and the
// sender retries until it is greeted: a port forwarder accepts on the host
// before the container listens, and then closes.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 4 && !(len(os.Args) == 3 && os.Args[1] == "sink") {
		fmt.Fprintln(os.Stderr, "usage: tcpbench sink PORT | tcpbench send ADDR MB")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sink":
		err = sink(os.Args[2])
	case "send":
		err = send(os.Args[2], os.Args[3])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpbench:", err)
		os.Exit(1)
	}
}

func sink(port string) error {
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	// The hello tells the sender that a real receiver, not a forwarder
	// that has yet to reach one, holds the other end.
	if _, err := c.Write([]byte{'h'}); err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	n, err := io.ReadAtLeast(c, buf, 1)
	start := time.Now()
	total := int64(n)
	for err == nil {
		n, err = c.Read(buf)
		total += int64(n)
	}
	d := time.Since(start)
	if err != io.EOF {
		return err
	}
	c.Write([]byte{'k'})
	fmt.Printf("%.2f\n", float64(total)*8/d.Seconds()/1e9)
	return nil
}

func send(addr, mb string) error {
	n, err := strconv.Atoi(mb)
	if err != nil {
		return fmt.Errorf("MB: %v", err)
	}
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := hello(addr)
		if err == nil {
			return sendAll(c, buf, n)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hello connects and waits for the receiver's hello byte.
func hello(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 'h' {
		c.Close()
		return nil, fmt.Errorf("no receiver behind %s", addr)
	}
	c.SetReadDeadline(time.Time{})
	return c, nil
}

func sendAll(c net.Conn, buf []byte, n int) error {
	defer c.Close()
	for i := 0; i < n; i++ {
		if _, err := c.Write(buf); err != nil {
			return err
		}
	}
	c.(*net.TCPConn).CloseWrite()
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 'k' {
		return fmt.Errorf("the receiver did not confirm the data")
	}
	return nil
}
