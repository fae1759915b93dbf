// cgo string and memory cases for the cgoguard integration suite, one per
// argument.  A bug case prints "start", makes one bad libc call through a
// small C function, checks what the neutralized call did ("ok: ..." or
// "WRONG: ..." lines) and prints "survived"; under mode=abort the shim
// stops the process (Go's SIGABRT dump) before the checks.  "ok" is a
// correct program whose output must be the same with and without the shim.
//
// Build with CGO_CFLAGS="-O0 -g -fno-builtin" so that gcc keeps every libc
// call visible to the shim.
package main

/*
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
// no frame pointer, no stack protector: a neutralized stack write stops
// just before the saved return address and clobbers nothing the caller uses
#define VICTIM __attribute__((noinline, optimize("O2", "omit-frame-pointer", "no-stack-protector")))

// opaque to the optimiser
NOINLINE static void *launder(void *p) { void *volatile v = p; return v; }
#define V(p) launder((void *)(p))

static size_t usable(size_t n) { return n <= 8 ? 8 : (n + 15) & ~(size_t)15; }

// n bytes 'A', 'B', ... with no NUL, then '#' canary bytes up to the end
// of the jemalloc size class
NOINLINE static char *unterm(size_t n) {
	char *p = malloc(n);
	for (size_t i = 0; i < n; i++) p[i] = (char)('A' + i % 26);
	for (size_t i = n; i < usable(n); i++) p[i] = '#';
	return p;
}
// a block of n bytes of 'z', canary after
NOINLINE static char *dest(size_t n) {
	char *p = malloc(n);
	for (size_t i = 0; i < n; i++) p[i] = 'z';
	for (size_t i = n; i < usable(n); i++) p[i] = '#';
	return p;
}
NOINLINE static void set_canary(char *p, size_t n) {
	for (size_t i = n; i < usable(n); i++) p[i] = '#';
}
NOINLINE static int canary_ok(const char *p, size_t n) {
	for (size_t i = n; i < usable(n); i++)
		if (p[i] != '#') return 0;
	return 1;
}
NOINLINE static char *literal(void) { return V("a C string literal"); }
NOINLINE static void flush(void) { fflush(stdout); }

NOINLINE static size_t c_strlen(const char *s) { return strlen(V(s)); }
NOINLINE static char *c_strcpy(char *d, const char *s) { return strcpy(V(d), V(s)); }
NOINLINE static char *c_strcat(char *d, const char *s) { return strcat(V(d), V(s)); }
NOINLINE static char *c_strncpy(char *d, const char *s, size_t n) { return strncpy(V(d), V(s), n); }
NOINLINE static void *c_memcpy(void *d, const void *s, size_t n) { return memcpy(V(d), V(s), n); }
NOINLINE static int c_sprintf_sd(char *d, const char *s, int i) { return sprintf(V(d), "%s-%d", (char *)V(s), i); }
NOINLINE static int c_printf_s(const char *s) { int r = printf("[%s]\n", (char *)V(s)); fflush(stdout); return r; }
NOINLINE static int c_puts(const char *s) { int r = puts(V(s)); fflush(stdout); return r; }
NOINLINE static int c_strcmp(const char *a, const char *b) { return strcmp(V(a), V(b)); }
NOINLINE static char *c_strdup(const char *s) { return strdup(V(s)); }
NOINLINE static int c_snprintf_s(char *d, size_t n, const char *s) { return snprintf(V(d), n, "<%s>", (char *)V(s)); }
NOINLINE static void *c_memset(void *d, int c, size_t n) { return memset(V(d), c, n); }

VICTIM static int stack_victim(const char *s) {
	char buf[16];
	buf[0] = 'k';
	buf[1] = 0;
	strcpy(buf, s);
	return buf[0];
}
*/
import "C"

import (
	"fmt"
	"os"
	"reflect"
	"unsafe"
)

var nwrong int

func check(ok bool, format string, args ...interface{}) {
	w := "ok:"
	if !ok {
		w = "WRONG:"
		nwrong++
	}
	fmt.Println(w, fmt.Sprintf(format, args...))
}

func at(p *C.char, off int) *C.char { return (*C.char)(unsafe.Add(unsafe.Pointer(p), off)) }

// goString: the n bytes at p (no libc call).
func goBytes(p *C.char, n int) string { return string(C.GoBytes(unsafe.Pointer(p), C.int(n))) }

// seed: a buffer of n bytes with no terminator passed to strlen
func strlenUnterminated() {
	p := C.unterm(13)
	n := C.c_strlen(p)
	check(n == 13, "strlen of an unterminated 13-byte block = %d (13)", n)
}

// an interior pointer
func strlenInterior() {
	p := C.unterm(13)
	n := C.c_strlen(at(p, 5))
	check(n == 8, "strlen(p + 5) = %d (8)", n)
}

// seed: malloc(strlen(prefix) + 4), strcpy, strcat(.., "_tmp"): one byte short
func prefixTmp() {
	prefix := C.CString("cache")
	size := C.c_strlen(prefix) + 4
	p := (*C.char)(C.malloc(size))
	C.set_canary(p, size)
	C.c_strcpy(p, prefix)
	suffix := C.CString("_tmp")
	r := C.c_strcat(p, suffix)
	check(r == p, "strcat returns d")
	check(goBytes(p, 9) == "cache_tm\x00", "truncated to 'cache_tm' and terminated: %q", goBytes(p, 9))
	check(C.canary_ok(p, size) == 1, "bytes after the block untouched")
}

// seed: strncpy that leaves no terminator, then strlen
func strncpyThenStrlen() {
	d := C.dest(8)
	src := C.CString("0123456789")
	C.c_strncpy(d, src, 8)
	n := C.c_strlen(d)
	check(n == 8, "strlen after strncpy = %d (8)", n)
}

// seed: strcpy into a string literal
func strcpyLiteral() {
	l := C.literal()
	xy := C.CString("XY")
	r := C.c_strcpy(l, xy)
	check(r == l, "strcpy returns d")
	check(goBytes(l, 3) == "a C", "the literal is unchanged: %q", goBytes(l, 3))
}

// a Go string literal: read-only data of the Go binary
func goLiteral() {
	lit := "a Go string literal"
	p := (*C.char)(unsafe.Pointer((*reflect.StringHeader)(unsafe.Pointer(&lit)).Data))
	xy := C.CString("XY")
	C.c_strcpy(p, xy)
	check(lit == "a Go string literal", "the literal is unchanged: %q", lit)
}

// seed: strlen(NULL)
func strlenNull() {
	n := C.c_strlen(nil)
	check(n == 0, "strlen(NULL) = %d (0)", n)
}

func useAfterFree() {
	s := C.CString("freed Go-made C string")
	C.free(unsafe.Pointer(s))
	n := C.c_strlen(s)
	check(n == 23, "strlen of a freed 23-byte block = %d (23)", n)
}

func stackOverflow() {
	s := C.CString("0123456789012345678901234567890123456789")
	r := C.stack_victim(s)
	check(r == 'k', "the C function returned normally, its buffer kept its contents (%d)", r)
}

func memcpyOverflow() {
	d := C.dest(13)
	s := C.CString("0123456789abcdefghij")
	r := C.c_memcpy(unsafe.Pointer(d), unsafe.Pointer(s), 20)
	check(r == unsafe.Pointer(d), "memcpy returns d")
	check(goBytes(d, 13) == "0123456789abc", "13 bytes copied: %q", goBytes(d, 13))
	check(C.canary_ok(d, 13) == 1, "bytes after the block untouched")
}

func memsetOverflow() {
	d := C.dest(13)
	C.c_memset(unsafe.Pointer(d), 'x', 16)
	check(goBytes(d, 13) == "xxxxxxxxxxxxx" && C.canary_ok(d, 13) == 1, "13 bytes set, canary intact")
}

func sprintfOverflow() {
	d := C.dest(13)
	s := C.CString("abcdefghij")
	r := C.c_sprintf_sd(d, s, 12345)
	check(r == 12, "sprintf returns the 12 chars written (%d)", r)
	check(goBytes(d, 13) == "abcdefghij-1\x00", "truncated and terminated: %q", goBytes(d, 13))
	check(C.canary_ok(d, 13) == 1, "bytes after the block untouched")
}

func printfOverread() {
	r := C.c_printf_s(C.unterm(8))
	check(r == 11, "printf prints '[ABCDEFGH]' = %d (11)", r)
}

func putsFreed() {
	s := C.CString("freed")
	C.free(unsafe.Pointer(s))
	r := C.c_puts(s)
	check(r >= 0, "puts of a freed block returns (%d)", r)
}

func strcmpOverread() {
	a := C.unterm(8)
	b := C.CString("ABCDEFGHIJ")
	r := C.c_strcmp(a, b)
	check(r == 0, "strcmp compares up to the block's end: %d (0)", r)
}

func strdupNull() {
	r, err := C.c_strdup(nil)
	check(r == nil, "strdup(NULL) returns NULL")
	check(err != nil && err.Error() == "invalid argument", "errno EINVAL (%v)", err)
}

// A correct program: C strings made by Go, C buffers, Go memory handed to
// C (passed through, never reported).
func ok() {
	s := C.CString("hello from Go")
	defer C.free(unsafe.Pointer(s))
	fmt.Println("strlen", C.c_strlen(s))
	d := (*C.char)(C.malloc(C.c_strlen(s) + 1))
	C.c_strcpy(d, s)
	fmt.Println("copy", C.GoString(d))
	e := (*C.char)(C.malloc(64))
	C.c_strcpy(e, d)
	C.c_strcat(e, C.CString(", and more"))
	fmt.Println("cat", C.GoString(e), C.c_strcmp(e, d) > 0)
	C.c_memcpy(unsafe.Pointer(d), unsafe.Pointer(e), 5)
	fmt.Println("memcpy", C.GoString(d))
	n := C.c_snprintf_s(e, 64, d)
	fmt.Println("snprintf", n, C.GoString(e))
	C.c_sprintf_sd(e, s, 42)
	fmt.Println("sprintf", C.GoString(e))
	C.c_printf_s(s)
	C.c_puts(e)
	dup := C.c_strdup(e)
	fmt.Println("strdup", C.GoString(dup))
	C.free(unsafe.Pointer(dup))
	C.free(unsafe.Pointer(d))
	C.free(unsafe.Pointer(e))

	// Go memory: a byte slice with a NUL, copied to and from C
	gb := []byte("go bytes\x00xxxxxxx")
	gp := (*C.char)(unsafe.Pointer(&gb[0]))
	fmt.Println("go strlen", C.c_strlen(gp))
	C.c_memcpy(unsafe.Pointer(&gb[0]), unsafe.Pointer(s), 5)
	fmt.Println("go memcpy", string(gb[:8]))
	C.c_memset(unsafe.Pointer(&gb[9]), '-', 7)
	fmt.Println("go memset", string(gb))
	out := make([]byte, 32)
	op := (*C.char)(unsafe.Pointer(&out[0]))
	C.c_snprintf_s(op, 32, s)
	fmt.Println("go snprintf", C.GoString(op))
	C.c_strcpy(op, C.literal())
	fmt.Println("go strcpy", C.GoString(op))

	// many short-lived C strings
	total := 0
	for i := 0; i < 3000; i++ {
		c := C.CString(fmt.Sprintf("string number %d", i))
		total += int(C.c_strlen(c))
		t := C.c_strdup(c)
		total += int(C.c_strcmp(c, t))
		C.free(unsafe.Pointer(t))
		C.free(unsafe.Pointer(c))
	}
	fmt.Println("total", total)
	C.flush()
}

func main() {
	cases := map[string]func(){
		"strlen-unterminated": strlenUnterminated,
		"strlen-interior":     strlenInterior,
		"strcat-prefix-tmp":   prefixTmp,
		"strncpy-then-strlen": strncpyThenStrlen,
		"strcpy-literal":      strcpyLiteral,
		"strlen-null":         strlenNull,
		"go-literal":          goLiteral,
		"strlen-freed":        useAfterFree,
		"strcpy-stack":        stackOverflow,
		"memcpy-overflow":     memcpyOverflow,
		"memset-overflow":     memsetOverflow,
		"sprintf-overflow":    sprintfOverflow,
		"printf-overread":     printfOverread,
		"puts-freed":          putsFreed,
		"strcmp-overread":     strcmpOverread,
		"strdup-null":         strdupNull,
		"ok":                  ok,
	}
	if len(os.Args) != 2 || cases[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: strbugs CASE")
		os.Exit(64)
	}
	fmt.Println("start")
	cases[os.Args[1]]()
	fmt.Println("survived")
	if nwrong > 0 {
		os.Exit(1)
	}
}
