package gotest

import "testing"

func TestClean(t *testing.T) {
	if got := RoundTrip("hello"); got != "hello" {
		t.Fatalf("RoundTrip = %q", got)
	}
}

func TestDoubleFree(t *testing.T) {
	if n := FreeTwice("freed twice"); n != 11 {
		t.Fatalf("FreeTwice = %d", n)
	}
}
