/* Guarded sampling (guard_sample=N): about one small allocation in N gets a
 * page of its own, its end against an inaccessible guard page, and that
 * page is made inaccessible when the block is freed, until the quarantine
 * lets the block go.  A read or write past the block's end or into it after
 * the free then faults at the instruction, also in code that calls no libc
 * function (C code indexing an array, Go code reading C memory through
 * unsafe), and the fault handler (signals.c) reports it with the block's
 * allocation and free sites.  The idea of GWP-ASan; cheap because rare: an
 * mmap and an mprotect per sampled block.
 *
 * The bytes between the block's end and the page's end (fewer than 16: the
 * block starts 16-byte aligned, as malloc's must) hold a pattern checked
 * when the block is freed.  Slots come from one PROT_NONE reservation and
 * are reused in FIFO order, as late as possible.  Every allocation maps its
 * block's page afresh (zeros; a released block's memory goes then) and
 * bumps the slot's generation, so a fault recovered late can never open a
 * page of the slot's next block; a slot a recovered fault opened is mapped
 * whole again, guard page closed. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define PAGE 4096u
#define SLOT (2 * PAGE) /* the block's page, then its guard page */
#define TAIL_FILL 0xcb

uintptr_t cg_guard_pool = (uintptr_t)0 - CG_GUARD_POOL_BYTES; /* no user address */
static _Atomic int pool_state;   /* 0 untried, 1 mapped, -1 refused */
/* taken with cg_lock_enter: a signal handler of the thread holding it does
 * without (no sample, one slot lost) instead of waiting for itself */
static cg_lock pool_lock;
/* free slots, a FIFO ring: head is taken, tail is given back */
static uint32_t ring[CG_GUARD_SLOTS], ring_head, ring_count;
static uintptr_t slot_block[CG_GUARD_SLOTS]; /* block start in each slot, 0 or SETTING_UP */
#define SETTING_UP ((uintptr_t)1)
static uint32_t slot_gen[CG_GUARD_SLOTS];    /* bumped by every allocation there */
static bool slot_opened[CG_GUARD_SLOTS];     /* a recovered fault opened a page */

static inline uint32_t slot_of(uintptr_t a) { return (uint32_t)((a - cg_guard_pool) / SLOT); }
static inline uintptr_t slot_base(uint32_t s) { return cg_guard_pool + (uintptr_t)s * SLOT; }

/* Raw syscalls: the program's mprotect wrapper (mmap.c) would mark the
 * maps snapshot stale for a change that is the shim's own. */
static int protect(uintptr_t a, size_t n, int prot) {
  int saved = errno;
  int r = (int)syscall(SYS_mprotect, a, n, prot);
  errno = saved;
  return r;
}

uint64_t cg_guard_extent(uintptr_t p) { return slot_base(slot_of(p)) + PAGE - p; }

/* Few slots left: a freed sampled block skips the quarantine (its page
 * stays closed until the slot comes round again, FIFO), so the pool keeps
 * sampling new blocks instead of holding old ones. */
bool cg_guard_pool_low(void) {
  return __atomic_load_n(&ring_count, __ATOMIC_RELAXED) < CG_GUARD_SLOTS / 4;
}

/* About one allocation in N, at random (other blocks each run); N = 1:
 * every one. */
bool cg_guard_pick(void) {
  static __thread uint64_t rng __attribute__((tls_model("initial-exec")));
  static __thread long countdown __attribute__((tls_model("initial-exec")));
  if (cg_likely(--countdown > 0)) return false;
  long n = cg_opt.guard_sample;
  bool first = rng == 0;
  if (first) rng = ((uint64_t)cg_gettid() << 32) ^ __builtin_ia32_rdtsc() ^ 0x9e3779b97f4a7c15ull;
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  countdown = 1 + (long)(rng % (uint64_t)(2 * n - 1)); /* 1 .. 2N-1: mean N */
  return n == 1 || !first; /* a thread's first pick only starts the count */
}

static bool pool_map(void) {
  if (!cg_lock_enter(&pool_lock)) return false;
  if (!atomic_load(&pool_state)) {
    void *p = mmap(NULL, CG_GUARD_POOL_BYTES, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      atomic_store(&pool_state, -1);
    } else {
      for (uint32_t i = 0; i < CG_GUARD_SLOTS; i++) ring[i] = i;
      ring_head = 0, ring_count = CG_GUARD_SLOTS;
      __atomic_store_n(&cg_guard_pool, (uintptr_t)p, __ATOMIC_RELEASE);
      atomic_store(&pool_state, 1);
    }
  }
  cg_lock_leave(&pool_lock);
  return atomic_load(&pool_state) > 0;
}

static void give_back(uint32_t s) {
  ring[(ring_head + ring_count++) % CG_GUARD_SLOTS] = s;
}

/* A sampled block of n bytes, or NULL (too big, pool refused or empty).
 * Its page is fresh zeros: calloc's too. */
void *cg_guard_alloc(size_t n) {
  if (n > PAGE - 16) return NULL;
  if (atomic_load_explicit(&pool_state, memory_order_acquire) <= 0 && !pool_map()) return NULL;
  if (!cg_lock_enter(&pool_lock)) return NULL;
  uint32_t s = UINT32_MAX;
  if (ring_count) s = ring[ring_head], ring_head = (ring_head + 1) % CG_GUARD_SLOTS, ring_count--;
  bool opened = false;
  if (s != UINT32_MAX) {
    slot_gen[s]++, opened = slot_opened[s], slot_opened[s] = false;
    __atomic_store_n(&slot_block[s], SETTING_UP, __ATOMIC_RELEASE);
  }
  cg_lock_leave(&pool_lock);
  if (s == UINT32_MAX) return NULL; /* all in use: an ordinary block */
  uintptr_t base = slot_base(s);
  int saved = errno, fixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED;
  bool ok = (!opened || mmap((void *)base, SLOT, PROT_NONE, fixed, -1, 0) != MAP_FAILED) &&
            mmap((void *)base, PAGE, PROT_READ | PROT_WRITE, fixed, -1, 0) != MAP_FAILED;
  errno = saved;
  if (!ok) {
    if (cg_lock_enter(&pool_lock)) {
      __atomic_store_n(&slot_block[s], 0, __ATOMIC_RELEASE);
      give_back(s);
      cg_lock_leave(&pool_lock);
    }
    return NULL;
  }
  size_t rounded = n ? (n + 15) & ~(size_t)15 : 16;
  uintptr_t p = base + PAGE - rounded;
  for (uintptr_t t = p + n; t < base + PAGE; t++) *(unsigned char *)t = TAIL_FILL;
  __atomic_store_n(&slot_block[s], p, __ATOMIC_RELEASE);
  return (void *)p;
}

/* Bytes after the block written (its tail pattern broken): the first one. */
bool cg_guard_tail_broken(uintptr_t p, uint64_t size, uintptr_t *first) {
  uintptr_t end = slot_base(slot_of(p)) + PAGE;
  for (uintptr_t t = p + size; t < end; t++)
    if (*(const unsigned char *)t != TAIL_FILL) {
      *first = t;
      return true;
    }
  return false;
}

/* Freed: the page is inaccessible until the quarantine lets the block go. */
void cg_guard_freed(uintptr_t p) { protect(p & ~(uintptr_t)(PAGE - 1), PAGE, PROT_NONE); }

/* Let go by the quarantine: the slot waits its turn (its page, closed,
 * is replaced by the next allocation there). */
void cg_guard_release(uintptr_t p) {
  uint32_t s = slot_of(p);
  if (!cg_lock_enter(&pool_lock)) return; /* a nested handler's release: one slot lost, no deadlock */
  __atomic_store_n(&slot_block[s], 0, __ATOMIC_RELEASE);
  give_back(s);
  cg_lock_leave(&pool_lock);
}

/* The slot of a fault at a, as it is now: its block (0: empty) and its
 * generation, for cg_guard_recover. */
uint32_t cg_guard_slot_state(uintptr_t a, uintptr_t *block) {
  uint32_t s = slot_of(a);
  if (!cg_lock_enter(&pool_lock)) return *block = SETTING_UP, 0; /* (never matches: no recovery) */
  uint32_t gen = slot_gen[s];
  *block = slot_block[s];
  cg_lock_leave(&pool_lock);
  return gen;
}

/* A fault at a: the sampled block of its slot (live, or freed and still in
 * quarantine).  A guard page is the nearer block's: the one below it (an
 * overflow) or, by more than a page's distance, the one above (an
 * underflow of the next slot's block). */
bool cg_guard_block(uintptr_t a, struct cg_block *b) {
  uint32_t s = slot_of(a);
  uintptr_t own = __atomic_load_n(&slot_block[s], __ATOMIC_ACQUIRE);
  bool in_guard = a - slot_base(s) >= PAGE;
  if (in_guard && s + 1 < CG_GUARD_SLOTS) {
    uintptr_t next = __atomic_load_n(&slot_block[s + 1], __ATOMIC_ACQUIRE);
    uintptr_t to_next = next ? next - a : UINTPTR_MAX;
    uintptr_t from_own = own ? a - (own + cg_guard_extent(own)) : UINTPTR_MAX;
    if (to_next < from_own) own = next;
  }
  return own > SETTING_UP && cg_heap_block(own, b) && b->start == own;
}

/* neutralize mode, after the report: open the faulting page so the access
 * runs again and succeeds (the memory is the shim's until the slot is used
 * again), if the slot is still as it was when the fault was explained and
 * not being set up.  1: opened; 0: the slot changed, let the access fault
 * again and be explained anew; -1: cannot (hand the fault on). */
int cg_guard_recover(uintptr_t a, uint32_t gen) {
  if (!cg_lock_enter(&pool_lock)) return -1;
  uint32_t s = slot_of(a);
  int r = 0;
  if (slot_gen[s] == gen && slot_block[s] != SETTING_UP) {
    slot_opened[s] = true;
    r = protect(a & ~(uintptr_t)(PAGE - 1), PAGE, PROT_READ | PROT_WRITE) == 0 ? 1 : -1;
  }
  cg_lock_leave(&pool_lock);
  return r;
}

void cg_guard_atfork_prepare(void) { cg_lock_acquire(&pool_lock); }
void cg_guard_atfork_parent(void) { cg_lock_release(&pool_lock); }
void cg_guard_atfork_child(void) { cg_lock_release(&pool_lock); }
