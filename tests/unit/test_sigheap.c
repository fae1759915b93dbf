/* The signal-handler heap (sigheap.c): nothing before it is reserved,
 * alignment, zeros, blocks never overlap (also from several threads at
 * once), and a clean NULL when it is used up or a block is too big. */
#include <pthread.h>

#include "internal.h"
#include "unit.h"

static void test_before_reserved(void) {
  int local;
  CHECK(cg_sigheap_alloc(16, 16) == NULL);
  CHECK(!cg_sigheap_has(0) && !cg_sigheap_has(16) && !cg_sigheap_has((uintptr_t)&local));
  CHECK(!cg_sigheap_has(0x7ffffffff000ull)); /* the top of user space */
}

static void test_alignment_and_zeros(void) {
  cg_sigheap_init();
  size_t aligns[] = {1, 16, 64, 256, 4096};
  for (size_t i = 0; i < sizeof aligns / sizeof *aligns; i++) {
    unsigned char *p = cg_sigheap_alloc(100, aligns[i]);
    CHECK(p != NULL);
    if (!p) continue;
    CHECK(cg_sigheap_has((uintptr_t)p) && cg_sigheap_has((uintptr_t)p + 99));
    CHECK((uintptr_t)p % (aligns[i] < 16 ? 16 : aligns[i]) == 0);
    for (int j = 0; j < 100; j++) CHECK(p[j] == 0);
  }
  CHECK(cg_sigheap_alloc(8192, 8192) == NULL);      /* alignment past a page */
  CHECK(cg_sigheap_alloc((64u << 10) + 1, 16) == NULL); /* too big for a handler */
  int local;
  CHECK(!cg_sigheap_has((uintptr_t)&local));
}

#define THREADS 4
#define EACH 2000
static uintptr_t got[THREADS][EACH];

static void *grab(void *arg) {
  uintptr_t *out = arg;
  for (int i = 0; i < EACH; i++) {
    unsigned char *p = cg_sigheap_alloc(48, 16);
    out[i] = (uintptr_t)p;
    if (p) p[0] = 1, p[47] = 1;
  }
  return NULL;
}

static int by_address(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

/* Threads taking blocks at once never get overlapping ones. */
static void test_threads_disjoint(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, grab, got[i]);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  uintptr_t *all = &got[0][0];
  long nulls = 0, overlaps = 0;
  for (long i = 0; i < THREADS * EACH; i++) nulls += all[i] == 0;
  qsort(all, THREADS * EACH, sizeof *all, by_address);
  for (long i = 1; i < THREADS * EACH; i++) overlaps += all[i] - all[i - 1] < 48;
  CHECK(nulls == 0);
  CHECK(overlaps == 0);
}

/* Used up: NULL from then on, no block past its end. */
static void test_used_up(void) {
  long n = 0;
  uintptr_t last = 0;
  for (void *p; (p = cg_sigheap_alloc(64u << 10, 16)) != NULL; n++) last = (uintptr_t)p;
  CHECK(n > 0 && n <= (long)(CG_SIGHEAP_BYTES / (64u << 10)));
  CHECK(cg_sigheap_has(last) && cg_sigheap_has(last + (64u << 10) - 1));
  long small = 0;
  while (cg_sigheap_alloc(16, 16)) small++;
  CHECK(small < (64 << 10) / 16); /* what was left was less than one big block */
  CHECK(cg_sigheap_alloc(16, 16) == NULL);
}

int main(void) {
  RUN(test_before_reserved);
  RUN(test_alignment_and_zeros);
  RUN(test_threads_disjoint);
  RUN(test_used_up);
  return UNIT_END();
}
