/* strbench MODE ITERS [MAX_MS]: ns per libc call on malloc'd buffers (stops
 * early after MAX_MS milliseconds, default 1500).
 *   strlen32   strlen of a 32-byte block holding 31 chars + NUL
 *   strcpy32   strcpy of that string into another malloc'd 32-byte block
 *   strcpy4k   strcpy of a 4095-char string into a malloc'd 4 KiB block
 *   memcpy4k   memcpy of 4 KiB between malloc'd blocks
 *   strlen_in  strlen(p + 8), p a malloc'd 64-byte block with 63 chars
 * Build with -fno-builtin: the calls go to the (interposed) libc functions.
 * Pointers live in volatile globals; calls go through noinline wrappers. */
#include <string.h>
#include "common.h"

static char *volatile src32, *volatile dst32, *volatile src4k, *volatile dst4k,
    *volatile blk64;
static volatile size_t sink;
static int mode;

NOINLINE static size_t do_strlen(const char *s) { return strlen(s); }
NOINLINE static char *do_strcpy(char *d, const char *s) { return strcpy(d, s); }
NOINLINE static void *do_memcpy(void *d, const void *s, size_t n) {
  return memcpy(d, s, n);
}

static char *filled(size_t size, size_t len) {
  char *p = malloc(size);
  if (!p) exit(1);
  for (size_t i = 0; i < len; i++) p[i] = (char)('a' + i % 26);
  p[len] = '\0';
  return p;
}

static void loop(long n) {
  size_t acc = 0;
  for (long i = 0; i < n; i++) {
    switch (mode) {
    case 0: acc += do_strlen(src32); break;
    case 1: acc += (size_t)do_strcpy(dst32, src32); break;
    case 2: acc += (size_t)do_strcpy(dst4k, src4k); break;
    case 3: acc += (size_t)do_memcpy(dst4k, src4k, 4096); break;
    case 4: acc += do_strlen(blk64 + 8); break;
    }
  }
  sink = acc;
}

int main(int argc, char **argv) {
  static const char *modes[] = {"strlen32", "strcpy32", "strcpy4k", "memcpy4k",
                                "strlen_in"};
  double max_ms = argc == 4 ? arg_long(argv[3]) : 1500;
  mode = -1;
  for (int i = 0; (argc == 3 || argc == 4) && i < 5; i++)
    if (strcmp(argv[1], modes[i]) == 0) mode = i;
  if (mode < 0) {
    fprintf(stderr, "usage: strbench strlen32|strcpy32|strcpy4k|memcpy4k|strlen_in ITERS [MAX_MS]\n");
    return 2;
  }
  long n = arg_long(argv[2]);
  src32 = filled(32, 31);
  dst32 = filled(32, 0);
  src4k = filled(4096, 4095);
  dst4k = filled(4096, 0);
  blk64 = filled(64, 63);
  run_capped(loop, n / 10 + 1, max_ms / 10); /* warm-up */
  double t0 = now_ns();
  long done = run_capped(loop, n, max_ms);
  printf("%.2f\n", (now_ns() - t0) / done);
  return 0;
}
