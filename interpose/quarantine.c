/* Quarantine: freed blocks are held back, FIFO, up to quarantine_mb, so a
 * second free or a late use still finds the block marked freed in the table
 * instead of handed out again.
 *
 * Each thread fills a local batch with no lock and no shared write; a full
 * batch is appended to the global FIFO under a short lock (once per 64
 * frees), and whoever appends evicts the oldest batches past the budget,
 * outside the lock.  The same split ASan's quarantine uses.
 */
#include <errno.h>

#include "internal.h"

#define QB_N 64
#define POOL_CHUNK (1u << 20)

struct qbatch {
  struct qbatch *next;
  _Atomic uint32_t n;
  uint64_t bytes;
  struct qent e[QB_N];
};

static struct {
  cg_lock lock;
  struct qbatch *head, *tail; /* FIFO, oldest at head */
  uint64_t bytes, entries;
  struct qbatch *free_list;
  unsigned char *pool;
  size_t pool_left;
} Q;

/* What a quarantined block costs: its bytes plus table and batch entries. */
static inline uint64_t block_cost(uint64_t size) { return ((size + 15) & ~15ull) + 48; }

static struct qbatch *batch_new(void) {
  struct qbatch *b;
  cg_lock_acquire(&Q.lock);
  if ((b = Q.free_list)) {
    Q.free_list = b->next;
  } else {
    if (Q.pool_left < sizeof *b) {
      Q.pool = cg_os_alloc(POOL_CHUNK);
      Q.pool_left = Q.pool ? POOL_CHUNK : 0;
    }
    if (Q.pool_left >= sizeof *b) {
      b = (struct qbatch *)(void *)Q.pool;
      Q.pool += sizeof *b;
      Q.pool_left -= sizeof *b;
    }
  }
  cg_lock_release(&Q.lock);
  if (b) {
    b->next = NULL;
    atomic_store_explicit(&b->n, 0, memory_order_relaxed);
    b->bytes = 0;
  }
  return b;
}

#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 32
#endif
#ifndef PREFETCH_BYTES
#define PREFETCH_BYTES 256
#endif
/* The table entry of a block about to be released, the block's first
 * PREFETCH_BYTES (what free poisons, and usually what a program writes
 * first) and its last line. */
static inline void prefetch_entry(const struct qent *q) {
  if (q->entry) __builtin_prefetch(q->entry, 1);
  else shadow_prefetch(q->ptr);
  uintptr_t a = q->ptr, end = a + (q->size ? q->size : 1);
  uintptr_t lim = end - a > PREFETCH_BYTES ? a + PREFETCH_BYTES : end;
  for (uintptr_t l = a & ~63ull; l < lim; l += 64) __builtin_prefetch((void *)l, 1);
  if (end > lim) __builtin_prefetch((void *)(end - 1), 1);
}

static void release_batches(struct qbatch *list) {
  struct qbatch *last = NULL;
  for (struct qbatch *b = list; b; last = b, b = b->next) {
    uint32_t n = atomic_load_explicit(&b->n, memory_order_relaxed);
    /* the entries and blocks are cold (freed long ago): ask for them a few
     * iterations ahead.  jemalloc hands a released block out again soon
     * (its thread cache is LIFO), and then the program writes it and our
     * free poisons it: without this, those stores miss and the next locked
     * instruction (a table CAS) waits for them */
    for (uint32_t i = 0; i < n && i < PREFETCH_AHEAD; i++) prefetch_entry(&b->e[i]);
    for (uint32_t i = 0; i < n; i++) {
      if (i + PREFETCH_AHEAD < n) prefetch_entry(&b->e[i + PREFETCH_AHEAD]);
      cg_release_block(b->e[i].ptr, b->e[i].entry);
    }
  }
  if (!list) return;
  cg_lock_acquire(&Q.lock);
  last->next = Q.free_list;
  Q.free_list = list;
  cg_lock_release(&Q.lock);
}

/* Appends b to the FIFO and evicts past the budget. */
static void flush(struct qbatch *b) {
  struct qbatch *evicted = NULL, **tailp = &evicted;
  cg_lock_acquire(&Q.lock);
  if (Q.tail) Q.tail->next = b;
  else Q.head = b;
  Q.tail = b;
  Q.bytes += b->bytes;
  Q.entries += atomic_load_explicit(&b->n, memory_order_relaxed);
  while (Q.head && Q.bytes > cg_opt.quarantine_bytes) {
    struct qbatch *o = Q.head;
    Q.head = o->next;
    if (!Q.head) Q.tail = NULL;
    Q.bytes -= o->bytes;
    Q.entries -= atomic_load_explicit(&o->n, memory_order_relaxed);
    o->next = NULL;
    *tailp = o;
    tailp = &o->next;
  }
  /* Filling up (past an eighth, so the average block is known): tell the
   * table how many more entries the rest of the budget will bring, so it
   * grows once instead of in many steps.  Their table memory is what the
   * 48 bytes of bookkeeping per block in quarantine_mb stand for. */
  uint64_t more = 0;
  if (Q.bytes >= cg_opt.quarantine_bytes / 8 && Q.bytes < cg_opt.quarantine_bytes && Q.entries)
    more = (uint64_t)((double)(cg_opt.quarantine_bytes - Q.bytes) * (double)Q.entries / (double)Q.bytes);
  cg_lock_release(&Q.lock);
  shadow_expect(more);
  release_batches(evicted);
}

static void push(uintptr_t p, cg_entry *e, uint64_t size, uint32_t free_site);

void quarantine_push(uintptr_t p, cg_entry *e, uint64_t size, uint32_t free_site) {
  /* A signal handler's free that interrupted this thread's own push (its
   * batch half-updated, or Q.lock held), a jemalloc call (a flush would
   * hand blocks back to it), or the hold of a lock that fork() takes after
   * Q.lock (the guarded pool's, the table's growth): the block stays
   * marked freed and is never handed back, one block lost instead of a
   * deadlock.  A fork handler's free while fork() holds Q.lock (init.c)
   * hands its block back unquarantined: no lock on that way */
  if (cg_unlikely(cg_tls.in_quarantine || cg_tls.in_jemalloc || cg_tls.in_lock)) {
    if (cg_tls.in_fork && !cg_tls.in_quarantine && !cg_tls.in_jemalloc) cg_release_block(p, e);
    return;
  }
  CG_MARK(in_quarantine);
  push(p, e, size, free_site);
  CG_UNMARK(in_quarantine);
}

static void push(uintptr_t p, cg_entry *e, uint64_t size, uint32_t free_site) {
  uint64_t cost = block_cost(size);
  struct cg_thread *t = cg_thread_self();
  struct qbatch *b = t ? atomic_load_explicit(&t->batch, memory_order_relaxed) : NULL;
  if (cost > cg_opt.quarantine_bytes || !t) {
    cg_release_block(p, e); /* cannot be held: hand it back now */
    return;
  }
  if (!b) {
    int saved = errno;
    b = batch_new();
    errno = saved;
    if (!b) {
      cg_release_block(p, e);
      return;
    }
    atomic_store_explicit(&t->batch, b, memory_order_release);
  }
  uint32_t n = atomic_load_explicit(&b->n, memory_order_relaxed);
  b->e[n] = (struct qent){p, e, size, free_site, cg_gettid()};
  atomic_store_explicit(&b->n, n + 1, memory_order_release);
  b->bytes += cost;
  /* a thread's batch holds at most 1/16 of the budget, so the FIFO order
   * across threads stays close to global */
  if (n + 1 == QB_N || b->bytes >= cg_opt.quarantine_bytes / 16) {
    int saved = errno; /* free keeps errno (glibc 2.33+): eviction calls out */
    atomic_store_explicit(&t->batch, NULL, memory_order_release);
    flush(b);
    errno = saved;
  }
}

void quarantine_thread_exit(struct cg_thread *t) {
  struct qbatch *b = atomic_exchange(&t->batch, NULL);
  if (!b) return;
  CG_MARK(in_quarantine); /* Q.lock: a signal handler's free must not wait for it */
  flush(b);
  CG_UNMARK(in_quarantine);
}

static bool find_in(struct qbatch *b, uintptr_t p, struct qent *out) {
  bool found = false;
  uint32_t n = atomic_load_explicit(&b->n, memory_order_acquire);
  for (uint32_t i = 0; i < n && i < QB_N; i++)
    if (b->e[i].ptr == p) *out = b->e[i], found = true; /* keep the newest */
  return found;
}

bool quarantine_find(uintptr_t p, struct qent *out) {
  bool found = false;
  /* A report made by a signal handler that interrupted this thread's own
   * quarantine work, which may hold Q.lock: the FIFO is not searched (the
   * report will not say where the block was freed) rather than wait for
   * the thread itself */
  if (!cg_tls.in_quarantine) {
    CG_MARK(in_quarantine); /* as in quarantine_thread_exit */
    cg_lock_acquire(&Q.lock);
    for (struct qbatch *b = Q.head; b; b = b->next) found |= find_in(b, p, out);
    cg_lock_release(&Q.lock);
    CG_UNMARK(in_quarantine);
  }
  for (int i = 0;; i++) { /* thread batches are newer than the FIFO */
    struct cg_thread *t = cg_thread_at(i);
    if (!t) break;
    struct qbatch *b = atomic_load_explicit(&t->batch, memory_order_acquire);
    if (b && atomic_load(&t->in_use)) found |= find_in(b, p, out);
  }
  return found;
}

void quarantine_atfork_prepare(void) { cg_lock_acquire(&Q.lock); }
void quarantine_atfork_parent(void) { cg_lock_release(&Q.lock); }
void quarantine_atfork_child(void) { cg_lock_release(&Q.lock); }
