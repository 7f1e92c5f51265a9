package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"rl/image/record"
)

// imagesOpts are rl images' flags.
type imagesOpts struct {
	quiet, digests, noTrunc bool
	format                  string
}

// parseImages parses rl images' flags (in the core, and in the front,
// which prints the listing record itself: images_front.go).
func parseImages(args []string) (imagesOpts, error) {
	var o imagesOpts
	c := commands["images"]
	fs := newFlags(c)
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "show image IDs only")
	fs.StringVar(&o.format, "format", "", "output format: `json` or table")
	fs.BoolVar(&o.digests, "digests", false, "show digests")
	fs.BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate IDs")
	if err := parse(c, fs, args, exitUsage); err != nil {
		return o, err
	}
	if err := nargs(c, fs, 0, 0); err != nil {
		return o, err
	}
	if o.format != "" && o.format != "json" && o.format != "table" {
		return o, &usageError{Msg: fmt.Sprintf("images: --format %q: want json or table", o.format), Code: exitUsage}
	}
	return o, nil
}

// printImages prints the listing as o asks.
func printImages(list []record.Listed, o imagesOpts) error {
	id := func(i string) string {
		if o.noTrunc {
			return "sha256:" + i
		}
		return i[:12]
	}
	switch {
	case o.format == "json":
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		return e.Encode(list)
	case o.quiet:
		seen := map[string]bool{}
		for _, i := range list {
			if !seen[i.ID] {
				fmt.Println(id(i.ID))
				seen[i.ID] = true
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
	hdr := "REPOSITORY\tTAG\t"
	if o.digests {
		hdr += "DIGEST\t"
	}
	fmt.Fprintln(w, hdr+"IMAGE ID\tCREATED\tSIZE")
	for _, i := range list {
		names := i.Names
		if len(names) == 0 {
			names = []string{"<none>:<none>"}
		}
		for _, n := range names {
			repo, tag := n, "<none>"
			if k := strings.LastIndex(n, ":"); k > strings.LastIndex(n, "/") {
				repo, tag = n[:k], n[k+1:]
			}
			line := repo + "\t" + tag + "\t"
			if o.digests {
				line += i.Digest + "\t"
			}
			fmt.Fprintf(w, "%s%s\t%s\t%s\n", line, id(i.ID), ago(i.Created), humanSize(i.Size))
		}
	}
	return w.Flush()
}

func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "Less than a minute ago"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d.Hours()))
	case d < 60*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
	return fmt.Sprintf("%d months ago", int(d.Hours()/24/30))
}

func humanSize(n int64) string {
	f := float64(n)
	for _, u := range []string{"B", "kB", "MB", "GB"} {
		if f < 1000 {
			return fmt.Sprintf("%.3g %s", f, u)
		}
		f /= 1000
	}
	return fmt.Sprintf("%.3g TB", f)
}
