/* Shadow table: a lock-free hash of live and quarantined blocks.
 *
 * Open addressing with linear probing over 16-byte entries {key, meta},
 * every change made with one 16-byte CAS (so an entry can never be changed
 * through a stale pointer: the key is part of the comparison), except the
 * quarantine's release of a block, which only its releaser can make: a
 * plain store of the tombstone (see shadow_release).
 *
 * The table lives in one of two large MAP_NORESERVE reservations; a "view"
 * is (reservation, size class).  Capacities grow by 1.5x when live blocks
 * fill 80%, so the table costs at most 16 / (0.8 / 1.5) = 30 bytes per live
 * block.  Growth happens in place (the new tail is fresh zero pages), so
 * memory at its peak is just the new size; the entries that moved leave
 * tombstones, which later inserts reuse.  When tombstones rather than live
 * blocks fill a view, a rebuild moves everything into the other
 * reservation, sized for the live blocks, and the old one is returned to
 * the kernel.
 *
 * Moving is incremental and cooperative: inserting threads migrate chunks of
 * the old view.  An entry is moved by freeze (CAS), copy into the new view,
 * erase (CAS); readers search the old view, then the new one, so they see it
 * at least once; a mutator that meets a frozen entry waits the few
 * instructions of that one move.  Chains never get an EMPTY slot back, so a
 * probe sequence is never cut.  Inserters publish the view they insert into
 * in their thread record, and migration of a view starts only when no
 * inserter is still inside it (Dekker-style: publish, fence, re-read).
 * The fence is asymmetric where the kernel has membarrier(2): an inserter
 * publishes with a plain store and re-reads the state, and the thread that
 * starts a growth, after changing the state, makes every running thread of
 * the process execute a full barrier (MEMBARRIER_CMD_PRIVATE_EXPEDITED)
 * before anyone scans the records: so an inserter either saw the new state
 * or its record is visible to the scan.  Without membarrier, inserters
 * publish with an exchange (a full fence on every insert).
 * Migration counters carry the generation they belong to, so a helper that
 * slept through a whole migration cannot touch the next one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MIN_CAP 4096
#define RESERVE_SLOTS (1ull << 28) /* 4 GiB of address space per reservation */
#define CHUNK 256          /* slots migrated per help step */

static int max_sc;         /* largest size class the reservations hold */
static uint64_t reserved_slots;
static cg_entry *_Atomic region[2];

/* The whole table state in one word, so a reader snapshots it at once:
 * bit 0 cur reservation, bits 1-6 cur size class, bit 7 migrating, bit 8
 * old reservation, bits 9-14 old size class, bits 16-63 generation. */
static _Atomic uint64_t tstate;
#define ST_CUR_R(s) ((int)((s)&1))
#define ST_CUR_SC(s) ((int)(((s) >> 1) & 63))
#define ST_MIGRATING(s) (((s) >> 7) & 1)
#define ST_OLD_R(s) ((int)(((s) >> 8) & 1))
#define ST_OLD_SC(s) ((int)(((s) >> 9) & 63))
#define ST_GEN(s) ((s) >> 16)
static inline uint64_t st_make(int cr, int csc, int mig, int orr, int osc, uint64_t gen) {
  return (uint64_t)cr | (uint64_t)csc << 1 | (uint64_t)mig << 7 | (uint64_t)orr << 8 |
         (uint64_t)osc << 9 | gen << 16;
}
/* a view as published in thread records: nonzero */
static inline uintptr_t view_tag(int r, int sc) { return (uintptr_t)(1 | r << 1 | sc << 2); }

/* Slots of size class sc: 4096 * 1.5^sc.  Filled before the first view is
 * published (readers acquire tstate, so they see it). */
static uint64_t caps[64];
static inline uint64_t cap_of(int sc) { return caps[sc]; }

static void size_classes(void) {
  for (int i = 0; i < 64; i++) {
    caps[i] = i ? caps[i - 1] + caps[i - 1] / 2 : MIN_CAP;
    caps[i] &= ~63ull; /* whole pages of entries */
  }
}

static _Atomic int64_t used[2][64];  /* non-empty slots per view (batched) */
static _Atomic int64_t live_count;
/* Migration progress, each tagged with its generation in the top 32 bits. */
static _Atomic uint64_t migration_ready;  /* gen: no inserter left in the old view */
static _Atomic uint64_t migrate_next, migrate_done;
static cg_lock grow_lock;
static _Atomic int unregistered_inserters; /* threads without a record */
static _Atomic int64_t migration_reserve;   /* live entries the rebuild must still fit */
static _Atomic uint64_t move_seq;           /* bumps before each moved entry is erased */
static _Atomic int forking, helpers_active; /* fork() waits for chunks in flight */
/* 1: inserters publish their view with a plain store (membarrier works);
 * set once before the first view is published */
static _Atomic int asym_fence;
static _Atomic uint64_t fenced_gen; /* gen: its state change is visible to all */
static _Atomic uint64_t expected_more; /* shadow_expect(): entries on their way */

/* Home slot of p in size class sc.  Each 64 bytes of heap hash (multiply-
 * shift, uniform for any capacity) to one cache line of four entries, and
 * the four 16-byte granules keep their order in it: blocks of different
 * threads (different jemalloc arenas) never share a line at home, so two
 * threads do not bounce lines between cores. */
static inline uint64_t home_of(uintptr_t p, int sc) {
  uint64_t x = (uint64_t)p >> 6;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  uint64_t line = (uint64_t)(((unsigned __int128)x * (caps[sc] >> 2)) >> 64);
  return line << 2 | (((uint64_t)p >> 4) & 3);
}
static inline uint64_t next_slot(uint64_t i, uint64_t cap) { return i + 1 == cap ? 0 : i + 1; }

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

/* Maps reservation r (once).  Under a lock: two threads allocating for the
 * first time at once would race on the sizes computed here. */
static cg_lock reserve_lock;

static bool reserve(int r) {
  if (atomic_load_explicit(&region[r], memory_order_acquire)) return true;
  if (!cg_lock_enter(&reserve_lock)) return false;
  bool ok = true;
  if (!atomic_load_explicit(&region[r], memory_order_acquire)) {
    uint64_t n = reserved_slots;
    cg_entry *p = NULL;
    if (!n) { /* first time: smaller where address space is limited */
      size_classes();
      for (n = RESERVE_SLOTS; n >= MIN_CAP && !(p = cg_os_alloc(sizeof(cg_entry) * n)); n >>= 2) {}
      if (p) {
        int sc = 0;
        while (cap_of(sc + 1) <= n) sc++;
        max_sc = sc;
        reserved_slots = n;
      }
    } else {
      p = cg_os_alloc(sizeof(cg_entry) * n);
    }
    if (p) atomic_store_explicit(&region[r], p, memory_order_release);
    ok = p != NULL;
  }
  cg_lock_leave(&reserve_lock);
  return ok;
}

static long membarrier(int cmd) {
  int saved = errno; /* malloc and free keep errno */
  long r = syscall(SYS_membarrier, cmd, 0, 0);
  errno = saved;
  return r;
}

/* Can this process use the asymmetric fence?  Registers it if so. */
static bool membarrier_register(void) {
  long q = membarrier(MEMBARRIER_CMD_QUERY);
  return q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
         membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

/* After a state change: every thread that still inserts into the old view
 * has its record visible to the migrators' scan from now on. */
static void fence_inserters(uint64_t gen) {
  if (atomic_load_explicit(&asym_fence, memory_order_relaxed) &&
      membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
      !(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
        membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) &&
      membarrier(MEMBARRIER_CMD_GLOBAL) != 0) {
    /* refused after it worked once (a child made by a raw clone, a new
     * seccomp filter): an x86 store buffer drains in well under a
     * microsecond, and a thread switched out has drained it, so a
     * published record is visible long before this is over */
    struct timespec ts = {0, 10 * 1000 * 1000}; /* raw: not a cancellation point */
    int saved = errno;
    while (syscall(SYS_nanosleep, &ts, &ts) != 0 && errno == EINTR) {}
    errno = saved;
  }
  atomic_store_explicit(&fenced_gen, gen, memory_order_release);
}

static uint64_t load_state(void) {
  uint64_t s = atomic_load_explicit(&tstate, memory_order_acquire);
  if (cg_likely(s != 0)) return s;
  if (!reserve(0)) return 0;
  static _Atomic int fence_probed;
  if (!atomic_load(&fence_probed)) { /* before the first view is published */
    atomic_store(&asym_fence, membarrier_register());
    atomic_store(&fence_probed, 1);
  }
  uint64_t expected = 0;
  atomic_compare_exchange_strong(&tstate, &expected, st_make(0, 0, 0, 0, 0, 1));
  return atomic_load(&tstate);
}

static inline cg_entry *slots_of(int r) {
  return atomic_load_explicit(&region[r], memory_order_relaxed);
}

/* Finds p in one view. */
static cg_entry *find_in(int r, int sc, uintptr_t p, uint64_t *meta) {
  cg_entry *s = slots_of(r);
  uint64_t cap = cap_of(sc), i = home_of(p, sc);
  for (uint64_t n = 0; n < cap; n++, i = next_slot(i, cap)) {
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

void shadow_expect(uint64_t more) {
  if (atomic_load_explicit(&expected_more, memory_order_relaxed) != more)
    atomic_store_explicit(&expected_more, more, memory_order_relaxed);
}

void shadow_prefetch(uintptr_t p) {
  uint64_t s = atomic_load_explicit(&tstate, memory_order_relaxed);
  if (s) __builtin_prefetch(&slots_of(ST_CUR_R(s))[home_of(p, ST_CUR_SC(s))], 1);
}

cg_entry *shadow_find(uintptr_t p, uint64_t *meta) {
  if (cg_unlikely(p <= CG_KEY_TOMB)) return NULL;
  for (unsigned spins = 0;; spins++) {
    uint64_t s = load_state(), m = 0, moves = 0;
    cg_entry *e = NULL;
    if (!s) return NULL;
    if (ST_MIGRATING(s)) {
      /* an entry may be moved past us while we look: a miss counts only
       * if nothing moved meanwhile */
      moves = atomic_load(&move_seq);
      e = find_in(ST_OLD_R(s), ST_OLD_SC(s), p, &m);
    }
    if (!e) e = find_in(ST_CUR_R(s), ST_CUR_SC(s), p, &m);
    if (e && !(m & CG_FROZEN)) {
      *meta = m;
      return e;
    }
    if (!e && atomic_load(&tstate) == s && (!ST_MIGRATING(s) || atomic_load(&move_seq) == moves))
      return NULL;
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
static cg_entry *place(int r, int sc, uintptr_t p, uint64_t meta, bool *took_empty, int *probes) {
  cg_entry *s = slots_of(r);
  uint64_t cap = cap_of(sc), i = home_of(p, sc);
  for (uint64_t n = 0; n < cap; n++, i = next_slot(i, cap)) {
    uint64_t k = atomic_load_explicit(&s[i].key, memory_order_relaxed);
    while (k == CG_KEY_EMPTY || k == CG_KEY_TOMB) {
      /* a tombstone keeps the meta of the block released there (see
       * shadow_release): compare with what is there */
      uint64_t m = atomic_load_explicit(&s[i].meta, memory_order_relaxed);
      if (cas16(&s[i], k, m, p, meta)) {
        *took_empty = (k == CG_KEY_EMPTY);
        *probes = (int)n;
        return &s[i];
      }
      k = atomic_load_explicit(&s[i].key, memory_order_relaxed);
    }
  }
  return NULL;
}

static void count_used(uint64_t s, int r, int sc) {
  uint64_t gen = ST_GEN(s);
  if (cg_tls.used_gen != (unsigned)gen) cg_tls.used_gen = (unsigned)gen, cg_tls.used_delta = 0;
  if (++cg_tls.used_delta >= 16) {
    atomic_fetch_add_explicit(&used[r][sc], cg_tls.used_delta, memory_order_relaxed);
    cg_tls.used_delta = 0;
  }
}

void shadow_flush_thread_counts(void) {
  if (cg_tls.live_delta) atomic_fetch_add(&live_count, cg_tls.live_delta);
  cg_tls.live_delta = 0;
  cg_tls.used_delta = 0;
}

size_t shadow_bytes(void) {
  uint64_t s = atomic_load(&tstate);
  if (!s) return 0;
  size_t b = sizeof(cg_entry) * cap_of(ST_CUR_SC(s));
  if (ST_MIGRATING(s) && ST_OLD_R(s) != ST_CUR_R(s)) b += sizeof(cg_entry) * cap_of(ST_OLD_SC(s));
  return b;
}

/* ---- growth and migration ----------------------------------------------- */

/* Is the entry for p at slot `at` reachable by a probe from its home in
 * view (r, sc)?  Chains never regain EMPTY slots, so once true it stays.
 * Looks a short way only: moving an entry is always correct, walking a long
 * dense run for every entry would not be linear. */
static bool reachable(int r, int sc, uintptr_t p, uint64_t at) {
  cg_entry *s = slots_of(r);
  uint64_t cap = cap_of(sc), i = home_of(p, sc);
  for (int n = 0; n < 64; n++, i = next_slot(i, cap)) {
    if (i == at) return true;
    if (atomic_load_explicit(&s[i].key, memory_order_relaxed) == CG_KEY_EMPTY) return false;
  }
  return false;
}

#ifdef CG_UNIT_HOOKS
void (*shadow_move_window)(uintptr_t key); /* unit tests: an entry was just frozen */
#endif

static void migrate_slot(uint64_t s, uint64_t i) {
  int orr = ST_OLD_R(s), cr = ST_CUR_R(s), csc = ST_CUR_SC(s);
  cg_entry *e = &slots_of(orr)[i];
  for (;;) {
    uint64_t k, m;
    read_entry(e, &k, &m);
    if (k == CG_KEY_EMPTY || k == CG_KEY_TOMB) return;
    if (m & CG_FROZEN) return; /* someone else is moving it */
    if (orr == cr && reachable(cr, csc, k, i)) return; /* in place: already fine */
    if (!cas16(e, k, m, k, m | CG_FROZEN)) continue;
#ifdef CG_UNIT_HOOKS
    if (shadow_move_window) shadow_move_window(k);
#endif
    bool empty;
    int probes;
    if (place(cr, csc, k, m, &empty, &probes)) {
      if (empty) count_used(s, cr, csc);
      atomic_fetch_add(&move_seq, 1);
      cas16(e, k, m | CG_FROZEN, CG_KEY_TOMB, 0);
      return;
    }
    /* New view full.  In place, the entry stays where it is and is still
     * found (the view has no EMPTY slot left: probes scan it all).  A
     * rebuild reserves room for every live entry, so this is a transient
     * race with inserters: wait for room rather than drop the entry. */
    cas16(e, k, m | CG_FROZEN, k, m);
    if (orr == cr) return;
    sched_yield();
  }
}

static bool inserters_left(uint64_t s) {
  uintptr_t tag = view_tag(ST_OLD_R(s), ST_OLD_SC(s));
  if (atomic_load(&unregistered_inserters)) return true;
  for (int i = 0;; i++) {
    struct cg_thread *t = cg_thread_at(i);
    if (!t) return false;
    if (atomic_load_explicit(&t->inserting, memory_order_acquire) == tag) return true;
  }
}

/* Adds n to a generation-tagged counter if it still belongs to gen;
 * returns the previous count, or UINT64_MAX when the migration is over. */
static uint64_t tagged_add(_Atomic uint64_t *c, uint32_t gen, uint64_t n, uint64_t limit) {
  uint64_t v = atomic_load(c);
  do {
    if ((uint32_t)(v >> 32) != gen || (v & 0xffffffffu) >= limit) return UINT64_MAX;
  } while (!atomic_compare_exchange_weak(c, &v, v + n));
  return v & 0xffffffffu;
}

/* One step of cooperative migration; returns true when there is none. */
static bool migrate_help(void) {
  uint64_t s = atomic_load_explicit(&tstate, memory_order_acquire);
  if (!ST_MIGRATING(s)) return true;
  uint32_t gen = (uint32_t)ST_GEN(s);
  if (atomic_load_explicit(&migration_ready, memory_order_acquire) != gen) {
    if (atomic_load_explicit(&fenced_gen, memory_order_acquire) != gen || inserters_left(s))
      return false;
    uint64_t expected = gen - 1ull; /* grow() left the previous generation */
    atomic_compare_exchange_strong(&migration_ready, &expected, gen);
  }
  uint64_t cap = cap_of(ST_OLD_SC(s));
  /* an entry being moved is frozen, and whoever looks it up waits: a
   * signal handler of this thread must not run while one is (it would
   * wait for itself), so signals wait for the chunk instead.  Nor while
   * this thread counts in helpers_active: fork() waits for that count
   * holding the quarantine's lock, which the handler's free would wait for */
  sigset_t old;
  cg_block_signals(&old);
  atomic_fetch_add(&helpers_active, 1);
  uint64_t start = atomic_load(&forking) ? UINT64_MAX : tagged_add(&migrate_next, gen, CHUNK, cap);
  if (start == UINT64_MAX) {
    atomic_fetch_sub(&helpers_active, 1);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return false;
  }
  uint64_t end = start + CHUNK < cap ? start + CHUNK : cap;
  /* from the top down: entries move to higher slots (homes scale with the
   * capacity), so they land where moves have already left tombstones
   * instead of filling the gaps between clusters still to be moved */
  for (uint64_t i = cap - start; i > cap - end; i--) migrate_slot(s, i - 1);
  if (tagged_add(&migrate_done, gen, end - start, cap) + (end - start) == cap) {
    /* last chunk: the old view holds no entry any more.  Return it to the
     * kernel before the next growth may pick this reservation again;
     * readers still looking there see zeros, a miss, then the new view. */
    int orr = ST_OLD_R(s), cr = ST_CUR_R(s);
    if (orr != cr) madvise(slots_of(orr), sizeof(cg_entry) * cap, MADV_DONTNEED);
    atomic_store(&tstate, st_make(cr, ST_CUR_SC(s), 0, 0, 0, ST_GEN(s) + 1));
  }
  atomic_fetch_sub(&helpers_active, 1);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return true;
}

/* Starts a growth or a rebuild of view s if none is under way. */
static void grow(uint64_t s) {
  if (ST_MIGRATING(s)) return;
  /* fork() waits for grow_lock holding the quarantine's lock: a signal
   * handler's free on this thread meanwhile must not wait for that (see
   * quarantine_push) */
  CG_MARK(in_quarantine);
  if (!cg_lock_try(&grow_lock)) { /* someone else is on it */
    CG_UNMARK(in_quarantine);
    return;
  }
  if (atomic_load(&tstate) != s) goto out;
  int r = ST_CUR_R(s), sc = ST_CUR_SC(s), nr = r, nsc = sc + 1;
  /* the batched counters can be off by a few per thread: size by an exact
   * count (growth is rare and the migration reads every slot anyway) */
  int64_t live = 0;
  cg_entry *sl = slots_of(r);
  for (uint64_t i = 0, cap = cap_of(sc); i < cap; i++)
    live += atomic_load_explicit(&sl[i].key, memory_order_relaxed) > CG_KEY_TOMB;
  if (live < (int64_t)(cap_of(sc) / 5 * 3)) {
    /* tombstones, not live blocks, fill it: rebuild in the other
     * reservation, sized so the live blocks fill at most a third (room
     * for tombstones: churn rebuilds less often) */
    nsc = 0;
    while (nsc < max_sc && (int64_t)(cap_of(nsc) / 3) < live) nsc++;
    nr = 1 - r;
    if (!reserve(nr)) nr = r, nsc = sc + 1;
  }
  if (nr == r) {
    /* entries the quarantine is known to be about to add: grow once to
     * hold them at a fill of 3/4, not step by step (each step moves
     * every entry) */
    uint64_t more = atomic_load_explicit(&expected_more, memory_order_relaxed);
    uint64_t want = ((uint64_t)live + more) / 3 * 4;
    while (more && nsc < max_sc && cap_of(nsc) < want) nsc++;
  }
  if (nsc > max_sc) goto out; /* at the limit: probe longer */
  uint64_t gen = ST_GEN(s) + 1;
  atomic_store(&migration_reserve, nr == r ? 0 : live);
  atomic_store(&used[nr][nsc], nr == r ? atomic_load(&used[r][sc]) : 0);
  atomic_store(&migrate_next, gen << 32);
  atomic_store(&migrate_done, gen << 32);
  atomic_store(&migration_ready, (uint32_t)(gen - 1));
  atomic_store(&tstate, st_make(nr, nsc, 1, r, sc, gen));
  fence_inserters(gen);
out:
  cg_lock_release(&grow_lock);
  CG_UNMARK(in_quarantine);
}

/* A thread that was growing the table at fork() does not exist in the
 * child: let the child grow it. */
void shadow_atfork_prepare(void) {
  atomic_store(&forking, 1);
  while (atomic_load(&helpers_active)) sched_yield();
  cg_lock_acquire(&grow_lock);
}

void shadow_atfork_parent(void) {
  cg_lock_release(&grow_lock);
  atomic_store(&forking, 0);
}

void shadow_atfork_child(void) {
  cg_lock_release(&reserve_lock); /* a thread gone with the fork may have held it */
  atomic_store(&unregistered_inserters, 0);
  /* membarrier registration belongs to the parent's address space; the
   * child is single-threaded here, so switching to exchanges is safe */
  if (atomic_load(&asym_fence) && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
    atomic_store(&asym_fence, 0);
  shadow_atfork_parent();
}

/* During a rebuild, may a new insert take a slot?  Only while the live
 * entries still to come fit too (counters are batched: keep a margin). */
static bool rebuild_has_room(uint64_t s) {
  int r = ST_CUR_R(s), sc = ST_CUR_SC(s);
  int64_t margin = 64 + 16 * (int64_t)cg_threads_seen();
  return atomic_load_explicit(&used[r][sc], memory_order_relaxed) +
             atomic_load_explicit(&migration_reserve, memory_order_relaxed) + margin <
         (int64_t)cap_of(sc);
}

/* Live blocks past 80%, or non-empty slots (tombstones too) past 90%. */
static inline bool needs_growth(uint64_t s, int probes) {
  int r = ST_CUR_R(s), sc = ST_CUR_SC(s);
  uint64_t cap = cap_of(sc);
  /* cheap common case: look at the shared counters every 16th insert */
  if (cg_likely(probes < 8) && (++cg_tls.inserts & 15) != 0) return false;
  return atomic_load_explicit(&live_count, memory_order_relaxed) > (int64_t)(cap / 5 * 4) ||
         atomic_load_explicit(&used[r][sc], memory_order_relaxed) > (int64_t)(cap / 10 * 9);
}

/* An inserter publishes the view it writes into, then makes sure it is
 * still current (a signal handler's nested writer restores the outer one's
 * tag); a migration of that view starts only after it left.  With the
 * asymmetric fence a plain store: grow() fences every thread after it
 * changes the state, before the records are scanned.  A thread without a
 * record (the registry full) counts itself instead. */
static inline void view_leave(struct cg_thread *t, uintptr_t outer) {
  if (t) atomic_store_explicit(&t->inserting, outer, memory_order_release);
  else atomic_fetch_sub(&unregistered_inserters, 1);
}

static inline bool view_enter(struct cg_thread *t, uint64_t s, uintptr_t *outer) {
  uintptr_t tag = view_tag(ST_CUR_R(s), ST_CUR_SC(s));
  if (cg_likely(t != NULL)) {
    *outer = atomic_load_explicit(&t->inserting, memory_order_relaxed);
    if (cg_likely(atomic_load_explicit(&asym_fence, memory_order_relaxed))) {
      atomic_store_explicit(&t->inserting, tag, memory_order_relaxed);
      atomic_signal_fence(memory_order_seq_cst); /* the compiler keeps the order */
    } else {
      atomic_exchange(&t->inserting, tag);
    }
  } else {
    atomic_fetch_add(&unregistered_inserters, 1);
  }
  if (cg_likely(atomic_load(&tstate) == s)) return true;
  view_leave(t, *outer);
  return false;
}

/* A signal handler's insert that interrupted table work of this same
 * thread (an insert or a release with its view published; migration chunks
 * run with signals blocked): others wait for that work to end, so this one
 * must never wait for them.  It does not help a migration or leave a rebuild its
 * room, and gives up (malloc fails with ENOMEM) rather than wait for a full
 * view to grow. */
static cg_entry *insert(struct cg_thread *t, uintptr_t p, uint64_t meta, bool nested);

cg_entry *shadow_insert(uintptr_t p, uint64_t meta) {
  struct cg_thread *t = cg_thread_self(); /* may allocate: not inside in_table */
  bool nested = cg_tls.in_table != 0;
  CG_MARK(in_table);
  cg_entry *e = insert(t, p, meta, nested);
  CG_UNMARK(in_table);
  return e;
}

static cg_entry *insert(struct cg_thread *t, uintptr_t p, uint64_t meta, bool nested) {
  for (int full = 0;;) {
    uint64_t s = load_state();
    if (!s) return NULL;
    int r = ST_CUR_R(s), sc = ST_CUR_SC(s);
    uintptr_t outer = 0;
    if (cg_unlikely(ST_MIGRATING(s)) && ST_OLD_R(s) != r && !nested && !rebuild_has_room(s)) {
      /* leave the rebuild the room its moves need: help it instead */
      if (!migrate_help()) sched_yield();
      continue;
    }
    if (!view_enter(t, s, &outer)) continue;
    bool empty = false;
    int probes = 0;
    cg_entry *ok = place(r, sc, p, meta, &empty, &probes);
    view_leave(t, outer);
    if (!ok) {
      grow(s);
      if (cg_unlikely(nested)) {
        if (++full > 2) return NULL;
        continue;
      }
      if (!migrate_help()) sched_yield();
      if (sc >= max_sc && atomic_load(&tstate) == s) return NULL;
      continue;
    }
    count_live(1);
    if (empty) count_used(s, r, sc);
    if (cg_unlikely(ST_MIGRATING(s))) {
      if (!nested) migrate_help();
    } else if (cg_unlikely(needs_growth(s, probes))) {
      grow(s);
    }
    return ok;
  }
}

#ifdef CG_UNIT_HOOKS
/* unit tests widen the window between a release's check and its store, to
 * show that the publication is what keeps a migration out of it */
void (*shadow_release_window)(void);
#endif

/* The release's common case: p's entry still at hint, no migration under
 * way.  Only the releaser changes a quarantined entry (a second free or a
 * string check just reads it), except a migration moving it: published as
 * an inserter is, so none can start, a plain store of the tombstone does. */
static uint64_t release_at(cg_entry *hint, uintptr_t p) {
  struct cg_thread *t = cg_tls.thread;
  uint64_t s = atomic_load_explicit(&tstate, memory_order_acquire);
  uintptr_t outer = 0;
  uint64_t m = 0;
  if (!t || !s || ST_MIGRATING(s)) return 0;
  CG_MARK(in_table); /* see insert(): a handler's insert must not wait for this */
  if (view_enter(t, s, &outer)) {
    if (atomic_load_explicit(&hint->key, memory_order_relaxed) == p)
      m = atomic_load_explicit(&hint->meta, memory_order_relaxed) & ~CG_FROZEN;
    if (cg_meta_state(m) != CG_ST_QUARANTINED) m = 0;
#ifdef CG_UNIT_HOOKS
    if (m && shadow_release_window) shadow_release_window();
#endif
    /* release: the block goes back to jemalloc after this */
    if (m) atomic_store_explicit(&hint->key, CG_KEY_TOMB, memory_order_release);
    view_leave(t, outer);
  }
  CG_UNMARK(in_table);
  return m;
}

/* Erases the quarantined entry of p when the quarantine lets the block go:
 * where free left it (hint), or else (it moved, a migration is under way)
 * by lookup and CAS.  Returns the entry's meta, 0 when p was not a
 * quarantined block. */
uint64_t shadow_release(cg_entry *hint, uintptr_t p) {
  uint64_t m;
  if (cg_likely(hint != NULL) && (m = release_at(hint, p))) {
    count_live(-1);
    return m;
  }
  for (;;) {
    cg_entry *e = shadow_find(p, &m);
    if (!e || cg_meta_state(m) != CG_ST_QUARANTINED) return 0;
    if (shadow_erase(e, p, m)) return m;
  }
}

void shadow_for_each(void (*fn)(uintptr_t key, uint64_t meta, void *arg), void *arg) {
  uint64_t s = atomic_load(&tstate);
  if (!s) return;
  /* during an in-place growth the old view is the new one's head */
  int views = ST_MIGRATING(s) && ST_OLD_R(s) != ST_CUR_R(s) ? 2 : 1;
  for (int v = 0; v < views; v++) {
    int r = v ? ST_OLD_R(s) : ST_CUR_R(s), sc = v ? ST_OLD_SC(s) : ST_CUR_SC(s);
    cg_entry *sl = slots_of(r);
    for (uint64_t i = 0, cap = cap_of(sc); i < cap; i++) {
      uint64_t k, m;
      read_entry(&sl[i], &k, &m);
      if (k > CG_KEY_TOMB) fn((uintptr_t)k, m & ~CG_FROZEN, arg);
    }
  }
}
