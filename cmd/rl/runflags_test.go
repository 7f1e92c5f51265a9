package main

import "testing"

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
