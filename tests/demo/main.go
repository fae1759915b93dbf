// The cgoguard demo: one cgo program, one bug class per case.
// Run with no arguments for every case (useful with mode=neutralize),
// or name cases: double-free reuse go-pointer literal stack interior.
package main

/*
#cgo CFLAGS: -Wno-free-nonheap-object
#include <stdlib.h>
#include <string.h>

static const char *greeting(void) { return "hello from a string literal"; }

// Frees a buffer on its own stack: the kind of bug a refactor introduces.
static void free_local(void) {
	char buf[32];
	strcpy(buf, "on the stack");
	free(buf);
}

// Frees past the start of a block it allocated.
static void free_interior(void) {
	char *p = malloc(32);
	free(p + 8);
	free(p);
}
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

func release(p *C.char) { C.free(unsafe.Pointer(p)) }

func doubleFree() {
	s := C.CString("freed twice")
	release(s)
	release(s)
}

func doubleFreeAfterReuse() {
	s := C.CString("freed, then many more strings, then freed again")
	release(s)
	for i := 0; i < 10000; i++ {
		release(C.CString("filler"))
	}
	release(s)
}

func freeGoPointer() {
	x := make([]byte, 64)
	C.free(unsafe.Pointer(&x[0]))
}

func freeLiteral() { C.free(unsafe.Pointer(C.greeting())) }

var cases = []struct {
	name string
	run  func()
}{
	{"double-free", doubleFree},
	{"reuse", doubleFreeAfterReuse},
	{"go-pointer", freeGoPointer},
	{"literal", freeLiteral},
	{"stack", func() { C.free_local() }},
	{"interior", func() { C.free_interior() }},
}

func main() {
	want := map[string]bool{}
	for _, a := range os.Args[1:] {
		want[a] = true
	}
	for _, c := range cases {
		if len(want) == 0 || want[c.name] {
			fmt.Printf("--- case %s\n", c.name)
			c.run()
		}
	}
	fmt.Println("demo finished: the process survived")
}
