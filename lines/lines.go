// Package lines is the text format of rl's own small files and messages
// (image records, the configuration C sends I): one field a line, a key,
// then Go-quoted strings (strconv.Quote: a path, an argument or a
// variable may hold any byte, newlines included), then plain words
// (numbers, flags). encoding/json cost ~1 ms per decode in a fresh
// process here (its decoders are built by reflection on first use), and
// a start decoded three times; splitting these lines costs ~0.1 ms.
package lines

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Writer builds text of lines.
type Writer struct{ b strings.Builder }

// Line adds the line KEY "VAL"... WORD...
func (w *Writer) Line(key string, vals []string, words ...string) {
	w.b.WriteString(key)
	for _, v := range vals {
		w.b.WriteByte(' ')
		w.b.WriteString(strconv.Quote(v))
	}
	for _, v := range words {
		w.b.WriteByte(' ')
		w.b.WriteString(v)
	}
	w.b.WriteByte('\n')
}

// String is the text so far.
func (w *Writer) String() string { return w.b.String() }

// ErrFormat is wrapped by the errors of Each, String and Append.
var ErrFormat = errors.New("malformed line")

// Each calls f for each line of text with its key, its quoted values
// (unquoted) and its words, and stops at f's first error.
func Each(text string, f func(key string, vals, words []string) error) error {
	if text == "" {
		return nil
	}
	for _, ln := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		key, s, _ := strings.Cut(ln, " ")
		var vals []string
		for {
			s = strings.TrimLeft(s, " ")
			if !strings.HasPrefix(s, `"`) {
				break
			}
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrFormat, key, err)
			}
			v, _ := strconv.Unquote(q)
			vals = append(vals, v)
			s = s[len(q):]
		}
		var words []string
		if s = strings.TrimSpace(s); s != "" {
			words = strings.Fields(s)
		}
		if err := f(key, vals, words); err != nil {
			return err
		}
	}
	return nil
}

// String stores a line's one quoted value (and no word) in p.
func String(key string, vals, words []string, p *string) error {
	if len(vals) != 1 || words != nil {
		return fmt.Errorf("%w: %s wants one quoted value", ErrFormat, key)
	}
	*p = vals[0]
	return nil
}

// Append appends a line's one quoted value (and no word) to p.
func Append(key string, vals, words []string, p *[]string) error {
	var v string
	if err := String(key, vals, words, &v); err != nil {
		return err
	}
	*p = append(*p, v)
	return nil
}
