/* Where heap blocks start: a bitmap with one bit per 16 bytes of address
 * space (every tracked block is 16-byte aligned), so the block holding an
 * arbitrary address is found by scanning backwards from it to the nearest
 * start, then one exact table lookup.
 *
 * Level 0 covers the 47-bit user address space in a 1 TiB MAP_NORESERVE
 * reservation; only the words next to real heap get pages.  Levels 1-3 each
 * hold one bit per word of the level below ("that word may be nonzero"), so
 * a scan over empty space skips 64 words per bit.  Summary bits are set
 * before the start bit and never cleared: a stale one costs one extra load,
 * never a wrong answer.  A scan never goes further back than the largest
 * block ever tracked.  If the reservation is refused, only block starts are
 * found (interior pointers pass unchecked).
 *
 * Start bits are not cleared when a block goes back to jemalloc either: the
 * next block at the same address (jemalloc reuses addresses, most of the
 * time for the same size) finds its bit set and the malloc/free hot path
 * makes no atomic write here.  A reader that meets a start bit with no
 * table entry clears it, then looks in the table once more and sets it back
 * if a block arrived meanwhile (an inserter tests its bit after its table
 * insert: of the two, one sees the other).  So a stale bit costs one table
 * lookup, once. */
#define _GNU_SOURCE
#include <jemalloc/jemalloc.h>

#include "internal.h"

#define GRAIN_SHIFT 4 /* 16 bytes a bit */
#define ADDR_BITS 47
#define LEVELS 4

static _Atomic uint64_t *level[LEVELS];
static _Atomic int state; /* 0 untried, 1 ready, -1 refused */
static _Atomic uintptr_t heap_lo = UINTPTR_MAX, heap_hi;
static _Atomic uint64_t max_extent; /* bound on any block's usable size */

static size_t level_bytes(int k) {
  return (size_t)1 << (ADDR_BITS - GRAIN_SHIFT - 6 * k - 3);
}

CG_COLD static bool map_levels(void) {
  int s = atomic_load(&state);
  if (s) return s > 0;
  static cg_lock lock;
  if (!cg_lock_enter(&lock)) return false; /* a handler inside our own set-up */
  if (!atomic_load(&state)) {
    bool ok = true;
    for (int k = 0; k < LEVELS && ok; k++) ok = (level[k] = cg_os_alloc(level_bytes(k))) != NULL;
    if (!ok)
      for (int k = 0; k < LEVELS; k++) cg_os_free((void *)level[k], level_bytes(k)), level[k] = NULL;
    atomic_store(&state, ok ? 1 : -1);
  }
  cg_lock_leave(&lock);
  return atomic_load(&state) > 0;
}

static inline void set_bit(int k, uint64_t i) {
  _Atomic uint64_t *w = &level[k][i >> 6];
  uint64_t bit = 1ull << (i & 63);
  if (!(atomic_load_explicit(w, memory_order_relaxed) & bit))
    atomic_fetch_or_explicit(w, bit, memory_order_release);
}

static inline void atomic_max(_Atomic uintptr_t *v, uintptr_t x) {
  uintptr_t cur = atomic_load_explicit(v, memory_order_relaxed);
  while (x > cur && !atomic_compare_exchange_weak(v, &cur, x)) {}
}
static inline void atomic_min(_Atomic uintptr_t *v, uintptr_t x) {
  uintptr_t cur = atomic_load_explicit(v, memory_order_relaxed);
  while (x < cur && !atomic_compare_exchange_weak(v, &cur, x)) {}
}

void heapmap_add(uintptr_t p, uint64_t size) {
  if (cg_unlikely(atomic_load_explicit(&state, memory_order_acquire) <= 0) && !map_levels())
    return;
  uint64_t i = p >> GRAIN_SHIFT;
  _Atomic uint64_t *w = &level[0][i >> 6];
  uint64_t bit = 1ull << (i & 63);
  /* seq_cst, after the table insert (a locked CAS): against a reader
   * clearing the bit as stale, see clear_stale() */
  if (!(atomic_load(w) & bit)) {
    for (int k = LEVELS - 1; k >= 1; k--) set_bit(k, i >> (6 * k));
    atomic_fetch_or_explicit(w, bit, memory_order_release);
  }
  /* jemalloc's size classes waste at most a quarter; aligned blocks and
   * page rounding add less than the slack below */
  atomic_max(&max_extent, size + (size >> 2) + 8192);
  atomic_min(&heap_lo, p);
  atomic_max(&heap_hi, p);
}

bool heapmap_ready(void) { return atomic_load(&state) > 0 || map_levels(); }

/* The block at p has left the table: its start bit stays (see the top).
 * jemalloc hands the address out again soon (its thread cache is LIFO) and
 * heapmap_add() then tests the bit: its word, cold after a quarantine's
 * worth of other frees, is fetched now. */
void heapmap_remove(uintptr_t p) {
  if (cg_likely(atomic_load_explicit(&state, memory_order_relaxed) > 0))
    __builtin_prefetch((const void *)&level[0][(p >> GRAIN_SHIFT) >> 6]);
}

/* A start bit at s whose block is not in the table: a block gone back to
 * jemalloc (or one about to be inserted).  Clears the bit, then looks again:
 * an inserter sets its bit after its entry is in the table if it finds the
 * bit clear, so a block that arrived meanwhile is either seen here (and its
 * bit set back) or sets the bit itself.  Returns the entry if one came. */
CG_NOINLINE static cg_entry *clear_stale(uintptr_t s, uint64_t *m) {
  uint64_t i = s >> GRAIN_SHIFT;
  _Atomic uint64_t *w = &level[0][i >> 6];
  uint64_t bit = 1ull << (i & 63);
  atomic_fetch_and(w, ~bit);
  atomic_thread_fence(memory_order_seq_cst);
  cg_entry *e = shadow_find(s, m);
  if (e) atomic_fetch_or_explicit(w, bit, memory_order_release);
  return e;
}

/* Highest set bit of level k with index in [lo, i], or false. */
static bool prev_bit(int k, uint64_t i, uint64_t lo, uint64_t *out) {
  for (;;) {
    if (i < lo || i == UINT64_MAX) return false;
    uint64_t w = i >> 6;
    uint64_t word = atomic_load_explicit(&level[k][w], memory_order_acquire);
    word &= (i & 63) == 63 ? ~0ull : (2ull << (i & 63)) - 1;
    if (word) {
      uint64_t hit = w << 6 | (uint64_t)(63 - __builtin_clzll(word));
      if (hit < lo) return false;
      *out = hit;
      return true;
    }
    if (w == 0 || (w << 6) <= lo) return false;
    if (k == LEVELS - 1) { /* top level: plain backwards scan */
      i = (w << 6) - 1;
      continue;
    }
    uint64_t wk; /* the nearest lower word of this level that may be nonzero */
    if (!prev_bit(k + 1, w - 1, lo >> 6, &wk)) return false;
    i = wk << 6 | 63;
  }
}

/* Nearest tracked block start at or below a that could hold it. */
static inline bool prev_start(uintptr_t a, uintptr_t lo, uintptr_t *start) {
  uint64_t i = a >> GRAIN_SHIFT;
  uint64_t word = atomic_load_explicit(&level[0][i >> 6], memory_order_acquire);
  word &= (i & 63) == 63 ? ~0ull : (2ull << (i & 63)) - 1;
  if (cg_likely(word != 0)) { /* the common case: a start within 1 KiB */
    *start = (uintptr_t)((i & ~63ull) | (uint64_t)(63 - __builtin_clzll(word))) << GRAIN_SHIFT;
    return *start >= lo;
  }
  uint64_t hit;
  if ((i & ~63ull) == 0 || !prev_bit(0, (i & ~63ull) - 1, lo >> GRAIN_SHIFT, &hit)) return false;
  *start = (uintptr_t)hit << GRAIN_SHIFT;
  return true;
}

bool cg_heap_block(uintptr_t a, struct cg_block *b) {
  uint64_t m;
  if (cg_unlikely(atomic_load_explicit(&state, memory_order_relaxed) <= 0)) {
    /* no bitmap: block starts only */
    cg_entry *e = a ? shadow_find(a, &m) : NULL;
    if (!e) return false;
    b->start = a, b->meta = m, b->size = cg_block_size(a, m), b->entry = e;
    return true;
  }
  uintptr_t hi = atomic_load_explicit(&heap_hi, memory_order_relaxed);
  uint64_t ext = atomic_load_explicit(&max_extent, memory_order_relaxed);
  uintptr_t lo = atomic_load_explicit(&heap_lo, memory_order_relaxed);
  if (a < lo || (a > hi && a - hi >= ext) || a >> ADDR_BITS) return false;
  if (a - lo > ext) lo = a - ext;
  uintptr_t s, from = a;
  while (prev_start(from, lo, &s)) {
    cg_entry *e = shadow_find(s, &m);
    if (cg_unlikely(!e)) e = clear_stale(s, &m);
    if (cg_likely(e != NULL)) {
      uint64_t n = cg_block_size(s, m);
      /* past the requested size it is still this block's if inside its real
       * extent (jemalloc's size class); beyond, memory nobody tracks */
      if (cg_unlikely(a - s >= n) && a - s >= cg_block_extent(s, n)) return false;
      b->start = s, b->meta = m, b->size = n, b->entry = e;
      return true;
    }
    /* a stale start bit (now cleared): look further */
    if (s < lo + 16) return false;
    from = s - 16;
  }
  return false;
}
