/* floor line|cas16|track|direct ITERS: what the C malloc+free row's loop
 * costs on this machine at the least, for reading that row against its
 * target.
 *
 *   line    one byte written in each of ITERS random cache lines of a
 *           256 MiB region (past any L3), prefetched 64 ahead: the best
 *           case for touching a block that a quarantine last saw megabytes
 *           of frees ago (a throughput: with other work to do, the core
 *           may hide some of it)
 *   cas16   one uncontended 16-byte compare-and-swap on a line in L1: the
 *           cheapest way to change a block's state so that of two racing
 *           frees exactly one wins
 *   track   the C malloc+free row's own loop (tests/bench/mallocloop.c), each
 *           block also registered in a small table of 16-byte entries that
 *           stays in L1 and L2, with the least a hash of live blocks shared
 *           by threads needs: a CAS that claims the entry (two blocks can
 *           hash to one slot, and another thread may be claiming it), a CAS
 *           from live to freed (of two racing frees, one wins) and a plain
 *           store that empties it.  No quarantine, no lookup, no probing: a
 *           floor for this design at any quarantine size, 0 included
 *   direct  the same with a direct-mapped table (one slot per address, as a
 *           shadow memory has): the thread malloc gave the block to owns its
 *           slot, so a plain store registers it and only the free needs a
 *           CAS
 *
 * track and direct run with the allocator preloaded (jemalloc).  Prints ns
 * per line, per CAS or per malloc+free. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"

#define REGION ((size_t)256 << 20)
#define AHEAD 64

static void lines(long n) {
  size_t nl = REGION / 64;
  unsigned char *m = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint32_t *idx = malloc((size_t)n * sizeof *idx);
  if (m == MAP_FAILED || !idx) exit(1);
  memset(m, 1, REGION); /* every page mapped before the clock starts */
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (long i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    idx[i] = (uint32_t)(x % nl);
  }
  double t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (i + AHEAD < n) __builtin_prefetch(m + (size_t)idx[i + AHEAD] * 64, 1);
    m[(size_t)idx[i] * 64]++;
  }
  printf("%.2f\n", (now_ns() - t0) / (double)n);
}

static void cas16(long n) {
  static unsigned __int128 word __attribute__((aligned(64)));
  double t0 = now_ns();
  for (long i = 0; i < n; i++) {
    unsigned __int128 old = word;
    __sync_bool_compare_and_swap(&word, old, old + 1);
  }
  printf("%.2f\n", (now_ns() - t0) / (double)n);
}

#define TRACK_SLOTS 4096 /* 64 KiB of entries */
static unsigned __int128 entries[TRACK_SLOTS] __attribute__((aligned(64)));
static __thread volatile char sink; /* per thread, as mallocloop.c's */
static int direct_mapped;

static NOINLINE void track_loop(long n) {
  for (long i = 0; i < n; i++) {
    size_t sz = 16 * (1 + (size_t)(i * 7) % 16); /* as mallocloop.c */
    volatile char *p = malloc(sz);
    unsigned __int128 *e = &entries[((uintptr_t)p >> 4) % TRACK_SLOTS];
    unsigned __int128 live = (unsigned __int128)sz << 64 | (uintptr_t)p;
    if (direct_mapped) { /* the slot is this block's alone */
      uint64_t *half = (uint64_t *)(void *)e;
      __atomic_store_n(&half[1], (uint64_t)sz, __ATOMIC_RELAXED);
      __atomic_store_n(&half[0], (uint64_t)(uintptr_t)p, __ATOMIC_RELEASE);
    } else if (!__sync_bool_compare_and_swap(e, (unsigned __int128)0, live)) {
      exit(1);
    }
    p[sz - 1] = (char)i;
    sink = p[0];
    if (!__sync_bool_compare_and_swap(e, live, live | (unsigned __int128)1 << 127)) exit(1);
    *e = 0;
    free((void *)p);
  }
}

static void track(long n) {
  run_capped(track_loop, n / 10, 150); /* warm-up, as mallocloop */
  double t0 = now_ns();
  long done = run_capped(track_loop, n, 1500);
  printf("%.2f\n", (now_ns() - t0) / (double)done);
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "line")) lines(arg_long(argv[2]));
  else if (argc == 3 && !strcmp(argv[1], "cas16")) cas16(arg_long(argv[2]));
  else if (argc == 3 && !strcmp(argv[1], "track")) track(arg_long(argv[2]));
  else if (argc == 3 && !strcmp(argv[1], "direct")) direct_mapped = 1, track(arg_long(argv[2]));
  else {
    fprintf(stderr, "usage: floor line|cas16|track|direct ITERS\n");
    return 2;
  }
  return 0;
}
