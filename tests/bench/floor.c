/* floor line|cas16 ITERS: what two things any quarantining checker must do
 * cost on this machine, for reading the C malloc+free row against its target.
 *
 *   line   one byte written in each of ITERS random cache lines of a 256 MiB
 *          region (past any L3), prefetched 64 ahead: the best case for
 *          touching a block that a quarantine last saw megabytes of frees ago
 *   cas16  one uncontended 16-byte compare-and-swap on a line in L1: the
 *          cheapest way to change a block's state so that of two racing
 *          frees exactly one wins
 *
 * Prints ns per line or per CAS. */
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

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "line")) lines(arg_long(argv[2]));
  else if (argc == 3 && !strcmp(argv[1], "cas16")) cas16(arg_long(argv[2]));
  else {
    fprintf(stderr, "usage: floor line|cas16 ITERS\n");
    return 2;
  }
  return 0;
}
