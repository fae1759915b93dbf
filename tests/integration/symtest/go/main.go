// A cgo program for the symbolizer test (tests/integration/symbolize.sh):
// a double free through C.free called from a Go function, then a double
// free inside a C function of the preamble.  The test finds the lines by
// their SYMTEST markers; keep each marker on its statement's line.
package main

/*
#include <stdlib.h>

static int drops;

// (the count after free keeps gcc from making free a tail call)
static void drop_c(char *p) {
	free(p); // SYMTEST:drop-free
	drops++;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func release(p *C.char) {
	C.free(unsafe.Pointer(p)) // SYMTEST:go-free
}

func main() {
	fmt.Println("start")
	s := C.CString("freed twice from Go")
	release(s)
	release(s) // SYMTEST:go-second-release
	t := C.CString("freed twice in C")
	C.drop_c(t)
	C.drop_c(t) // SYMTEST:c-second-drop
	fmt.Println("survived")
}
