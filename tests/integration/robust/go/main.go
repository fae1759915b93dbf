// Go robustness cases for tests/integration/robust.sh, one per argument:
//
//	exec     runs non-Go children with exec.Command (ls, env, cat of its own
//	         maps, sh -c) while goroutines allocate C memory; they inherit
//	         LD_PRELOAD and CGOGUARD_OPTIONS
//	doubles  N double frees from C, then the count
//	threads  N goroutines (in waves) each locked to its OS thread, allocate C
//	         memory and exit without unlocking, so every thread exits; twice;
//	         then one more does a double free (reported as a double-free only
//	         if exited threads gave their registry records back)
//
// Each prints one fact a line and "survived" at its end.
package main

/*
#cgo CFLAGS: -O0 -fno-builtin-strlen -fno-builtin-memcpy -fno-builtin-strcpy
#include <stdlib.h>
#include <string.h>
#include "cgoguard.h"

static void churn(int n) {
	for (int i = 0; i < n; i++) {
		char *p = malloc(16 + i % 500);
		strcpy(p, "churn");
		char *q = strdup(p);
		if (strlen(q) != 5) abort();
		free(q);
		free(p);
	}
}

static void *volatile slot;
static void double_free(void) {
	char *p = malloc(40);
	free(p);
	slot = p;
	free(slot);
}

static unsigned long long doubles(void) {
	return cgoguard_error_count ? cgoguard_error_count(CGOGUARD_DOUBLE_FREE) : 0;
}
static unsigned long long invalids(void) {
	return cgoguard_error_count ? cgoguard_error_count(CGOGUARD_INVALID_FREE) : 0;
}
*/
import "C"

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

func caseExec() int {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				C.churn(100)
			}
		}()
	}
	bad := 0
	for i := 0; i < 20; i++ {
		out, err := exec.Command("ls", "/").Output()
		if err != nil || !strings.Contains(string(out), "usr") {
			bad++
		}
	}
	fmt.Printf("ls runs failed %d of 20\n", bad)
	out, err := exec.Command("env").Output()
	fmt.Printf("env err=%v LD_PRELOAD %s CGOGUARD_OPTIONS %s\n", err,
		map[bool]string{true: "inherited", false: "missing"}[strings.Contains(string(out), "LD_PRELOAD=") && strings.Contains(string(out), "libcgoguard")],
		map[bool]string{true: "inherited", false: "missing"}[strings.Contains(string(out), "CGOGUARD_OPTIONS=")])
	out, err = exec.Command("cat", "/proc/self/maps").Output()
	fmt.Printf("cat maps err=%v shim %s\n", err,
		map[bool]string{true: "loaded", false: "not loaded"}[strings.Contains(string(out), "libcgoguard")])
	out, err = exec.Command("sh", "-c", "ls / | wc -l; true").Output()
	fmt.Printf("sh pipeline err=%v lines=%s\n", err, strings.TrimSpace(string(out)))
	stop.Store(true)
	wg.Wait()
	fmt.Println("survived")
	return 0
}

func caseThreads(n, batches int) int {
	for b := 0; b < batches; b++ {
		for done := 0; done < n; {
			wave := 200
			if n-done < wave {
				wave = n - done
			}
			var wg sync.WaitGroup
			for i := 0; i < wave; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
					C.churn(20)
				}()
			}
			wg.Wait()
			done += wave
		}
		fmt.Printf("batch %d: %d locked goroutines (threads) done\n", b+1, n)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		C.double_free()
	}()
	wg.Wait()
	fmt.Printf("double-free count %d invalid-free count %d\n", uint64(C.doubles()), uint64(C.invalids()))
	fmt.Println("survived")
	return 0
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: robustgo exec|doubles N|threads [N [BATCHES]]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "exec":
		os.Exit(caseExec())
	case "doubles": // N double frees, then the count (for unwritable logs)
		n := 100
		if len(os.Args) > 2 {
			n, _ = strconv.Atoi(os.Args[2])
		}
		for i := 0; i < n; i++ {
			C.double_free()
		}
		fmt.Printf("double-free count %d\n", uint64(C.doubles()))
		fmt.Println("survived")
		os.Exit(0)
	case "threads":
		n, b := 2000, 2
		if len(os.Args) > 2 {
			n, _ = strconv.Atoi(os.Args[2])
		}
		if len(os.Args) > 3 {
			b, _ = strconv.Atoi(os.Args[3])
		}
		os.Exit(caseThreads(n, b))
	}
	fmt.Fprintln(os.Stderr, "unknown case", os.Args[1])
	os.Exit(2)
}
