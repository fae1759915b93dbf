/* Allocator entry points: the whole malloc family and C++ operator
 * new/delete, served by jemalloc's non-standard API and tracked in the
 * shadow table.  glibc's corner cases (errno, realloc(p, 0), memalign's
 * rounding, posix_memalign's EINVAL) are kept exactly.
 *
 * Memory from jemalloc is never handed to jemalloc's own malloc/free names:
 * those are shadowed by ours, so mallocx/dallocx/sallocx/xallocx it is.  No
 * path here can call back into an interposed function, so the entry points
 * work before the constructor, inside libunwind and inside reporting. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <jemalloc/jemalloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define POISON 0xf5 /* freed bytes; looks like neither a pointer nor text */
#define RET() ((uintptr_t)__builtin_return_address(0))

/* glibc returns 16-byte aligned blocks, and code relies on it; jemalloc's
 * 8-byte class would not be.  Also keeps mallocx away from size 0. */
static inline size_t request(size_t n) { return n < 16 ? 16 : n; }

/* A two-entry per-thread cache in front of the depot: a loop's malloc and
 * free sites alternate.  A signal handler's malloc may land in the middle
 * of an update: an entry is valid only with its id set (cleared first, set
 * last), and a handler does not write into a cache being written. */
uint32_t cg_site_here(uintptr_t pc) {
  static __thread struct {
    uintptr_t pc[2];
    uint32_t id[2];
    int writing;
  } c __attribute__((tls_model("initial-exec")));
  if (cg_likely(pc == c.pc[0] && c.id[0])) return c.id[0];
  if (pc == c.pc[1] && c.id[1]) return c.id[1];
  uint32_t id = depot_put(&pc, 1);
  if (c.writing) return id;
  c.writing = 1;
  atomic_signal_fence(memory_order_seq_cst); /* each store in this order */
  uintptr_t pc0 = c.pc[0];
  uint32_t id0 = c.id[0];
  c.id[1] = 0, c.id[0] = 0;
  atomic_signal_fence(memory_order_seq_cst);
  c.pc[1] = pc0, c.pc[0] = pc;
  atomic_signal_fence(memory_order_seq_cst);
  c.id[1] = id0, c.id[0] = id;
  atomic_signal_fence(memory_order_seq_cst);
  c.writing = 0;
  return id;
}

/* jemalloc's own memcpy/memset/memmove calls (its start-up, zeroing,
 * metadata) reach the string wrappers through its PLT: the depth guard lets
 * them straight through, so a wrapper never re-enters a jemalloc that is
 * half-way through a call.  A signal handler's malloc that interrupted
 * this thread inside jemalloc must not re-enter it either: its block comes
 * from the signal-handler heap (sigheap.c). */
static inline void je_enter(void) { cg_tls.depth++, CG_MARK(in_jemalloc); }
static inline void je_leave(void) { CG_UNMARK(in_jemalloc), cg_tls.depth--; }

static inline void *je_alloc(size_t n, int flags) {
  if (cg_unlikely(cg_tls.in_jemalloc)) {
    int lg = flags & 0x3f; /* MALLOCX_LG_ALIGN(lg) is lg, in the low 6 bits */
    return cg_sigheap_alloc(n, lg ? (size_t)1 << lg : 16);
  }
  je_enter();
  void *p = mallocx(n, flags);
  je_leave();
  return p;
}
static inline void je_free(void *p) {
  je_enter();
  dallocx(p, 0);
  je_leave();
}
/* n: the size the block was asked for with no alignment flag */
static inline void je_free_sized(void *p, size_t n) {
  je_enter();
  sdallocx(p, n, 0);
  je_leave();
}
/* sallocx and xallocx take jemalloc's locks too: 0 from inside jemalloc */
static size_t je_usable(const void *p) {
  if (cg_unlikely(cg_tls.in_jemalloc)) return 0;
  je_enter();
  size_t n = sallocx(p, 0);
  je_leave();
  return n;
}
static size_t je_expand(void *p, size_t n) {
  if (cg_unlikely(cg_tls.in_jemalloc)) return 0;
  je_enter();
  size_t got = xallocx(p, n, 0, 0);
  je_leave();
  return got;
}

/* jemalloc set up (and its fork handlers registered: they must run inside
 * ours, see init.c), and the signal-handler heap reserved. */
void cg_alloc_init(void) {
  je_free(je_alloc(16, 0));
  cg_sigheap_init();
}

/* Hands a block back to where it came from: jemalloc, the guarded pool, or
 * nowhere (the signal-handler heap's are never reused).  meta: its table
 * entry's, or 0 if unknown. */
static inline void give_back(uintptr_t p, uint64_t meta) {
  if (cg_unlikely(cg_guarded(p))) cg_guard_release(p);
  else if (cg_unlikely(cg_sigheap_has(p))) return;
  else if (cg_likely(meta & CG_SIZED)) je_free_sized((void *)p, request(cg_meta_size(meta)));
  else je_free((void *)p);
}

uint64_t cg_block_extent(uintptr_t s, uint64_t n) {
  if (cg_guarded(s)) return cg_guard_extent(s);
  if (cg_sigheap_has(s)) return n < 16 ? 16 : (n + 15) & ~15ull;
  size_t usable = je_usable((void *)s);
  return usable ? usable : n; /* inside jemalloc (a signal handler): the size asked */
}

uint64_t cg_huge_size(uintptr_t p) {
  size_t usable = je_usable((void *)p);
  return usable ? usable : CG_SIZE_HUGE;
}

/* Records a fresh block of n bytes; frees it again if the table is full.
 * sized: it came from mallocx(request(n)) with no alignment flag. */
static inline __attribute__((always_inline)) void *track(void *p, size_t n, uintptr_t ret,
                                                         bool sized) {
  if (cg_unlikely(!p)) {
    errno = ENOMEM;
    return NULL;
  }
  /* With the quarantine, the block was last touched many frees ago: ask
   * for both of its ends now (a program writes a block's start first, and
   * its end when it fills it), while the insert below and the way back to
   * the caller (a cgo call's return into Go) run.  Most of the time the
   * release already brought them in; this is for the rest, e.g. the blocks
   * jemalloc takes from its slabs when its thread cache runs dry.  Those
   * come in address order, so the table line the next one will be
   * inserted into (the next 64 bytes' home) is asked for too. */
  __builtin_prefetch(p, 1);
  if (n > 64) __builtin_prefetch((char *)p + n - 1, 1);
  shadow_prefetch(((uintptr_t)p | 63) + 1);
  uint64_t meta = cg_meta(CG_ST_LIVE, cg_site(ret), n);
  if (sized && cg_likely(cg_meta_size(meta) == n)) meta |= CG_SIZED; /* not clamped */
  cg_entry *e = shadow_insert((uintptr_t)p, meta);
  if (cg_unlikely(!e)) {
    give_back((uintptr_t)p, meta);
    errno = ENOMEM;
    return NULL;
  }
  heapmap_add((uintptr_t)p, n);
  cg_count_alloc();
  cg_recent_note(&(struct cg_block){(uintptr_t)p, n, meta, e});
  return p;
}

/* A tracked block of n bytes: every allocating entry point ends here.
 * guard_sample: now and then a small block of malloc's alignment goes to a
 * guarded page of its own instead (guard.c; its page is zeros). */
CG_NOINLINE static void *alloc_sampled(size_t n, uintptr_t ret) {
  if (cg_tls.depth || !cg_guard_pick()) return NULL;
  void *g = cg_guard_alloc(n);
  return g ? track(g, n, ret, false) : NULL;
}

static inline __attribute__((always_inline)) void *alloc_at(size_t n, int flags, uintptr_t ret) {
  if (cg_unlikely(cg_opt.guard_sample != 0) && !(flags & ~MALLOCX_ZERO)) {
    void *g = alloc_sampled(n, ret);
    if (g) return g;
  }
  return track(je_alloc(request(n), flags), n, ret, !(flags & ~MALLOCX_ZERO));
}

void cg_release_block(uintptr_t p, cg_entry *hint) {
  /* a signal handler's free inside a jemalloc call: kept (see je_alloc) */
  if (cg_unlikely(cg_tls.in_jemalloc)) return;
  uint64_t meta = shadow_release(hint, p);
  if (!meta) return; /* not ours to release */
  heapmap_remove(p); /* the start bit stays for the next block here */
  give_back(p, meta);
}

/* ---- reports of bad frees (cold) ---------------------------------------- */

CG_COLD static void report_invalid_free(uintptr_t p, uintptr_t ret, const char *fn) {
  (void)ret;
  if (cg_tls.depth) return; /* inside our own reporting: just skip it */
  int saved = errno;
  struct cg_ptr_info info;
  cg_tls.depth++;
  cg_classify(p, &info);
  cg_tls.depth--;
  if (info.cls != CG_PTR_LOADER) {
    struct cg_report r = {
        .kind = CGOGUARD_INVALID_FREE,
        .func = fn,
        .addr = p,
        .action = cg_neutralizing() ? CG_ACT_SKIPPED : CG_ACT_ABORT,
        .ptr = &info,
    };
    if (info.cls == CG_PTR_INTERIOR || info.cls == CG_PTR_FREED_INTERIOR) {
      r.has_block = true;
      r.block = info.block;
      r.size = info.block_size;
      r.alloc_site = cg_meta_site(info.block_meta);
    }
    cg_report(&r);
  }
  errno = saved;
}

CG_COLD static void report_double_free(uintptr_t p, uint64_t meta, const char *fn) {
  if (cg_tls.depth) return;
  int saved = errno;
  struct qent q;
  cg_tls.depth++;
  /* A racing free may have won the state change a moment ago and not yet
   * pushed the block: give it a little time to, so the report can say
   * where it was freed. */
  bool found = quarantine_find(p, &q);
  for (int i = 0; !found && i < 50; i++) {
    sched_yield();
    found = quarantine_find(p, &q);
  }
  cg_tls.depth--;
  struct cg_report r = {
      .kind = CGOGUARD_DOUBLE_FREE,
      .func = fn,
      .addr = p,
      .size = cg_block_size(p, meta),
      .action = cg_neutralizing() ? CG_ACT_SKIPPED : CG_ACT_ABORT,
      .has_block = true,
      .block = p,
      .alloc_site = cg_meta_site(meta),
      .has_free = found,
      .free_site = found ? q.free_site : 0,
      .free_tid = found ? q.free_tid : 0,
  };
  cg_report(&r);
  errno = saved;
}

/* ---- free --------------------------------------------------------------- */

/* A sampled block's free: the bytes between its end and its guard page
 * must still hold their pattern (a write just past the end that did not
 * reach the guard page), then its page becomes inaccessible. */
CG_NOINLINE static void guarded_freed(uintptr_t p, uint64_t size, uint64_t m, const char *fn) {
  uintptr_t first;
  if (cg_guard_tail_broken(p, size, &first) && !cg_tls.depth) {
    struct cg_report r = {
        .kind = CGOGUARD_HEAP_OVERFLOW, .func = fn, .addr = first, .size = size,
        .action = cg_neutralizing() ? CG_ACT_CONTINUED : CG_ACT_ABORT,
        .access = CG_ACC_WRITE, .access_size = 1, .has_block = true, .block = p,
        .alloc_site = cg_meta_site(m), .written_earlier = true,
        .detail = "found when the block was freed, in the bytes between its end and its guard "
                  "page (guard_sample)",
    };
    cg_report(&r);
  }
  cg_guard_freed(p);
}

/* Marks p freed, poisons it and quarantines it.  Returns false (after the
 * report) when p was not a live block. */
static bool free_checked(uintptr_t p, uintptr_t ret, const char *fn) {
  uint64_t m;
  cg_entry *e = NULL;
  /* the block this thread allocated or used last (C.CString's, freed right
   * after its strlen): its entry as cached, the CAS itself validating it
   * (key and meta must still be exactly the live block's) */
  struct cg_block c = cg_recent[0];
  if (c.start == p && c.entry && cg_meta_state(c.meta) == CG_ST_LIVE &&
      shadow_update(c.entry, p, c.meta, cg_meta_with_state(c.meta, CG_ST_QUARANTINED))) {
    m = c.meta, e = c.entry;
    goto freed;
  }
  for (;;) {
    e = shadow_find(p, &m);
    if (cg_unlikely(!e)) {
      report_invalid_free(p, ret, fn);
      return false;
    }
    if (cg_unlikely(cg_meta_state(m) != CG_ST_LIVE)) {
      report_double_free(p, m, fn);
      return false;
    }
    /* one CAS per state change: of two racing frees, exactly one wins */
    if (shadow_update(e, p, m, cg_meta_with_state(m, CG_ST_QUARANTINED))) break;
  }
freed:;
  uint64_t size = cg_block_size(p, m);
  /* poison_bytes (-1: the whole block): a large block's tail is memory the
   * quarantine made cold, and filling it all costs more than the rest of
   * free together */
  uint64_t fill = (uint64_t)cg_opt.poison_bytes;
  cg_fill((void *)p, POISON, size < fill ? size : fill);
  if (cg_unlikely(cg_guarded(p))) {
    guarded_freed(p, size, m, fn);
    if (cg_guard_pool_low()) { /* keep sampling: its page stays closed until reused */
      cg_release_block(p, e);
      return true;
    }
  }
  quarantine_push(p, e, size, cg_site(ret));
  return true;
}

CG_EXPORT void free(void *p) {
  if (cg_likely(p != NULL)) free_checked((uintptr_t)p, RET(), "free");
}

/* ---- malloc family ------------------------------------------------------ */

CG_EXPORT void *malloc(size_t n) { return alloc_at(n, 0, RET()); }

CG_EXPORT void *calloc(size_t a, size_t b) {
  size_t n;
  if (__builtin_mul_overflow(a, b, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return alloc_at(n, MALLOCX_ZERO, RET());
}

/* A fresh block for a realloc whose pointer was bad (neutralize mode):
 * never NULL for a valid size, since Go aborts when C.realloc fails. */
static void *realloc_fresh(size_t n, uintptr_t ret) {
  return alloc_at(n, MALLOCX_ZERO, ret);
}

/* A test build (the faults shim, see the Makefile) makes every CAS after a
 * grow in place lose, as one does when a migration moves the entry. */
#ifdef CG_FAULT_HOOKS
#define EXPAND_CAS_LOST() true
#else
#define EXPAND_CAS_LOST() false
#endif

static void *realloc_at(void *old, size_t n, uintptr_t ret) {
  if (!old) return alloc_at(n, 0, ret);
  if (n == 0) { /* glibc: frees and returns NULL */
    free_checked((uintptr_t)old, ret, "realloc");
    return NULL;
  }
  uintptr_t p = (uintptr_t)old;
  uint64_t m;
  cg_entry *e = shadow_find(p, &m);
  if (cg_unlikely(!e || cg_meta_state(m) != CG_ST_LIVE)) {
    if (!e) report_invalid_free(p, ret, "realloc");
    else report_double_free(p, m, "realloc");
    return realloc_fresh(n, ret);
  }
  uint64_t have = cg_block_size(p, m);
  /* a sampled or a signal handler's block is not jemalloc's: never
   * resized in place */
  size_t usable = cg_unlikely(cg_guarded(p) || cg_sigheap_has(p)) ? 0 : je_usable(old);
  /* stay in place when the new size fits and wastes less than half */
  bool in_place = false;
  if (n <= usable && (n >= usable / 2 || usable <= 64)) {
    in_place = shadow_update(e, p, m, cg_meta(CG_ST_LIVE, cg_meta_site(m), n));
  } else if (n > usable && n - usable < usable) {
    /* the entry stops naming the old size class before jemalloc grows the
     * block: if the CAS after the grow loses (a migration moved the entry),
     * the block is moved and freed, and that free must not be sized */
    uint64_t unsized = m & ~CG_SIZED;
    if (unsized == m || shadow_update(e, p, m, unsized)) {
      m = unsized;
      if (je_expand(old, n) >= n && !EXPAND_CAS_LOST())
        in_place = shadow_update(e, p, m, cg_meta(CG_ST_LIVE, cg_meta_site(m), n));
    }
  }
  if (in_place) {
    heapmap_add(p, n); /* the start bit is set; this widens the scan bound */
    return old;
  }
  void *q = je_alloc(request(n), 0);
  if (!q) { /* old block untouched, as glibc */
    errno = ENOMEM;
    return NULL;
  }
  cg_copy(q, old, have < n ? have : n);
  q = track(q, n, ret, true);
  if (q) free_checked(p, ret, "realloc");
  return q;
}

CG_EXPORT void *realloc(void *old, size_t n) { return realloc_at(old, n, RET()); }

CG_EXPORT void *reallocarray(void *old, size_t a, size_t b) {
  size_t n;
  if (__builtin_mul_overflow(a, b, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc_at(old, n, RET());
}

static inline bool pow2(size_t x) { return x && !(x & (x - 1)); }

/* glibc 2.36 _mid_memalign: small alignments are malloc, absurd ones
 * EINVAL, others rounded up to a power of two. */
static void *memalign_at(size_t al, size_t n, uintptr_t ret) {
  if (al <= 16) return alloc_at(n, 0, ret);
  if (al > SIZE_MAX / 2 + 1) {
    errno = EINVAL;
    return NULL;
  }
  if (!pow2(al)) {
    size_t a = 32;
    while (a < al) a <<= 1;
    al = a;
  }
  if (n > SIZE_MAX - al) {
    errno = ENOMEM;
    return NULL;
  }
  return alloc_at(n, MALLOCX_ALIGN(al), ret);
}

CG_EXPORT void *memalign(size_t al, size_t n) { return memalign_at(al, n, RET()); }
CG_EXPORT void *aligned_alloc(size_t al, size_t n) { return memalign_at(al, n, RET()); }

CG_EXPORT int posix_memalign(void **out, size_t al, size_t n) {
  if (al % sizeof(void *) != 0 || !pow2(al / sizeof(void *))) return EINVAL;
  int saved = errno;
  void *p = memalign_at(al, n, RET());
  errno = saved;
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

CG_EXPORT void *valloc(size_t n) {
  return memalign_at((size_t)sysconf(_SC_PAGESIZE), n, RET());
}

CG_EXPORT void *pvalloc(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
  if (__builtin_add_overflow(n, page - 1, &rounded)) {
    errno = ENOMEM;
    return NULL;
  }
  rounded &= ~(page - 1);
  return memalign_at(page, rounded ? rounded : page, RET());
}

CG_EXPORT size_t malloc_usable_size(void *p) {
  uint64_t m;
  if (!p || !shadow_find((uintptr_t)p, &m) || cg_meta_state(m) != CG_ST_LIVE) return 0;
  /* the requested size: writing past it is what the checks report */
  return cg_block_size((uintptr_t)p, m);
}

char *cg_strdup_at(const char *s, size_t n, uintptr_t ret) {
  char *d = alloc_at(n + 1, 0, ret);
  if (d) {
    cg_copy(d, s, n);
    d[n] = 0;
  }
  return d;
}

/* ---- public queries (include/cgoguard.h) -------------------------------- */

CG_EXPORT size_t cgoguard_block_size(const void *p) {
  uint64_t m;
  if (!shadow_find((uintptr_t)p, &m) || cg_meta_state(m) != CG_ST_LIVE) return (size_t)-1;
  return cg_block_size((uintptr_t)p, m);
}

/* ---- C++ operator new and delete ---------------------------------------- */

/* Debian's libjemalloc.so.2 exports these; a C++ library would bind to them
 * and bypass the checks unless the shim defines them all.  libstdc++'s
 * new-handler and bad_alloc are reached through weak references, so a C
 * process does not need libstdc++. */
typedef void (*new_handler_fn)(void);
extern new_handler_fn _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

static void *op_new(size_t n, size_t al, bool nothrow, uintptr_t ret) {
  for (;;) {
    void *p = alloc_at(n, al <= 16 ? 0 : MALLOCX_ALIGN(al), ret);
    if (cg_likely(p != NULL)) return p;
    new_handler_fn h = _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
    if (h) {
      h();
      continue;
    }
    if (nothrow) return NULL;
    if (_ZSt17__throw_bad_allocv) _ZSt17__throw_bad_allocv();
    abort();
  }
}

#define NEW(sym, ...)                                                      \
  CG_EXPORT void *sym(__VA_ARGS__) __asm__(#sym);                        \
  CG_EXPORT void *sym(__VA_ARGS__)
#define DELETE(sym, ...)                                                   \
  CG_EXPORT void sym(__VA_ARGS__) __asm__(#sym);                         \
  CG_EXPORT void sym(__VA_ARGS__)
typedef struct nothrow_t nothrow_t;

NEW(_Znwm, size_t n) { return op_new(n, 0, false, RET()); }
NEW(_Znam, size_t n) { return op_new(n, 0, false, RET()); }
NEW(_ZnwmRKSt9nothrow_t, size_t n, const nothrow_t *t) {
  (void)t;
  return op_new(n, 0, true, RET());
}
NEW(_ZnamRKSt9nothrow_t, size_t n, const nothrow_t *t) {
  (void)t;
  return op_new(n, 0, true, RET());
}
NEW(_ZnwmSt11align_val_t, size_t n, size_t al) { return op_new(n, al, false, RET()); }
NEW(_ZnamSt11align_val_t, size_t n, size_t al) { return op_new(n, al, false, RET()); }
NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, size_t n, size_t al, const nothrow_t *t) {
  (void)t;
  return op_new(n, al, true, RET());
}
NEW(_ZnamSt11align_val_tRKSt9nothrow_t, size_t n, size_t al, const nothrow_t *t) {
  (void)t;
  return op_new(n, al, true, RET());
}

static inline void op_delete(void *p, uintptr_t ret) {
  if (p) free_checked((uintptr_t)p, ret, "operator delete");
}
DELETE(_ZdlPv, void *p) { op_delete(p, RET()); }
DELETE(_ZdaPv, void *p) { op_delete(p, RET()); }
DELETE(_ZdlPvRKSt9nothrow_t, void *p, const nothrow_t *t) { (void)t, op_delete(p, RET()); }
DELETE(_ZdaPvRKSt9nothrow_t, void *p, const nothrow_t *t) { (void)t, op_delete(p, RET()); }
DELETE(_ZdlPvm, void *p, size_t n) { (void)n, op_delete(p, RET()); }
DELETE(_ZdaPvm, void *p, size_t n) { (void)n, op_delete(p, RET()); }
DELETE(_ZdlPvSt11align_val_t, void *p, size_t al) { (void)al, op_delete(p, RET()); }
DELETE(_ZdaPvSt11align_val_t, void *p, size_t al) { (void)al, op_delete(p, RET()); }
DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, void *p, size_t al, const nothrow_t *t) {
  (void)al, (void)t, op_delete(p, RET());
}
DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, void *p, size_t al, const nothrow_t *t) {
  (void)al, (void)t, op_delete(p, RET());
}
DELETE(_ZdlPvmSt11align_val_t, void *p, size_t n, size_t al) {
  (void)n, (void)al, op_delete(p, RET());
}
DELETE(_ZdaPvmSt11align_val_t, void *p, size_t n, size_t al) {
  (void)n, (void)al, op_delete(p, RET());
}
