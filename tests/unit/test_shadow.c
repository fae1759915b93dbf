/* Shadow table: correctness, growth, tombstone rebuilds, memory per block,
 * and a multi-threaded stress test (also built with -fsanitize=thread). */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <stdatomic.h>

#include "internal.h"
#include "unit.h"

/* Fake block addresses: 16-byte aligned, distinct per (thread, i). */
static uintptr_t key_of(int t, long i) { return 0x7f0000000000ull + ((uintptr_t)t << 36) + (uintptr_t)i * 48; }

static void test_insert_find_update_erase(void) {
  const long n = 20000;
  for (long i = 0; i < n; i++)
    CHECK(shadow_insert(key_of(0, i), cg_meta(CG_ST_LIVE, (uint32_t)i, (uint64_t)i)));
  for (long i = 0; i < n; i++) {
    uint64_t m = 0;
    cg_entry *e = shadow_find(key_of(0, i), &m);
    CHECK(e != NULL);
    if (!e) continue;
    CHECK(cg_meta_state(m) == CG_ST_LIVE);
    CHECK(cg_meta_site(m) == (uint32_t)i);
    CHECK(cg_meta_size(m) == (uint64_t)i);
    CHECK(shadow_update(e, key_of(0, i), m, cg_meta_with_state(m, CG_ST_QUARANTINED)));
    /* a stale expected value must fail: one CAS per state change */
    CHECK(!shadow_update(e, key_of(0, i), m, cg_meta_with_state(m, CG_ST_QUARANTINED)));
  }
  for (long i = 0; i < n; i++) {
    uint64_t m = 0;
    cg_entry *e = shadow_find(key_of(0, i), &m);
    CHECK(e && cg_meta_state(m) == CG_ST_QUARANTINED);
    /* half erased by CAS, half released where free found them */
    if (e && i % 2) CHECK(shadow_erase(e, key_of(0, i), m));
    /* the release returns the meta it erased (free hands it to sdallocx) */
    if (e && !(i % 2)) CHECK(shadow_release(e, key_of(0, i)) == m);
    CHECK(shadow_find(key_of(0, i), &m) == NULL);
    CHECK(!shadow_release(e, key_of(0, i))); /* released once only */
  }
  /* a live block is not released, whatever the hint */
  uintptr_t k = key_of(0, n + 1);
  cg_entry *live = shadow_insert(k, cg_meta(CG_ST_LIVE, 1, 1));
  CHECK(live && !shadow_release(live, k) && !shadow_release(NULL, k));
  uint64_t lm;
  CHECK(shadow_find(k, &lm) == live && cg_meta_state(lm) == CG_ST_LIVE);
  /* a tombstone left by a release is reused by the next insert */
  CHECK(shadow_update(live, k, lm, cg_meta_with_state(lm, CG_ST_QUARANTINED)));
  CHECK(shadow_release(live, k));
  CHECK(shadow_insert(k, cg_meta(CG_ST_LIVE, 2, 2)) == live);
  CHECK(shadow_find(k, &lm) == live && cg_meta_site(lm) == 2);
  CHECK(shadow_update(live, k, lm, cg_meta_with_state(lm, CG_ST_QUARANTINED)));
  CHECK(shadow_release(NULL, k) == cg_meta_with_state(lm, CG_ST_QUARANTINED));
  uint64_t m;
  CHECK(shadow_find(0, &m) == NULL);
  CHECK(shadow_find(1, &m) == NULL); /* the tombstone key is never a block */
  CHECK(shadow_find(key_of(0, n + 5), &m) == NULL);
}

static void test_huge_size_sentinel(void) {
  uint64_t m = cg_meta(CG_ST_LIVE, 7, 1ull << 60);
  CHECK(cg_meta_size(m) == CG_SIZE_HUGE);
  CHECK(cg_meta_site(m) == 7);
  CHECK(cg_meta_state(m) == CG_ST_LIVE);
}

/* Grows from 4096 slots to hold n live blocks; all stay findable and the
 * table costs at most 32 bytes per live block. */
static void grow_to(long n, int t) {
  for (long i = 0; i < n; i++)
    if (!shadow_insert(key_of(t, i), cg_meta(CG_ST_LIVE, 1, 32))) {
      CHECK(!"insert failed");
      return;
    }
  long missing = 0;
  for (long i = 0; i < n; i++) {
    uint64_t m;
    if (!shadow_find(key_of(t, i), &m)) missing++;
  }
  CHECK(missing == 0);
  double per_block = (double)shadow_bytes() / (double)n;
  printf("  %ld live blocks: table %zu bytes, %.1f bytes per live block\n", n, shadow_bytes(),
         per_block);
  fflush(stdout);
  CHECK(per_block <= 32.0);
  for (long i = 0; i < n; i++) {
    uint64_t m;
    cg_entry *e = shadow_find(key_of(t, i), &m);
    if (e) shadow_erase(e, key_of(t, i), m);
  }
}

static void test_one_million_live(void) { grow_to(unit_scaled(1000000), 1); }

static void test_ten_million_live(void) {
  if (getenv("UNIT_SCALE")) SKIP("scaled run: the sanitizers' shadow of 10M blocks is too big");
  grow_to(10000000, 2);
}

/* Insert/erase churn with few live blocks: tombstones must be cleaned by
 * rebuilds, so the table stays small. */
static void test_churn_stays_small(void) {
  const long live = 5000, rounds = unit_scaled(4000000);
  for (long i = 0; i < live; i++) shadow_insert(key_of(3, i), cg_meta(CG_ST_LIVE, 1, 16));
  for (long i = live; i < rounds; i++) {
    uint64_t m;
    uintptr_t old = key_of(3, i - live);
    cg_entry *e = shadow_find(old, &m);
    CHECK(e != NULL);
    if (e) CHECK(shadow_erase(e, old, m));
    CHECK(shadow_insert(key_of(3, i), cg_meta(CG_ST_LIVE, 1, 16)));
  }
  printf("  churn of %ld with %ld live: table %zu bytes\n", rounds, live, shadow_bytes());
  CHECK(shadow_bytes() <= 64 * (size_t)live + 16 * 4096 * 4);
  for (long i = rounds - live; i < rounds; i++) {
    uint64_t m;
    cg_entry *e = shadow_find(key_of(3, i), &m);
    CHECK(e != NULL);
    if (e) shadow_erase(e, key_of(3, i), m);
  }
}

/* A signal handler that looks up an entry its own thread froze to move it
 * would wait for itself: signals wait for the migration chunk instead.
 * (Before that, this test hung until the alarm killed it.) */
extern void (*shadow_move_window)(uintptr_t key);
static uintptr_t frozen_key;
static volatile sig_atomic_t handler_found;

static void look_up_frozen(int sig) {
  (void)sig;
  uint64_t m;
  handler_found = shadow_find(frozen_key, &m) != NULL ? 1 : 2;
}

static void raise_in_move(uintptr_t key) {
  if (frozen_key) return;
  frozen_key = key;
  raise(SIGUSR1);
}

static void test_signal_during_move(void) {
  struct sigaction sa = {.sa_handler = look_up_frozen}, old;
  sigaction(SIGUSR1, &sa, &old);
  alarm(60);
  shadow_move_window = raise_in_move;
  long n = 0;
  while (!handler_found && n < 4000000) shadow_insert(key_of(5, n++), cg_meta(CG_ST_LIVE, 1, 16));
  shadow_move_window = NULL;
  alarm(0);
  sigaction(SIGUSR1, &old, NULL);
  CHECK(frozen_key != 0);      /* a migration moved an entry */
  CHECK(handler_found == 1);   /* the handler ran, after the move, and found it */
  for (long i = 0; i < n; i++) {
    uint64_t m;
    cg_entry *e = shadow_find(key_of(5, i), &m);
    CHECK(e != NULL);
    if (e) shadow_erase(e, key_of(5, i), m);
  }
}

/* ---- threads ------------------------------------------------------------ */

#define THREADS 4
#define SHARED 20000
static _Atomic int shared_wins[SHARED];
static _Atomic int go;

#define HELD 1000 /* quarantined blocks per thread */

static void *stress(void *arg) {
  static __thread cg_entry *held[HELD];
  int t = (int)(intptr_t)arg + 8;
  long n = unit_scaled(300000);
  long bad = 0;
  while (!atomic_load(&go)) {}
  for (long i = 0; i < n; i++) {
    uintptr_t k = key_of(t, i);
    if (!shadow_insert(k, cg_meta(CG_ST_LIVE, (uint32_t)t, (uint64_t)i))) bad++;
    if (i >= 64 + HELD) { /* release the block freed HELD frees ago */
      long j = i - 64 - HELD;
      uintptr_t o = key_of(t, j);
      cg_entry *hint = held[j % HELD];
      uint64_t m;
      /* every third without the hint: the lookup-and-CAS path */
      if (!shadow_release(j % 3 ? hint : NULL, o)) {
        fprintf(stderr, "  thread %d block %ld: release failed\n", t, j);
        bad++;
      }
      if (shadow_find(o, &m) || shadow_release(hint, o)) {
        fprintf(stderr, "  thread %d block %ld: still there after release\n", t, j);
        bad++;
      }
    }
    if (i >= 64) { /* free a block inserted a while ago */
      uintptr_t o = key_of(t, i - 64);
      uint64_t m;
      cg_entry *e = shadow_find(o, &m);
      if (!e || cg_meta_size(m) != (uint64_t)(i - 64) || cg_meta_state(m) != CG_ST_LIVE) {
        fprintf(stderr, "  thread %d block %ld: %s\n", t, i - 64, e ? "wrong meta" : "missing");
        bad++;
        continue;
      }
      while (!shadow_update(e, o, m, cg_meta_with_state(m, CG_ST_QUARANTINED)))
        e = shadow_find(o, &m);
      held[(i - 64) % HELD] = e; /* where it was when freed: stale after a migration */
    }
    if (i % 16 == 0) { /* race the other threads on a shared block */
      long s = (i / 16) % SHARED;
      uintptr_t k2 = key_of(31, s);
      uint64_t m;
      cg_entry *e = shadow_find(k2, &m);
      while (e && cg_meta_state(m) == CG_ST_LIVE) {
        if (shadow_update(e, k2, m, cg_meta_with_state(m, CG_ST_QUARANTINED))) {
          atomic_fetch_add(&shared_wins[s], 1);
          break;
        }
        e = shadow_find(k2, &m);
      }
    }
  }
  return (void *)bad;
}

/* Every 64th release waits a few microseconds between its check and its
 * store, while the other threads' churn migrates the table: a release not
 * kept out of migrations would leave an entry moved meanwhile behind. */
extern void (*shadow_release_window)(void);
static void release_window(void) {
  static __thread unsigned calls;
  if (++calls % 64 == 0)
    for (int i = 0; i < 3000; i++) __builtin_ia32_pause();
}

static void test_threads_stress(void) {
  shadow_release_window = release_window;
  for (long s = 0; s < SHARED; s++) shadow_insert(key_of(31, s), cg_meta(CG_ST_LIVE, 0, 0));
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, stress, (void *)(intptr_t)i);
  atomic_store(&go, 1);
  long bad = 0;
  for (int i = 0; i < THREADS; i++) {
    void *r;
    pthread_join(th[i], &r);
    bad += (long)r;
  }
  shadow_release_window = NULL;
  CHECK(bad == 0);
  long reached = 0, doubles = 0;
  for (long s = 0; s < SHARED; s++) {
    int w = atomic_load(&shared_wins[s]);
    reached += w > 0;
    doubles += w > 1;
  }
  CHECK(doubles == 0); /* exactly one thread wins each state change */
  CHECK(reached > 0);
  /* every thread's last 64 blocks are live, the HELD before them
   * quarantined, and none older is left */
  long n = unit_scaled(300000), wrong = 0;
  for (int t = 8; t < 8 + THREADS; t++)
    for (long i = 0; i < n; i++) {
      uint64_t m = 0;
      uint64_t want = i >= n - 64 ? CG_ST_LIVE : i >= n - 64 - HELD ? CG_ST_QUARANTINED : 0;
      cg_entry *e = shadow_find(key_of(t, i), &m);
      wrong += want ? !e || cg_meta_state(m) != want : e != NULL;
    }
  CHECK(wrong == 0);
}

int main(void) {
  RUN(test_insert_find_update_erase);
  RUN(test_huge_size_sentinel);
  RUN(test_one_million_live);
  RUN(test_churn_stays_small);
  RUN(test_signal_during_move);
  RUN(test_threads_stress);
  RUN(test_ten_million_live);
  return UNIT_END();
}
