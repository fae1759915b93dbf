/* Shadow table: a lock-free hash of live and quarantined blocks.
 *
 * Open addressing with linear probing over 16-byte entries {key, meta},
 * every change made with one 16-byte CAS (so an entry can never be changed
 * through a stale pointer: the key is part of the comparison).
 *
 * The table lives in one of two large MAP_NORESERVE reservations; a "view"
 * is (reservation, log2 capacity).  Growth doubles the view in place (the
 * new upper half is fresh zero pages), so memory at the peak of a growth is
 * just the new size.  When tombstones rather than live blocks fill the view,
 * a rebuild moves everything into the other reservation at the right size
 * and the old one is returned to the kernel.
 *
 * Moving is incremental and cooperative: inserting threads migrate chunks of
 * the old view.  An entry is moved by freeze (CAS), copy into the new view,
 * erase (CAS); readers search the old view, then the new one, so they see it
 * at least once; a mutator that meets a frozen entry waits the few
 * instructions of that one move.  Chains never get an EMPTY slot back, so a
 * probe sequence is never cut.  Inserters publish the view they insert into
 * in their thread record, and migration of a view starts only when no
 * inserter is still inside it (Dekker-style: publish, fence, re-read).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>

#include "internal.h"

#define MIN_LG 12
#define CHUNK 256          /* slots migrated per help step */

static int max_lg;         /* capacity of each reservation, log2 slots */
static cg_entry *_Atomic region[2];

/* The whole table state in one word, so a reader snapshots it at once:
 * bit 0 cur reservation, bits 1-6 cur lg, bit 7 migrating, bit 8 old
 * reservation, bits 9-14 old lg, bits 16-63 generation. */
static _Atomic uint64_t tstate;
#define ST_CUR_R(s) ((int)((s)&1))
#define ST_CUR_LG(s) ((int)(((s) >> 1) & 63))
#define ST_MIGRATING(s) (((s) >> 7) & 1)
#define ST_OLD_R(s) ((int)(((s) >> 8) & 1))
#define ST_OLD_LG(s) ((int)(((s) >> 9) & 63))
#define ST_GEN(s) ((s) >> 16)
static inline uint64_t st_make(int cr, int clg, int mig, int orr, int olg, uint64_t gen) {
  return (uint64_t)cr | (uint64_t)clg << 1 | (uint64_t)mig << 7 | (uint64_t)orr << 8 |
         (uint64_t)olg << 9 | gen << 16;
}
/* a view as published in thread records: nonzero */
static inline uintptr_t view_tag(int r, int lg) { return (uintptr_t)(1 | r << 1 | lg << 2); }

static _Atomic int64_t used[2][64];  /* non-empty slots per view (batched) */
static _Atomic int64_t live_count;
static _Atomic int migration_ready;  /* no inserter left in the old view */
static _Atomic uint64_t migrate_next, migrate_done;
static cg_lock grow_lock;
static _Atomic int unregistered_inserters; /* threads without a record */

static inline uint64_t hash_ptr(uintptr_t p) {
  uint64_t x = (uint64_t)p >> 4;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

static inline bool cas16(cg_entry *e, uint64_t k0, uint64_t m0, uint64_t k1, uint64_t m1) {
  unsigned __int128 o = (unsigned __int128)m0 << 64 | k0;
  unsigned __int128 n = (unsigned __int128)m1 << 64 | k1;
  return __sync_bool_compare_and_swap((unsigned __int128 *)(void *)e, o, n);
}

/* Consistent snapshot of one entry. */
static inline void read_entry(cg_entry *e, uint64_t *k, uint64_t *m) {
  for (;;) {
    uint64_t k1 = atomic_load_explicit(&e->key, memory_order_acquire);
    uint64_t m1 = atomic_load_explicit(&e->meta, memory_order_acquire);
    if (atomic_load_explicit(&e->key, memory_order_acquire) == k1) {
      *k = k1, *m = m1;
      return;
    }
  }
}

static bool reserve(int r) {
  if (atomic_load_explicit(&region[r], memory_order_acquire)) return true;
  cg_entry *expected = NULL;
  if (!max_lg) {
    /* 2^28 slots (4 GiB virtual) per reservation; smaller where refused */
    for (int lg = 28; lg >= MIN_LG; lg -= 2) {
      cg_entry *p = cg_os_alloc(sizeof(cg_entry) << lg);
      if (p) {
        if (atomic_compare_exchange_strong(&region[r], &expected, p)) max_lg = lg;
        else cg_os_free(p, sizeof(cg_entry) << lg);
        return true;
      }
    }
    return false;
  }
  cg_entry *p = cg_os_alloc(sizeof(cg_entry) << max_lg);
  if (!p) return false;
  if (!atomic_compare_exchange_strong(&region[r], &expected, p))
    cg_os_free(p, sizeof(cg_entry) << max_lg);
  return true;
}

static uint64_t load_state(void) {
  uint64_t s = atomic_load_explicit(&tstate, memory_order_acquire);
  if (cg_likely(s != 0)) return s;
  if (!reserve(0)) return 0;
  uint64_t expected = 0;
  atomic_compare_exchange_strong(&tstate, &expected, st_make(0, MIN_LG, 0, 0, 0, 1));
  return atomic_load(&tstate);
}

static inline cg_entry *slots_of(int r) {
  return atomic_load_explicit(&region[r], memory_order_relaxed);
}

/* Finds p in one view. */
static cg_entry *find_in(int r, int lg, uintptr_t p, uint64_t *meta) {
  cg_entry *s = slots_of(r);
  uint64_t mask = (1ull << lg) - 1, i = hash_ptr(p) & mask;
  for (uint64_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
    uint64_t k = atomic_load_explicit(&s[i].key, memory_order_acquire);
    if (k == p) {
      uint64_t k2, m;
      read_entry(&s[i], &k2, &m);
      if (k2 != p) return NULL; /* erased under us: caller validates */
      *meta = m;
      return &s[i];
    }
    if (k == CG_KEY_EMPTY) return NULL;
  }
  return NULL;
}

cg_entry *shadow_find(uintptr_t p, uint64_t *meta) {
  if (cg_unlikely(p <= CG_KEY_TOMB)) return NULL;
  for (unsigned spins = 0;; spins++) {
    uint64_t s = load_state(), m = 0;
    cg_entry *e = NULL;
    if (!s) return NULL;
    if (ST_MIGRATING(s)) e = find_in(ST_OLD_R(s), ST_OLD_LG(s), p, &m);
    if (!e) e = find_in(ST_CUR_R(s), ST_CUR_LG(s), p, &m);
    if (e && !(m & CG_FROZEN)) {
      *meta = m;
      return e;
    }
    if (!e && atomic_load_explicit(&tstate, memory_order_acquire) == s) return NULL;
    /* frozen (being moved) or the views changed while we looked: again */
    if (spins > 16) sched_yield();
  }
}

bool shadow_update(cg_entry *e, uintptr_t p, uint64_t old, uint64_t new_meta) {
  return cas16(e, p, old, p, new_meta);
}

static inline void count_live(int d) {
  cg_tls.live_delta += d;
  if (cg_tls.live_delta >= 32 || cg_tls.live_delta <= -32) {
    atomic_fetch_add_explicit(&live_count, cg_tls.live_delta, memory_order_relaxed);
    cg_tls.live_delta = 0;
  }
}

bool shadow_erase(cg_entry *e, uintptr_t p, uint64_t old) {
  if (!cas16(e, p, old, CG_KEY_TOMB, 0)) return false;
  count_live(-1);
  return true;
}

/* Places {p, meta} in a view; *took_empty tells whether it used an EMPTY
 * slot (fill accounting).  Returns false when the view is full. */
static bool place(int r, int lg, uintptr_t p, uint64_t meta, bool *took_empty, int *probes) {
  cg_entry *s = slots_of(r);
  uint64_t mask = (1ull << lg) - 1, i = hash_ptr(p) & mask;
  for (uint64_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
    uint64_t k = atomic_load_explicit(&s[i].key, memory_order_relaxed);
    while (k == CG_KEY_EMPTY || k == CG_KEY_TOMB) {
      if (cas16(&s[i], k, 0, p, meta)) {
        *took_empty = (k == CG_KEY_EMPTY);
        *probes = (int)n;
        return true;
      }
      k = atomic_load_explicit(&s[i].key, memory_order_relaxed);
    }
  }
  return false;
}

static void count_used(uint64_t s, int r, int lg) {
  uint64_t gen = ST_GEN(s);
  if (cg_tls.used_gen != (unsigned)gen) cg_tls.used_gen = (unsigned)gen, cg_tls.used_delta = 0;
  if (++cg_tls.used_delta >= 16) {
    atomic_fetch_add_explicit(&used[r][lg], cg_tls.used_delta, memory_order_relaxed);
    cg_tls.used_delta = 0;
  }
}

void shadow_flush_thread_counts(void) {
  if (cg_tls.live_delta) atomic_fetch_add(&live_count, cg_tls.live_delta);
  cg_tls.live_delta = 0;
  cg_tls.used_delta = 0;
}

int64_t shadow_count(void) { return atomic_load(&live_count) + cg_tls.live_delta; }

size_t shadow_bytes(void) {
  uint64_t s = atomic_load(&tstate);
  if (!s) return 0;
  size_t b = sizeof(cg_entry) << ST_CUR_LG(s);
  if (ST_MIGRATING(s) && ST_OLD_R(s) != ST_CUR_R(s)) b += sizeof(cg_entry) << ST_OLD_LG(s);
  return b;
}

/* ---- growth and migration ----------------------------------------------- */

/* Is the entry for p at slot `at` reachable by a probe from its home in
 * view (r, lg)?  Chains never regain EMPTY slots, so once true it stays. */
static bool reachable(int r, int lg, uintptr_t p, uint64_t at) {
  cg_entry *s = slots_of(r);
  uint64_t mask = (1ull << lg) - 1, i = hash_ptr(p) & mask;
  for (uint64_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
    if (i == at) return true;
    if (atomic_load_explicit(&s[i].key, memory_order_relaxed) == CG_KEY_EMPTY) return false;
  }
  return false;
}

static void migrate_slot(uint64_t s, uint64_t i) {
  int orr = ST_OLD_R(s), cr = ST_CUR_R(s), clg = ST_CUR_LG(s);
  cg_entry *e = &slots_of(orr)[i];
  for (;;) {
    uint64_t k, m;
    read_entry(e, &k, &m);
    if (k == CG_KEY_EMPTY || k == CG_KEY_TOMB) return;
    if (m & CG_FROZEN) return; /* someone else is moving it */
    if (orr == cr && reachable(cr, clg, k, i)) return; /* in place: already fine */
    if (!cas16(e, k, m, k, m | CG_FROZEN)) continue;
    bool empty;
    int probes;
    if (place(cr, clg, k, m, &empty, &probes)) {
      if (empty) count_used(s, cr, clg);
      cas16(e, k, m | CG_FROZEN, CG_KEY_TOMB, 0);
    } else {
      cas16(e, k, m | CG_FROZEN, k, m); /* new view full: leave it */
    }
    return;
  }
}

static bool inserters_left(uint64_t s) {
  uintptr_t tag = view_tag(ST_OLD_R(s), ST_OLD_LG(s));
  if (atomic_load(&unregistered_inserters)) return true;
  for (int i = 0;; i++) {
    struct cg_thread *t = cg_thread_at(i);
    if (!t) return false;
    if (atomic_load_explicit(&t->inserting, memory_order_acquire) == tag) return true;
  }
}

/* One step of cooperative migration; returns true when there is none. */
static bool migrate_help(void) {
  uint64_t s = atomic_load_explicit(&tstate, memory_order_acquire);
  if (!ST_MIGRATING(s)) return true;
  if (!atomic_load_explicit(&migration_ready, memory_order_acquire)) {
    if (inserters_left(s)) return false;
    atomic_store(&migration_ready, 1);
  }
  uint64_t cap = 1ull << ST_OLD_LG(s);
  uint64_t start = atomic_fetch_add(&migrate_next, CHUNK);
  if (start >= cap) return false;
  uint64_t end = start + CHUNK < cap ? start + CHUNK : cap;
  for (uint64_t i = start; i < end; i++) migrate_slot(s, i);
  if (atomic_fetch_add(&migrate_done, end - start) + (end - start) == cap) {
    /* last chunk: the old view is empty of entries */
    int orr = ST_OLD_R(s), cr = ST_CUR_R(s);
    uint64_t ns = st_make(cr, ST_CUR_LG(s), 0, 0, 0, ST_GEN(s) + 1);
    atomic_store(&tstate, ns);
    if (orr != cr) /* readers of the old reservation now see zeros: a miss */
      madvise(slots_of(orr), sizeof(cg_entry) << ST_OLD_LG(s), MADV_DONTNEED);
  }
  return true;
}

/* Starts a growth or a rebuild of view s if none is under way. */
static void grow(uint64_t s) {
  if (ST_MIGRATING(s)) return;
  if (atomic_exchange(&grow_lock.v, 1)) return; /* someone else is on it */
  if (atomic_load(&tstate) != s) goto out;
  int r = ST_CUR_R(s), lg = ST_CUR_LG(s);
  int64_t live = atomic_load(&live_count);
  if (live < 0) live = 0;
  int want = MIN_LG;
  while (want < max_lg && (int64_t)(0.45 * (double)(1ull << want)) < live) want++;
  int nr = r, nlg = lg + 1;
  if (want <= lg || want > lg + 1) {
    /* tombstones, not live blocks, filled it, or a jump: rebuild elsewhere
     * at a size where the live blocks fill at most 45% */
    nr = 1 - r, nlg = want;
    if (!reserve(nr)) nr = r, nlg = lg + 1;
  }
  if (nlg > max_lg) goto out; /* at the limit: probe longer */
  atomic_store(&used[nr][nlg], nr == r ? atomic_load(&used[r][lg]) : 0);
  atomic_store(&migrate_next, 0);
  atomic_store(&migrate_done, 0);
  atomic_store(&migration_ready, 0);
  atomic_store(&tstate, st_make(nr, nlg, 1, r, lg, ST_GEN(s) + 1));
out:
  cg_lock_release(&grow_lock);
}

/* A thread that was growing the table at fork() does not exist in the
 * child: let the child grow it. */
void shadow_atfork_child(void) {
  cg_lock_release(&grow_lock);
  atomic_store(&unregistered_inserters, 0);
}

bool shadow_insert(uintptr_t p, uint64_t meta) {
  struct cg_thread *t = cg_thread_self();
  for (;;) {
    uint64_t s = load_state();
    if (!s) return false;
    int r = ST_CUR_R(s), lg = ST_CUR_LG(s);
    uintptr_t tag = view_tag(r, lg);
    /* publish the view, then make sure it is still current */
    if (t) atomic_exchange(&t->inserting, tag);
    else atomic_fetch_add(&unregistered_inserters, 1);
    if (atomic_load(&tstate) != s) {
      if (t) atomic_store_explicit(&t->inserting, 0, memory_order_release);
      else atomic_fetch_sub(&unregistered_inserters, 1);
      continue;
    }
    bool empty = false;
    int probes = 0;
    bool ok = place(r, lg, p, meta, &empty, &probes);
    if (t) atomic_store_explicit(&t->inserting, 0, memory_order_release);
    else atomic_fetch_sub(&unregistered_inserters, 1);
    if (!ok) {
      grow(s);
      if (!migrate_help()) sched_yield();
      if (ST_CUR_LG(s) >= max_lg && atomic_load(&tstate) == s) return false;
      continue;
    }
    count_live(1);
    if (empty) count_used(s, r, lg);
    if (cg_unlikely(ST_MIGRATING(s))) migrate_help();
    else if (cg_unlikely(probes > 24 ||
                         atomic_load_explicit(&used[r][lg], memory_order_relaxed) >
                             (int64_t)((3ull << lg) / 4)))
      grow(s);
    return true;
  }
}

void shadow_for_each(void (*fn)(uintptr_t key, uint64_t meta, void *arg), void *arg) {
  uint64_t s = atomic_load(&tstate);
  if (!s) return;
  /* during an in-place split the old view is the new one's lower half */
  int views = ST_MIGRATING(s) && ST_OLD_R(s) != ST_CUR_R(s) ? 2 : 1;
  for (int v = 0; v < views; v++) {
    int r = v ? ST_OLD_R(s) : ST_CUR_R(s), lg = v ? ST_OLD_LG(s) : ST_CUR_LG(s);
    cg_entry *sl = slots_of(r);
    for (uint64_t i = 0; i < (1ull << lg); i++) {
      uint64_t k, m;
      read_entry(&sl[i], &k, &m);
      if (k > CG_KEY_TOMB) fn((uintptr_t)k, m & ~CG_FROZEN, arg);
    }
  }
}
