// Correct cgo programs: their output and exit status must be the same with
// and without the shim, and the shim must report nothing.
package main

/*
#include <stdlib.h>
#include <string.h>
#include "helpers.h"

static unsigned long sum_bytes(const unsigned char *p, size_t n)
{
	unsigned long s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

func goroutines() {
	var wg sync.WaitGroup
	results := make([]int, 100)
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			total := 0
			for i := 0; i < 1000; i++ {
				s := C.CString(fmt.Sprintf("goroutine %d string %d", g, i))
				total += int(C.strlen(s))
				if C.GoString(s) != fmt.Sprintf("goroutine %d string %d", g, i) {
					panic("string corrupted")
				}
				C.free(unsafe.Pointer(s))
			}
			results[g] = total
		}(g)
	}
	wg.Wait()
	sum := 0
	for _, r := range results {
		sum += r
	}
	fmt.Println("goroutines total bytes", sum)
}

func mallocs() {
	// C.malloc + C.realloc, growing a buffer and checking its contents.
	n := 16
	p := C.malloc(C.size_t(n))
	for i := 0; i < n; i++ {
		*(*byte)(unsafe.Add(p, i)) = byte(i)
	}
	for n < 1<<20 {
		n *= 2
		p = C.realloc(p, C.size_t(n))
		for i := n / 2; i < n; i++ {
			*(*byte)(unsafe.Add(p, i)) = byte(i)
		}
	}
	fmt.Println("realloc sum", C.sum_bytes((*C.uchar)(p), C.size_t(n)))
	C.free(p)

	// C.calloc must return zeroed memory.
	z := C.calloc(4096, 8)
	fmt.Println("calloc sum", C.sum_bytes((*C.uchar)(z), 4096*8))
	C.free(z)

	// Many live blocks at once, freed in reverse.
	blocks := make([]unsafe.Pointer, 0, 5000)
	for i := 0; i < 5000; i++ {
		b := C.malloc(C.size_t(1 + i%200))
		C.memset(b, C.int(i&0xff), C.size_t(1+i%200))
		blocks = append(blocks, b)
	}
	var total C.ulong
	for i := len(blocks) - 1; i >= 0; i-- {
		total += C.sum_bytes((*C.uchar)(blocks[i]), C.size_t(1+i%200))
		C.free(blocks[i])
	}
	fmt.Println("blocks sum", total)

	// A C helper in a .c file beside this one that grows with realloc.
	w := C.CString("word")
	j := C.repeat_join(w, 1000)
	fmt.Println("joined length", C.strlen(j))
	C.free(unsafe.Pointer(j))
	C.free(unsafe.Pointer(w))
}

type node struct{ x int }

//go:noinline
func deref(p *node) int { return p.x }

// Go's nil checks fault on purpose and recover(): the shim's SIGSEGV
// handler must hand them to Go untouched, many times over.
func recoverNil() {
	n := 0
	for i := 0; i < 100; i++ {
		func() {
			defer func() {
				if e := recover(); e != nil {
					n++
				}
			}()
			deref(nil)
		}()
	}
	fmt.Println("recovered", n)
}

func main() {
	cases := map[string]func(){"goroutines": goroutines, "mallocs": mallocs, "recover-nil": recoverNil}
	if len(os.Args) != 2 || cases[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: ok goroutines|mallocs")
		os.Exit(64)
	}
	cases[os.Args[1]]()
	fmt.Println("done")
}
