// cgoguard soak test: 64 goroutines do mixed C allocations (malloc of
// random sizes, C.CString, realloc, calloc, strdup) and string calls
// (strlen, strcpy, strcat, strncpy, memcpy, memmove, memset, memcmp,
// strcmp, strchr, snprintf into C buffers) for SOAK_SECONDS (default 60),
// each goroutine keeping a bounded set of live blocks, so the program's
// own memory is flat after warm-up.  Every second it samples its RSS from
// /proc/self/statm and prints
//
//	soak: t=<s> rss_kb=<kB> ops=<total operations so far>
//
// and at the end "soak: done ops=<n> seconds=<s>".  Every copy is checked
// (a wrong byte is a bug in the shim's pass-through): a mismatch prints
// "soak: MISMATCH ..." and exits 1.  Run by scripts/soak under the shim.
package main

/*
#cgo CFLAGS: -O2 -g
#cgo CFLAGS: -fno-builtin-memcpy -fno-builtin-memmove -fno-builtin-memset -fno-builtin-memcmp
#cgo CFLAGS: -fno-builtin-strlen -fno-builtin-strcpy -fno-builtin-strcat -fno-builtin-strncpy
#cgo CFLAGS: -fno-builtin-strcmp -fno-builtin-strchr -fno-builtin-snprintf -fno-builtin-strdup
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Fills p[0..n) with a pattern derived from seed.
static void fill(unsigned char *p, size_t n, unsigned seed) {
	if (n == 0) return;
	memset(p, (int)(seed & 0xff), n);
	p[0] = (unsigned char)(seed >> 8);
	p[n - 1] = (unsigned char)(seed >> 16);
}

// The byte fill(p, n, seed) wrote at i (the last write wins for n == 1).
static unsigned char want(size_t i, size_t n, unsigned seed) {
	if (i == n - 1) return (unsigned char)(seed >> 16);
	if (i == 0) return (unsigned char)(seed >> 8);
	return (unsigned char)(seed & 0xff);
}

// Checks the first keep bytes of a block fill(p, n, seed) wrote; 0 when
// they hold.
static int check_fill2(const unsigned char *p, size_t keep, size_t n, unsigned seed) {
	for (size_t i = 0; i < keep; i++)
		if (p[i] != want(i, n, seed)) return 1;
	return 0;
}

static int check_fill(const unsigned char *p, size_t n, unsigned seed) {
	return check_fill2(p, n, n, seed);
}

// A block of n bytes holding a copy of src's pattern, through memcpy and
// memmove; returns NULL on a mismatch.
static unsigned char *copy_block(const unsigned char *src, size_t n) {
	unsigned char *d = malloc(n + 16);
	if (!d) return NULL;
	memcpy(d + 16, src, n);
	memmove(d, d + 16, n);
	if (memcmp(d, src, n) != 0) { free(d); return NULL; }
	return d;
}

// Builds a string of len bytes in a C buffer with strcpy/strcat/strncpy/
// snprintf, checks it with strlen/strcmp/strchr/strdup; 0 on success.
static int string_work(const char *word, size_t reps, unsigned seed) {
	size_t wl = strlen(word);
	size_t cap = wl * (reps + 2) + 64;
	char *buf = malloc(cap);
	if (!buf) return 1;
	strcpy(buf, word);
	for (size_t i = 0; i < reps; i++) strcat(buf, word);
	if (strlen(buf) != wl * (reps + 1)) { free(buf); return 2; }
	char *tmp = calloc(1, cap);
	if (!tmp) { free(buf); return 1; }
	strncpy(tmp, buf, cap - 1);
	if (strcmp(tmp, buf) != 0) { free(tmp); free(buf); return 3; }
	char *num = malloc(wl + 64);
	if (!num) { free(tmp); free(buf); return 1; }
	int k = snprintf(num, wl + 64, "%u:%s:%zu", seed, word, reps);
	if (k <= 0 || (size_t)k != strlen(num) || strchr(num, ':') == NULL) { free(num); free(tmp); free(buf); return 4; }
	char *dup = strdup(buf);
	if (!dup || strcmp(dup, tmp) != 0) { free(dup); free(num); free(tmp); free(buf); return 5; }
	int w = snprintf(buf, cap, "%s|%s", num, word);
	if (w <= 0 || (size_t)w >= cap || strlen(buf) != (size_t)w) { free(dup); free(num); free(tmp); free(buf); return 6; }
	free(dup);
	free(num);
	free(tmp);
	free(buf);
	return 0;
}
*/
import "C"

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

const (
	workers = 64
	keep    = 128 // live blocks per goroutine
)

type block struct {
	p    unsafe.Pointer
	n    int
	seed uint32
	str  bool // a NUL-terminated string from C.CString (n = length)
}

var ops atomic.Int64

func mismatch(what string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "soak: MISMATCH "+what+"\n", args...)
	os.Exit(1)
}

// size: mostly small, some medium, rarely large (the mix of a real service).
func size(r *rand.Rand) int {
	switch x := r.Intn(1000); {
	case x < 850:
		return 1 + r.Intn(256)
	case x < 990:
		return 257 + r.Intn(16384-256)
	default:
		return 16385 + r.Intn(256*1024-16384)
	}
}

func check(b *block) {
	if b.p == nil {
		return
	}
	if b.str {
		if n := int(C.strlen((*C.char)(b.p))); n != b.n {
			mismatch("strlen %d, expected %d", n, b.n)
		}
		return
	}
	if C.check_fill((*C.uchar)(b.p), C.size_t(b.n), C.uint(b.seed)) != 0 {
		mismatch("block of %d bytes lost its contents", b.n)
	}
}

func release(b *block) {
	if b.p != nil {
		check(b)
		C.free(b.p)
		b.p = nil
	}
}

func worker(id int, stop *atomic.Bool, wg *sync.WaitGroup) {
	defer wg.Done()
	r := rand.New(rand.NewSource(int64(id)*7919 + 1))
	var live [keep]block
	words := []string{"cgo", "guard", "jemalloc", "quarantine", strings.Repeat("x", 100)}
	var local int64
	for !stop.Load() {
		b := &live[r.Intn(keep)]
		switch op := r.Intn(10); op {
		case 0, 1, 2: // malloc + fill
			release(b)
			n := size(r)
			b.p, b.n, b.seed, b.str = C.malloc(C.size_t(n)), n, r.Uint32(), false
			C.fill((*C.uchar)(b.p), C.size_t(n), C.uint(b.seed))
		case 3: // calloc
			release(b)
			n := size(r)
			b.p, b.n, b.seed, b.str = C.calloc(1, C.size_t(n)), n, 0, false
			if C.check_fill((*C.uchar)(b.p), C.size_t(n), 0) != 0 { // all zero
				mismatch("calloc of %d bytes not zeroed", n)
			}
		case 4: // realloc, keeping the common prefix
			if b.p == nil || b.str {
				break
			}
			n := size(r)
			keepN := b.n
			if n < keepN {
				keepN = n
			}
			check(b)
			b.p = C.realloc(b.p, C.size_t(n))
			if C.check_fill2((*C.uchar)(b.p), C.size_t(keepN), C.size_t(b.n), C.uint(b.seed)) != 0 {
				mismatch("realloc from %d to %d bytes lost the prefix", b.n, n)
			}
			b.n = n
			C.fill((*C.uchar)(b.p), C.size_t(n), C.uint(b.seed))
		case 5: // C.CString + strlen
			release(b)
			s := words[r.Intn(len(words))] + strconv.Itoa(r.Intn(1e6))
			b.p, b.n, b.str = unsafe.Pointer(C.CString(s)), len(s), true
			check(b)
		case 6: // memcpy/memmove/memcmp of a live block
			if b.p == nil || b.str {
				break
			}
			d := C.copy_block((*C.uchar)(b.p), C.size_t(b.n))
			if d == nil {
				mismatch("memcpy/memmove of %d bytes", b.n)
			}
			C.free(unsafe.Pointer(d))
		case 7, 8: // string building
			w := C.CString(words[r.Intn(len(words))])
			if rc := C.string_work(w, C.size_t(r.Intn(40)), C.uint(r.Uint32())); rc != 0 {
				mismatch("string_work step %d", rc)
			}
			C.free(unsafe.Pointer(w))
		case 9: // check and free
			release(b)
		}
		local++
		if local%256 == 0 {
			ops.Add(256)
		}
	}
	for i := range live {
		release(&live[i])
	}
}

func rssKB() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return -1
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()) / 1024
}

func main() {
	secs := 60
	if s := os.Getenv("SOAK_SECONDS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			secs = v
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	fmt.Printf("soak: start workers=%d seconds=%d t=0 rss_kb=%d\n", workers, secs, rssKB())
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go worker(i, &stop, &wg)
	}
	tick := time.NewTicker(time.Second)
	for t := 1; t <= secs; t++ {
		<-tick.C
		fmt.Printf("soak: t=%d rss_kb=%d ops=%d\n", t, rssKB(), ops.Load())
	}
	tick.Stop()
	stop.Store(true)
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("soak: done ops=%d seconds=%.1f ops_per_sec=%.0f rss_kb=%d\n", ops.Load(), el,
		float64(ops.Load())/el, rssKB())
}
