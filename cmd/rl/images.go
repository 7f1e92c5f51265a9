//go:build !rllight || !rlfront

package main

import "rl/image"

func init() { implement("images", runImages) }

// runImages lists the store, and keeps the listing as a record (package
// record, name ""): while the store and its configuration stay as they
// are, the front prints it without the core (images_front.go).
func runImages(args []string) error {
	o, err := parseImages(args)
	if err != nil {
		return err
	}
	rec := newRecord("")
	s, err := image.Open()
	if err != nil {
		return err
	}
	defer s.Close()
	rec = stampStore(rec, s)
	list, err := s.List()
	if err != nil {
		return err
	}
	if rec != nil {
		rec.Images = list
		saveRecord(rec)
	}
	return printImages(list, o)
}
