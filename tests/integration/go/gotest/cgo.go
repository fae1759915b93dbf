// Package gotest is run by the integration suite with
// `go test -exec scripts/cgoguard-exec`: one clean test, one with a bug.
package gotest

/*
#include <stdlib.h>
#include <string.h>
*/
import "C"

import "unsafe"

// RoundTrip copies s through C and back, freeing the C copy once.
func RoundTrip(s string) string {
	c := C.CString(s)
	defer C.free(unsafe.Pointer(c))
	return C.GoString(c)
}

// FreeTwice is the bug: the C copy is freed twice.
func FreeTwice(s string) int {
	c := C.CString(s)
	n := int(C.strlen(c))
	C.free(unsafe.Pointer(c))
	C.free(unsafe.Pointer(c))
	return n
}
