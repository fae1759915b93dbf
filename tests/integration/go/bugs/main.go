// cgo memory-error cases for the cgoguard integration suite, one per
// argument.  Every case prints "survived" at its end; under mode=abort the
// shim must stop the process (Go's SIGABRT dump) before that line.
package main

/*
#include <stdlib.h>
#include <string.h>

// A C function that hands out a string literal, which the caller then frees.
static const char *greeting(void) { return "hello from a C string literal"; }

// Stores through pointers C must not store through (SIGSEGV in C code).
// The asm hides the pointer's value, or gcc -O2 drops the undefined store.
static void store_literal(void) {
	char *p = (char *)greeting();
	__asm__ volatile("" : "+r"(p));
	*(volatile char *)p = 'H';
}
static void store_null(void) {
	int *p = 0;
	__asm__ volatile("" : "+r"(p));
	*(volatile int *)p = 1;
}
*/
import "C"

import (
	"fmt"
	"os"
	"time"
	"unsafe"
)

func cstringDouble() {
	s := C.CString("freed twice")
	fmt.Println("length", C.strlen(s))
	C.free(unsafe.Pointer(s))
	C.free(unsafe.Pointer(s))
}

var sink [64]byte

func goPointer() {
	var x [64]byte
	x[0] = 'g'
	C.free(unsafe.Pointer(&x))
	sink = x
}

func literal() {
	g := C.greeting()
	fmt.Println(C.GoString(g))
	C.free(unsafe.Pointer(g))
}

func reuse() {
	s := C.CString("freed, then many more strings, then freed again")
	C.free(unsafe.Pointer(s))
	total := 0
	for i := 0; i < 10000; i++ {
		f := C.CString(fmt.Sprintf("filler string number %d", i))
		total += int(C.strlen(f))
		C.free(unsafe.Pointer(f))
	}
	fmt.Println("filler bytes", total)
	C.free(unsafe.Pointer(s))
}

// The double free happens two Go calls below the case: the report's stack
// must name innerRelease, then outerRelease, then main.main.
//
//go:noinline
func innerRelease(p *C.char) { C.free(unsafe.Pointer(p)) }

//go:noinline
func outerRelease(p *C.char) { innerRelease(p) }

func nestedDouble() {
	s := C.CString("freed twice, two calls deep")
	outerRelease(s)
	outerRelease(s)
}

// The same on another goroutine (another thread's g0 stack).
func goroutineDouble() {
	done := make(chan bool)
	go func() {
		nestedDouble()
		done <- true
	}()
	<-done
}

// The seed's leak: map keys copied with C.CString and never freed.
var keys = map[string]*C.char{}

//go:noinline
func remember(k string) { keys[k] = C.CString(k) }

func leakKeys() {
	for i := 0; i < 10; i++ {
		remember(fmt.Sprintf("key-%d", i))
	}
	p := C.malloc(100) // freed: not a leak
	C.free(p)
}

// The same double free five times at one place (dedup: one report, then
// "seen 5 times" at exit, written through the runtime.exit hook).
func doubleLoop() {
	for i := 0; i < 5; i++ {
		s := C.CString("freed twice, in a loop")
		innerRelease(s)
		innerRelease(s)
	}
}

// Go code reading C memory after C.free, through unsafe: no libc call,
// only guard_sample (its page is inaccessible after the free) sees it.
func goReadFreed() {
	p := (*[64]byte)(C.malloc(64))
	p[0] = 'x'
	C.free(unsafe.Pointer(p))
	fmt.Println("go read after free:", readFirst(p))
}

//go:noinline
func readFirst(p *[64]byte) byte { return p[0] }

// Three live C strings while the test sends SIGUSR2 (stats_path), then exits.
func sleepWithBlocks() {
	var held []*C.char
	for i := 0; i < 3; i++ {
		held = append(held, C.CString("held while the stats are written"))
	}
	fmt.Println("ready")
	time.Sleep(1500 * time.Millisecond)
	for _, p := range held {
		C.free(unsafe.Pointer(p))
	}
}

func main() {
	cases := map[string]func(){
		"literal-store":    func() { C.store_literal() },
		"null-store":       func() { C.store_null() },
		"sleep":            sleepWithBlocks,
		"double-loop":      doubleLoop,
		"leak-keys":        leakKeys,
		"nested-double":    nestedDouble,
		"goroutine-double": goroutineDouble,
		"cstring-double": cstringDouble,
		"go-pointer":     goPointer,
		"literal":        literal,
		"reuse":          reuse,
		"go-read-freed":  goReadFreed,
	}
	if len(os.Args) != 2 || cases[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: bugs cstring-double|go-pointer|literal|reuse|nested-double|goroutine-double|leak-keys|double-loop|sleep|literal-store|null-store")
		os.Exit(64)
	}
	fmt.Println("start")
	cases[os.Args[1]]()
	fmt.Println("survived")
}
