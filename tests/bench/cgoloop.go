// cgoloop: cgo allocation loops for scripts/bench.
//
//	cgoloop cstring GOROUTINES ITERS [MAX_MS]   C.CString(31-byte string) + C strlen + C.free
//	cgoloop malloc  GOROUTINES ITERS [MAX_MS]   C.malloc(16..4096) + write one byte in C + C.free
//
// ITERS is the total, split over the goroutines; each goroutine also stops
// after MAX_MS milliseconds (default 1500).  Prints one number: wall
// nanoseconds of the timed loop divided by the iterations done.
// Built with CGO_CFLAGS="-O2 -fno-builtin" (cgo rejects that flag in #cgo lines).
package main

/*
#include <stdlib.h>
#include <string.h>
static size_t bench_strlen(const char *s) { return strlen(s); }
static void bench_touch(char *p, size_t n) { p[n - 1] = (char)n; }
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

const str31 = "cgoguard-bench-0123456789abcdef" // 31 bytes: CString mallocs 32

var sizes [1024]C.size_t

func cstringLoop(n int) int {
	bad := 0
	for i := 0; i < n; i++ {
		p := C.CString(str31)
		if C.bench_strlen(p) != 31 {
			bad++
		}
		C.free(unsafe.Pointer(p))
	}
	return bad
}

func mallocLoop(n, seed int) {
	for i := 0; i < n; i++ {
		sz := sizes[(i+seed*131)&1023]
		p := C.malloc(sz)
		C.bench_touch((*C.char)(p), sz)
		C.free(p)
	}
}

// run splits total iterations over g goroutines, each stopping early at
// the deadline; returns the number of iterations done.
func run(mode string, g, total int, max time.Duration) int {
	per := total / g
	deadline := time.Now().Add(max)
	var wg sync.WaitGroup
	done := make([]int, g)
	for k := 0; k < g; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for done[k] < per {
				chunk := per - done[k]
				if chunk > 1024 {
					chunk = 1024
				}
				if mode == "cstring" && cstringLoop(chunk) != 0 {
					fmt.Fprintln(os.Stderr, "cgoloop: wrong strlen result")
					os.Exit(1)
				} else if mode == "malloc" {
					mallocLoop(chunk, k)
				}
				done[k] += chunk
				if time.Now().After(deadline) {
					break
				}
			}
		}(k)
	}
	wg.Wait()
	sum := 0
	for _, d := range done {
		sum += d
	}
	return sum
}

func main() {
	if len(os.Args) < 4 || len(os.Args) > 5 || (os.Args[1] != "cstring" && os.Args[1] != "malloc") {
		fmt.Fprintln(os.Stderr, "usage: cgoloop cstring|malloc GOROUTINES ITERS [MAX_MS]")
		os.Exit(2)
	}
	g, err1 := strconv.Atoi(os.Args[2])
	n, err2 := strconv.Atoi(os.Args[3])
	maxMS, err3 := 1500, error(nil)
	if len(os.Args) == 5 {
		maxMS, err3 = strconv.Atoi(os.Args[4])
	}
	if err1 != nil || err2 != nil || err3 != nil || g < 1 || n < g || maxMS < 1 {
		fmt.Fprintln(os.Stderr, "cgoloop: bad numbers")
		os.Exit(2)
	}
	x := uint32(2463534242) // xorshift32: sizes spread over 16..4096
	for i := range sizes {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		sizes[i] = C.size_t(16 + x%4081)
	}
	max := time.Duration(maxMS) * time.Millisecond
	run(os.Args[1], g, n/10+g, max/10) // warm-up: threads, allocator caches
	t0 := time.Now()
	done := run(os.Args[1], g, n, max)
	fmt.Printf("%.2f\n", float64(time.Since(t0).Nanoseconds())/float64(done))
}
