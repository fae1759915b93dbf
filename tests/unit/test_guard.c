/* Guarded sampling (guard.c): how often blocks are picked, where a sampled
 * block sits (its end against the guard page), the tail pattern, freed and
 * released pages, lookups in the slack, and the pool running out. */
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "unit.h"

#define PAGE 4096u

static void test_pick_rate(void) {
  struct cg_options saved = cg_opt;
  cg_opt.guard_sample = 1;
  int every = 0;
  for (int i = 0; i < 1000; i++) every += cg_guard_pick();
  CHECK(every == 1000); /* 1: every allocation */
  cg_opt.guard_sample = 50;
  long picked = 0, n = unit_scaled(200000);
  for (long i = 0; i < n; i++) picked += cg_guard_pick();
  /* one in 50 on average: within a fifth of it */
  CHECK(picked > n / 50 * 4 / 5 && picked < n / 50 * 6 / 5);
  cg_opt = saved;
}

static void tracked(void *p, uint64_t n) {
  CHECK(shadow_insert((uintptr_t)p, cg_meta(CG_ST_LIVE, 1, n)));
  heapmap_add((uintptr_t)p, n);
}

static void test_layout_and_tail(void) {
  char *p = cg_guard_alloc(32);
  CHECK(p != NULL);
  if (!p) return;
  CHECK(cg_guarded((uintptr_t)p) && !cg_guarded((uintptr_t)&p));
  CHECK(((uintptr_t)p & 15) == 0);             /* malloc's alignment */
  CHECK(((uintptr_t)(p + 32) & (PAGE - 1)) == 0); /* its end is the guard page */
  CHECK(cg_guard_extent((uintptr_t)p) == 32);
  for (int i = 0; i < 32; i++) CHECK(p[i] == 0); /* fresh zeros (calloc) */
  CHECK(cg_mem_prot((uintptr_t)p + 32, true) == PROT_NONE);

  char *q = cg_guard_alloc(30);
  CHECK(q != NULL);
  if (!q) return;
  CHECK(cg_guard_extent((uintptr_t)q) == 32);
  uintptr_t first;
  CHECK(!cg_guard_tail_broken((uintptr_t)q, 30, &first));
  q[31] = 1; /* the last slack byte, just before the guard page */
  CHECK(cg_guard_tail_broken((uintptr_t)q, 30, &first) && first == (uintptr_t)q + 31);

  /* a lookup in the slack is still the block's; in the guard page it is not */
  tracked(q, 30);
  struct cg_block b;
  if (heapmap_ready()) { /* (ThreadSanitizer may refuse the bitmap: starts only) */
    CHECK(cg_heap_block((uintptr_t)q + 30, &b) && b.start == (uintptr_t)q && b.size == 30);
    CHECK(cg_heap_block((uintptr_t)q + 31, &b) && b.start == (uintptr_t)q);
    CHECK(!cg_heap_block((uintptr_t)q + 32, &b) || b.start != (uintptr_t)q);
  }
  CHECK(cg_guard_block((uintptr_t)q + 32 + 100, &b) && b.start == (uintptr_t)q);

  /* freed: the page is closed; released: the slot is discarded, closed */
  cg_guard_freed((uintptr_t)p);
  CHECK(cg_mem_prot((uintptr_t)p, true) == PROT_NONE);
  uintptr_t blk;
  uint32_t gen = cg_guard_slot_state((uintptr_t)p, &blk);
  CHECK(blk == (uintptr_t)p);
  CHECK(cg_guard_recover((uintptr_t)p, gen + 1) == 0); /* the slot changed: not opened */
  CHECK(cg_mem_prot((uintptr_t)p, true) == PROT_NONE);
  CHECK(cg_guard_recover((uintptr_t)p, gen) == 1); /* neutralize: opened again */
  CHECK(cg_mem_prot((uintptr_t)p, true) == (PROT_READ | PROT_WRITE));
  cg_guard_release((uintptr_t)p);
  CHECK(!cg_guard_block((uintptr_t)p, &b)); /* the slot is empty */
  CHECK(cg_guard_slot_state((uintptr_t)p, &blk) == gen && blk == 0);
}

static void test_sizes(void) {
  CHECK(cg_guard_alloc(PAGE) == NULL);       /* too big for a slot */
  char *z = cg_guard_alloc(0);
  CHECK(z && cg_guard_extent((uintptr_t)z) == 16);
  char *big = cg_guard_alloc(PAGE - 16);
  CHECK(big && ((uintptr_t)big & (PAGE - 1)) == 16);
  if (z) cg_guard_release((uintptr_t)z);
  if (big) cg_guard_release((uintptr_t)big);
}

/* Every slot taken (then ordinary blocks), written, opened as a recovered
 * fault would, released; taken again: zeros, guard pages closed. */
static void test_pool_runs_out_and_slots_come_back_clean(void) {
  static char *held[CG_GUARD_SLOTS + 8];
  int n = 0;
  while (n < (int)CG_GUARD_SLOTS + 8 && (held[n] = cg_guard_alloc(48)) != NULL) n++;
  CHECK(n < (int)CG_GUARD_SLOTS + 8); /* a fixed pool */
  CHECK(n >= (int)CG_GUARD_SLOTS - 8);
  CHECK(cg_guard_pool_low());
  for (int i = 0; i < n; i++) {
    memset(held[i], 0xab, 48);
    uintptr_t blk;
    uint32_t gen = cg_guard_slot_state((uintptr_t)held[i] + 48, &blk);
    CHECK(cg_guard_recover((uintptr_t)held[i] + 48, gen) == 1); /* the guard page opened */
    held[i][48] = 1;
  }
  for (int i = 0; i < n; i++) cg_guard_release((uintptr_t)held[i]);
  CHECK(!cg_guard_pool_low());
  int bad = 0, open = 0;
  for (int i = 0; i < 64; i++) {
    char *p = cg_guard_alloc(48);
    CHECK(p != NULL);
    if (!p) break;
    for (int k = 0; k < 48; k++) bad += p[k] != 0;
    open += cg_mem_prot((uintptr_t)p + 48, true) != PROT_NONE;
    cg_guard_release((uintptr_t)p);
  }
  CHECK(bad == 0 && open == 0);
}

int main(void) {
  RUN(test_pick_rate);
  RUN(test_layout_and_tail);
  RUN(test_sizes);
  RUN(test_pool_runs_out_and_slots_come_back_clean);
  return UNIT_END();
}
