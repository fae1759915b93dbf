/* Guarded sampling (guard_sample=N): about one small allocation in N gets a
 * page of its own, its end against an inaccessible guard page, and that
 * page is made inaccessible when the block is freed, until the quarantine
 * lets the block go.  A read or write past the block's end or into it after
 * the free then faults at the instruction, also in code that calls no libc
 * function (C code indexing an array, Go code reading C memory through
 * unsafe), and the fault handler (signals.c) reports it with the block's
 * allocation and free sites.  The idea of GWP-ASan; cheap because rare: two
 * mprotect calls per sampled block.
 *
 * The bytes between the block's end and the page's end (fewer than 16: the
 * block starts 16-byte aligned, as malloc's must) hold a pattern checked
 * when the block is freed.  Slots come from one PROT_NONE reservation; the
 * pool's lock is taken only for sampled blocks. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define PAGE 4096u
#define SLOT (2 * PAGE) /* the block's page, then its guard page */
#define SLOTS 4096u     /* 32 MiB of address space; a page of memory per block */
#define TAIL_FILL 0xcb

static uintptr_t pool;           /* 0: not mapped (yet, or refused) */
static _Atomic int pool_state;   /* 0 untried, 1 mapped, -1 refused */
static cg_lock pool_lock;
static uint32_t free_top, free_stack[SLOTS];
static uintptr_t slot_block[SLOTS]; /* start of the block in each slot, or 0 */

/* Raw syscalls: the program's mprotect wrapper (mmap.c) would mark the
 * maps snapshot stale for a change that is the shim's own. */
static int protect(uintptr_t a, size_t n, int prot) {
  int saved = errno;
  int r = (int)syscall(SYS_mprotect, a, n, prot);
  errno = saved;
  return r;
}

static bool pool_map(void) {
  cg_lock_acquire(&pool_lock);
  if (!atomic_load(&pool_state)) {
    void *p = mmap(NULL, (size_t)SLOT * SLOTS, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      atomic_store(&pool_state, -1);
    } else {
      pool = (uintptr_t)p;
      for (uint32_t i = 0; i < SLOTS; i++) free_stack[i] = SLOTS - 1 - i;
      free_top = SLOTS;
      atomic_store(&pool_state, 1);
    }
  }
  cg_lock_release(&pool_lock);
  return atomic_load(&pool_state) > 0;
}

static inline bool in_pool(uintptr_t a) {
  return atomic_load_explicit(&pool_state, memory_order_acquire) > 0 && a - pool < (uintptr_t)SLOT * SLOTS;
}

bool cg_guarded(uintptr_t p) { return in_pool(p); }

uint64_t cg_guard_extent(uintptr_t p) {
  return in_pool(p) ? ((p - pool) / SLOT * SLOT + PAGE + pool) - p : 0;
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

/* A sampled block of n bytes, or NULL (too big, pool refused or full).
 * Its page is fresh zeros (released slots are discarded): calloc's too. */
void *cg_guard_alloc(size_t n) {
  if (n > PAGE - 16) return NULL;
  if (atomic_load_explicit(&pool_state, memory_order_acquire) <= 0 && !pool_map()) return NULL;
  cg_lock_acquire(&pool_lock);
  uint32_t slot = free_top ? free_stack[--free_top] : UINT32_MAX;
  cg_lock_release(&pool_lock);
  if (slot == UINT32_MAX) return NULL; /* all in use: an ordinary block */
  uintptr_t page = pool + (uintptr_t)slot * SLOT;
  if (protect(page, PAGE, PROT_READ | PROT_WRITE) != 0) {
    cg_lock_acquire(&pool_lock);
    free_stack[free_top++] = slot;
    cg_lock_release(&pool_lock);
    return NULL;
  }
  size_t rounded = n ? (n + 15) & ~(size_t)15 : 16;
  uintptr_t p = page + PAGE - rounded;
  for (uintptr_t t = p + n; t < page + PAGE; t++) *(unsigned char *)t = TAIL_FILL;
  slot_block[slot] = p;
  return (void *)p;
}

/* Bytes after the block written (its tail pattern broken): the first one. */
bool cg_guard_tail_broken(uintptr_t p, uint64_t size, uintptr_t *first) {
  uintptr_t end = (p - pool) / SLOT * SLOT + PAGE + pool;
  for (uintptr_t t = p + size; t < end; t++)
    if (*(const unsigned char *)t != TAIL_FILL) {
      *first = t;
      return true;
    }
  return false;
}

/* Freed: the page is inaccessible until the quarantine lets the block go. */
void cg_guard_freed(uintptr_t p) { protect(p & ~(uintptr_t)(PAGE - 1), PAGE, PROT_NONE); }

/* Let go by the quarantine: the slot's memory is discarded, both its pages
 * inaccessible again (a recovered fault may have opened them). */
void cg_guard_release(uintptr_t p) {
  uint32_t slot = (uint32_t)((p - pool) / SLOT);
  uintptr_t base = pool + (uintptr_t)slot * SLOT;
  protect(base, SLOT, PROT_NONE);
  madvise((void *)base, SLOT, MADV_DONTNEED);
  slot_block[slot] = 0;
  cg_lock_acquire(&pool_lock);
  free_stack[free_top++] = slot;
  cg_lock_release(&pool_lock);
}

/* A fault at a: the sampled block whose slot it is in (live, or freed and
 * still in quarantine). */
bool cg_guard_block(uintptr_t a, struct cg_block *b) {
  if (!in_pool(a)) return false;
  uintptr_t s = slot_block[(a - pool) / SLOT];
  return s && cg_heap_block(s, b) && b->start == s;
}

/* neutralize mode, after the report: open the faulting page so the access
 * runs again and succeeds (the block's memory is the shim's until the
 * quarantine lets it go).  Reported once: the page stays open. */
bool cg_guard_recover(uintptr_t a) {
  if (!in_pool(a)) return false;
  return protect(a & ~(uintptr_t)(PAGE - 1), PAGE, PROT_READ | PROT_WRITE) == 0;
}

void cg_guard_atfork_prepare(void) { cg_lock_acquire(&pool_lock); }
void cg_guard_atfork_parent(void) { cg_lock_release(&pool_lock); }
void cg_guard_atfork_child(void) { cg_lock_release(&pool_lock); }
