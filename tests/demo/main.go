// The cgoguard demo: one cgo program, one bug class per case.
// Run with no arguments for every case (useful with mode=neutralize),
// or name cases (go-reads-freed runs only when named): double-free reuse go-pointer literal stack interior
// strlen-unterminated strcat-overflow strncpy-unterminated literal-write
// strlen-null use-after-free memcpy-overflow stack-overflow leak.
package main

/*
#cgo CFLAGS: -Wno-free-nonheap-object -Wno-stringop-overflow -Wno-array-bounds
#cgo CFLAGS: -fno-builtin-strcpy -fno-builtin-strcat -fno-builtin-strncpy
#cgo CFLAGS: -fno-builtin-memcpy -fno-builtin-strlen
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

// Builds "<prefix>_tmp" in a block one byte too small (no room for the NUL).
static char *tmp_name(const char *prefix) {
	char *name = malloc(strlen(prefix) + 4);
	strcpy(name, prefix);
	strcat(name, "_tmp");
	return name;
}

// strncpy fills all 8 bytes and leaves no terminator.
static size_t copy_then_measure(void) {
	char *d = malloc(8);
	strncpy(d, "0123456789", 8);
	size_t n = strlen(d);
	free(d);
	return n;
}

// Writes into a string literal: a SIGSEGV without the shim.
static void shout(void) { strcpy((char *)greeting(), "HELLO"); }

// A 40-byte name into a 16-byte stack buffer: over the return address.
static __attribute__((noinline)) void stack_copy(const char *s) {
	char buf[16];
	strcpy(buf, s);
	__asm__ volatile("" : : "r"(buf) : "memory");
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

// C.malloc'd bytes handed to strlen with no terminator.
func strlenUnterminated() {
	p := (*C.char)(C.malloc(8))
	C.memcpy(unsafe.Pointer(p), unsafe.Pointer(&[]byte("abcdefgh")[0]), 8)
	fmt.Println("strlen:", C.strlen(p))
	C.free(unsafe.Pointer(p))
}

func strcatOverflow() {
	prefix := C.CString("report")
	name := C.tmp_name(prefix)
	fmt.Println("name:", C.GoString(name))
	C.free(unsafe.Pointer(name))
	C.free(unsafe.Pointer(prefix))
}

func useAfterFree() {
	s := C.CString("already freed")
	release(s)
	fmt.Println("strlen:", C.strlen(s))
}

func memcpyOverflow() {
	src := C.CString("sixteen bytes...and more")
	dst := C.malloc(16)
	C.memcpy(dst, unsafe.Pointer(src), 25)
	C.free(dst)
	C.free(unsafe.Pointer(src))
}

// Map keys copied to C and never freed (seen at exit with leak_report=1).
var cKeys = map[string]*C.char{}

func leakKeys() {
	for _, k := range []string{"alpha", "beta", "gamma"} {
		cKeys[k] = C.CString(k)
	}
}

func stackOverflow() {
	s := C.CString("a name that is forty bytes long, at least")
	C.stack_copy(s)
	C.free(unsafe.Pointer(s))
}

// Go code reading C memory after C.free, through unsafe: no libc call, so
// only a sampled block (guard_sample) shows it.  Run only when named.
func goReadsFreed() {
	p := (*[32]byte)(C.malloc(32))
	p[0] = 'x'
	C.free(unsafe.Pointer(p))
	fmt.Println("read after free:", firstByte(p))
}

//go:noinline
func firstByte(p *[32]byte) byte { return p[0] }

var cases = []struct {
	name  string
	run   func()
	named bool // only when asked for by name
}{
	{"double-free", doubleFree, false},
	{"reuse", doubleFreeAfterReuse, false},
	{"go-pointer", freeGoPointer, false},
	{"literal", freeLiteral, false},
	{"stack", func() { C.free_local() }, false},
	{"interior", func() { C.free_interior() }, false},
	{"strlen-unterminated", strlenUnterminated, false},
	{"strcat-overflow", strcatOverflow, false},
	{"strncpy-unterminated", func() { fmt.Println("strlen:", C.copy_then_measure()) }, false},
	{"literal-write", func() { C.shout() }, false},
	{"strlen-null", func() { fmt.Println("strlen:", C.strlen(nil)) }, false},
	{"use-after-free", useAfterFree, false},
	{"memcpy-overflow", memcpyOverflow, false},
	{"stack-overflow", stackOverflow, false},
	{"leak", leakKeys, false},
	{"go-reads-freed", goReadsFreed, true},
}

func main() {
	want := map[string]bool{}
	for _, a := range os.Args[1:] {
		want[a] = true
	}
	for _, c := range cases {
		if (len(want) == 0 && !c.named) || want[c.name] {
			fmt.Printf("--- case %s\n", c.name)
			c.run()
		}
	}
	fmt.Println("demo finished: the process survived")
}
