/* String and memory checks: every libc string/memory call is checked
 * against the block its pointers fall in, with the exact range the call
 * would touch, before the real function runs.
 *
 *  - a pointer into a tracked block: reads past its requested size are
 *    heap-overread, writes heap-overflow, any access to a freed block
 *    use-after-free;
 *  - NULL where a pointer is required: null-pointer;
 *  - a write into this thread's stack that would reach the saved return
 *    address of the frame owning the buffer: stack-buffer-overflow;
 *  - a write into a mapping without write permission: readonly-write;
 *  - anything else (globals, Go memory, other mappings) passes unchanged.
 *
 * In mode=neutralize a bad call is clamped to what is safe: reads stop at
 * the block's end (a freed block is still mapped in quarantine), writes
 * stop before the end of the block or the saved return address, writes
 * into freed or read-only memory are skipped, NULL calls return what the
 * function's contract suggests.  The README has the table.
 *
 * The real functions come from dlsym(RTLD_NEXT) on first use.  While
 * cg_tls.depth is raised (the shim's own slow paths, libunwind) every
 * wrapper passes straight through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <jemalloc/jemalloc.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* ---- the real functions ------------------------------------------------- */

#define REAL_FNS(X)                                                              \
  X(strlen, size_t, (const char *))                                              \
  X(strnlen, size_t, (const char *, size_t))                                     \
  X(strcpy, char *, (char *, const char *))                                      \
  X(strncpy, char *, (char *, const char *, size_t))                             \
  X(stpcpy, char *, (char *, const char *))                                      \
  X(stpncpy, char *, (char *, const char *, size_t))                             \
  X(strcat, char *, (char *, const char *))                                      \
  X(strncat, char *, (char *, const char *, size_t))                             \
  X(memcpy, void *, (void *, const void *, size_t))                              \
  X(memmove, void *, (void *, const void *, size_t))                             \
  X(mempcpy, void *, (void *, const void *, size_t))                             \
  X(memset, void *, (void *, int, size_t))                                       \
  X(memcmp, int, (const void *, const void *, size_t))                           \
  X(memchr, void *, (const void *, int, size_t))                                 \
  X(memrchr, void *, (const void *, int, size_t))                                \
  X(memmem, void *, (const void *, size_t, const void *, size_t))                \
  X(strcmp, int, (const char *, const char *))                                   \
  X(strncmp, int, (const char *, const char *, size_t))                          \
  X(strchr, char *, (const char *, int))                                         \
  X(strrchr, char *, (const char *, int))                                        \
  X(strstr, char *, (const char *, const char *))                                \
  X(__memcpy_chk, void *, (void *, const void *, size_t, size_t))                \
  X(__memmove_chk, void *, (void *, const void *, size_t, size_t))               \
  X(__mempcpy_chk, void *, (void *, const void *, size_t, size_t))               \
  X(__memset_chk, void *, (void *, int, size_t, size_t))                         \
  X(__strcpy_chk, char *, (char *, const char *, size_t))                        \
  X(__stpcpy_chk, char *, (char *, const char *, size_t))                        \
  X(__strncpy_chk, char *, (char *, const char *, size_t, size_t))               \
  X(__stpncpy_chk, char *, (char *, const char *, size_t, size_t))               \
  X(__strcat_chk, char *, (char *, const char *, size_t))                        \
  X(__strncat_chk, char *, (char *, const char *, size_t, size_t))

#define DECLARE(name, ret, args) ret(*name) args;
static struct { REAL_FNS(DECLARE) } real;

/* Resolution must not recurse into the wrappers (dlsym may call strlen
 * through the PLT of a library), hence the guard. */
CG_COLD static void resolve(void) {
  cg_tls.depth++;
#define RESOLVE(name, ret, args) \
  if (!real.name) *(void **)&real.name = dlsym(RTLD_NEXT, #name);
  REAL_FNS(RESOLVE)
  cg_tls.depth--;
  if (!real.strlen || !real.memcpy || !real.memset || !real.memmove) {
    static const char msg[] = "cgoguard: cannot find libc's string functions; aborting\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    abort();
  }
}
#define REAL(name) (*(cg_likely(real.name != NULL) ? real.name : (resolve(), real.name)))

/* jemalloc's code: its own memcpy/memset calls (thread-exit clean-up, fork
 * handlers, start-up) are never checked, so a check can never re-enter a
 * jemalloc that is half-way through a call. */
uintptr_t cg_jemalloc_text, cg_jemalloc_text_len;

void cg_string_init(void) {
  resolve();
  cg_tls.depth++;
  cg_text_of((uintptr_t)&mallocx, &cg_jemalloc_text, &cg_jemalloc_text_len);
  cg_tls.depth--;
}

void *cg_real_symbol(const char *name) {
  cg_tls.depth++;
  void *f = dlsym(RTLD_NEXT, name);
  cg_tls.depth--;
  if (!f) {
    char line[160];
    size_t n = 0;
    for (const char *p = "cgoguard: cannot find libc's "; *p; p++) line[n++] = *p;
    for (const char *p = name; *p && n < 120; p++) line[n++] = *p;
    for (const char *p = "; aborting\n"; *p; p++) line[n++] = *p;
    if (write(2, line, n) < 0) abort();
    abort();
  }
  return f;
}

/* ---- reports ------------------------------------------------------------ */

/* What an access found: where it is and how far the call may go. */
struct access {
  const char *fn;
  int arg;            /* 1-based argument number */
  int acc;            /* CG_ACC_READ / CG_ACC_WRITE */
  uintptr_t p;
  uint64_t want;      /* bytes the call would touch; 0: "up to a NUL" */
};

CG_COLD static void report_block(const struct access *a, int kind, const struct cg_block *b,
                                 int action) {
  struct cg_report r = {
      .kind = kind, .func = a->fn, .addr = a->p, .size = b->size, .action = action,
      .access = a->acc, .access_size = a->want, .arg = a->arg,
      .has_block = true, .block = b->start, .alloc_site = cg_meta_site(b->meta),
  };
  struct qent q;
  if (cg_meta_state(b->meta) == CG_ST_QUARANTINED) {
    cg_tls.depth++;
    bool found = quarantine_find(b->start, &q);
    cg_tls.depth--;
    r.has_free = found;
    r.free_site = found ? q.free_site : 0;
    r.free_tid = found ? q.free_tid : 0;
  }
  cg_report(&r);
}

CG_COLD static void report_other(const struct access *a, int kind, uintptr_t limit, int action) {
  struct cg_ptr_info info = {.cls = CG_PTR_UNKNOWN};
  if (kind == CGOGUARD_READONLY_WRITE) {
    cg_tls.depth++;
    cg_classify(a->p, &info);
    cg_tls.depth--;
  }
  struct cg_report r = {
      .kind = kind, .func = a->fn, .addr = a->p, .action = action,
      .access = a->acc, .access_size = a->want, .arg = a->arg, .limit = limit,
      .ptr = kind == CGOGUARD_READONLY_WRITE ? &info : NULL,
  };
  cg_report(&r);
}

static inline int act(bool clamped) {
  return !cg_neutralizing() ? CG_ACT_ABORT : clamped ? CG_ACT_CLAMPED : CG_ACT_SKIPPED;
}

/* ---- finding blocks ----------------------------------------------------- */

/* cg_recent (internal.h): a hit is revalidated against the block's table
 * entry: if the entry still holds the same start and meta, the block is
 * still live with that size, whatever happened in between. */
__thread struct cg_block cg_recent[2] __attribute__((tls_model("initial-exec"), aligned(64)));

static inline bool still_there(const struct cg_block *c) {
  return atomic_load_explicit(&c->entry->key, memory_order_acquire) == c->start &&
         atomic_load_explicit(&c->entry->meta, memory_order_acquire) == c->meta;
}

/* A signal handler's call can land between the reads of an entry or in
 * the middle of an update: check a copy, whole (its size must be its
 * meta's), never the entry in place. */
static CG_HOT bool recent_hit(int i, uintptr_t a, struct cg_block *b) {
  /* field by field into registers (a copy through the stack costs a
   * store-forwarding stall): a handler's update between these loads
   * mixes two blocks' fields, and the checks refuse any mix the table
   * does not hold as one live block */
  struct cg_block c = {cg_recent[i].start, cg_recent[i].size, cg_recent[i].meta,
                       cg_recent[i].entry};
  if (!c.entry || a - c.start >= c.size || c.size != cg_block_size(c.start, c.meta) ||
      !still_there(&c))
    return false;
  *b = c;
  return true;
}

static CG_HOT bool block_of(uintptr_t a, struct cg_block *b) {
  if (recent_hit(0, a, b) || recent_hit(1, a, b)) return true;
  if (!cg_heap_block(a, b)) return false;
  if (cg_meta_state(b->meta) == CG_ST_LIVE) cg_recent_note(b);
  return true;
}

/* ---- range checks ------------------------------------------------------- */

/* Bytes of the block left from p (0 when p is in the size-class slack). */
static inline uint64_t room(const struct cg_block *b, uintptr_t p) {
  uint64_t off = p - b->start;
  /* a freed sampled block's page is closed: nothing there may be read */
  if (cg_unlikely(cg_meta_state(b->meta) != CG_ST_LIVE) && cg_guarded(b->start)) return 0;
  return off < b->size ? b->size - off : 0;
}

/* A write outside the heap: the stack frame's return address, or a
 * read-only mapping.  Returns how many bytes may be written. */
CG_NOINLINE static uint64_t check_write_other(const struct access *a) {
  uint64_t n = a->want;
  if (cg_on_thread_stack(a->p)) {
    uintptr_t slot;
    cg_tls.depth++;
    bool known = cg_stack_frame_limit(a->p, &slot);
    cg_tls.depth--;
    if (known && a->p + n > slot) {
      /* skipped, not clamped: the saved registers below the return
       * address belong to the frame too, and the buffer's own end is
       * unknown; the frame stays intact */
      report_other(a, CGOGUARD_STACK_BUFFER_OVERFLOW, slot, act(false));
      return 0;
    }
    return n;
  }
  int prot = cg_mem_prot(a->p, false);
  if (prot >= 0 && !(prot & PROT_WRITE) && !((prot = cg_mem_prot(a->p, true)) & PROT_WRITE) &&
      prot >= 0) {
    report_other(a, CGOGUARD_READONLY_WRITE, 0, act(false));
    return 0;
  }
  return n;
}

/* Checks [p, p + want) for the access; returns how many bytes the call may
 * touch from p: want when fine, less (or 0: skip) after a neutralised
 * report.  NULL with want 0 is fine (C2y makes memcpy(NULL, p, 0) valid). */
static uint64_t check_range(const struct access *a) {
  if (cg_unlikely(!a->p)) {
    if (!a->want) return 0;
    report_other(a, CGOGUARD_NULL_POINTER, 0, act(false));
    return 0;
  }
  struct cg_block b;
  if (cg_likely(block_of(a->p, &b))) {
    uint64_t left = room(&b, a->p);
    if (cg_unlikely(cg_meta_state(b.meta) != CG_ST_LIVE)) {
      if (!a->want) return 0;
      bool write = a->acc == CG_ACC_WRITE;
      report_block(a, CGOGUARD_USE_AFTER_FREE, &b, act(!write));
      return write ? 0 : (a->want < left ? a->want : left);
    }
    if (cg_likely(a->want <= left)) return a->want;
    report_block(a, a->acc == CG_ACC_WRITE ? CGOGUARD_HEAP_OVERFLOW : CGOGUARD_HEAP_OVERREAD,
                 &b, act(true));
    return left;
  }
  if (a->acc == CG_ACC_WRITE && a->want) return check_write_other(a);
  return a->want;
}

/* Length of the string at s as a read would see it, checked: a string with
 * no NUL inside its block is an overread (neutralised: the block's end
 * ends it).  *st: CG_STR_FINE, CG_STR_CLAMPED (reported) or CG_STR_SKIP. */
static size_t check_str(const char *fn, int arg, const char *s, int *st) {
  *st = CG_STR_FINE;
  if (cg_unlikely(!s)) {
    struct access a = {fn, arg, CG_ACC_READ, 0, 1};
    report_other(&a, CGOGUARD_NULL_POINTER, 0, act(false));
    *st = CG_STR_SKIP;
    return 0;
  }
  struct cg_block b;
  if (cg_likely(!block_of((uintptr_t)s, &b))) return REAL(strlen)(s);
  uint64_t left = room(&b, (uintptr_t)s);
  size_t n = left ? REAL(strnlen)(s, left) : 0;
  struct access a = {fn, arg, CG_ACC_READ, (uintptr_t)s, n < left ? n + 1 : 0};
  if (cg_unlikely(cg_meta_state(b.meta) != CG_ST_LIVE))
    report_block(&a, CGOGUARD_USE_AFTER_FREE, &b, act(true)), *st = CG_STR_CLAMPED;
  else if (cg_unlikely(n == left))
    report_block(&a, CGOGUARD_HEAP_OVERREAD, &b, act(true)), *st = CG_STR_CLAMPED;
  return n;
}

/* Like check_str for a read of at most max bytes (strnlen, strncpy): only
 * running out of the block before max and before a NUL is an overread. */
static size_t check_strn(const char *fn, int arg, const char *s, size_t max, int *st) {
  *st = CG_STR_FINE;
  if (cg_unlikely(!s)) {
    if (!max) return 0;
    struct access a = {fn, arg, CG_ACC_READ, 0, 1};
    report_other(&a, CGOGUARD_NULL_POINTER, 0, act(false));
    *st = CG_STR_SKIP;
    return 0;
  }
  struct cg_block b;
  if (cg_likely(!block_of((uintptr_t)s, &b))) return REAL(strnlen)(s, max);
  uint64_t left = room(&b, (uintptr_t)s);
  size_t lim = max < left ? max : left;
  size_t n = lim ? REAL(strnlen)(s, lim) : 0;
  struct access a = {fn, arg, CG_ACC_READ, (uintptr_t)s, n < max ? n + 1 : max};
  if (cg_unlikely(cg_meta_state(b.meta) != CG_ST_LIVE)) {
    if (max) report_block(&a, CGOGUARD_USE_AFTER_FREE, &b, act(true)), *st = CG_STR_CLAMPED;
  } else if (cg_unlikely(n == left && left < max)) {
    a.want = 0;
    report_block(&a, CGOGUARD_HEAP_OVERREAD, &b, act(true)), *st = CG_STR_CLAMPED;
  }
  return n;
}

static inline uint64_t check_read(const char *fn, int arg, const void *p, size_t n) {
  struct access a = {fn, arg, CG_ACC_READ, (uintptr_t)p, n};
  return check_range(&a);
}
static inline uint64_t check_write(const char *fn, int arg, void *p, size_t n) {
  struct access a = {fn, arg, CG_ACC_WRITE, (uintptr_t)p, n};
  return check_range(&a);
}

#define PASS_THROUGH() cg_pass_through((uintptr_t)__builtin_return_address(0))

/* ---- lengths ------------------------------------------------------------ */

CG_EXPORT size_t strlen(const char *s) {
  if (PASS_THROUGH()) return REAL(strlen)(s);
  /* the hot case inline: the last block used, terminated inside */
  struct cg_block c;
  uintptr_t a = (uintptr_t)s;
  if (cg_likely(recent_hit(0, a, &c))) {
    uint64_t left = c.start + c.size - a;
    size_t n = REAL(strnlen)(s, left);
    if (cg_likely(n < left)) return n;
  }
  int st;
  return check_str("strlen", 1, s, &st);
}

CG_EXPORT size_t strnlen(const char *s, size_t max) {
  if (PASS_THROUGH()) return REAL(strnlen)(s, max);
  int st;
  return check_strn("strnlen", 1, s, max, &st);
}

/* ---- memory copies ------------------------------------------------------ */

/* The bytes a copy of n from s to d may move: both ranges checked. */
static inline size_t copy_len(const char *fn, void *d, const void *s, size_t n) {
  uint64_t r = check_read(fn, 2, s, n);
  uint64_t w = check_write(fn, 1, d, n);
  return r < w ? r : w;
}

CG_EXPORT void *memcpy(void *d, const void *s, size_t n) {
  if (PASS_THROUGH()) return REAL(memcpy)(d, s, n);
  return REAL(memcpy)(d, s, copy_len("memcpy", d, s, n));
}

CG_EXPORT void *memmove(void *d, const void *s, size_t n) {
  if (PASS_THROUGH()) return REAL(memmove)(d, s, n);
  return REAL(memmove)(d, s, copy_len("memmove", d, s, n));
}

CG_EXPORT void *mempcpy(void *d, const void *s, size_t n) {
  if (PASS_THROUGH()) return REAL(mempcpy)(d, s, n);
  return REAL(mempcpy)(d, s, copy_len("mempcpy", d, s, n));
}

CG_EXPORT void *memset(void *d, int c, size_t n) {
  if (PASS_THROUGH()) return REAL(memset)(d, c, n);
  return REAL(memset)(d, c, check_write("memset", 1, d, n));
}

CG_EXPORT void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__memcpy_chk)(d, s, n, dlen);
  return REAL(__memcpy_chk)(d, s, copy_len("__memcpy_chk", d, s, n), dlen);
}

CG_EXPORT void *__memmove_chk(void *d, const void *s, size_t n, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__memmove_chk)(d, s, n, dlen);
  return REAL(__memmove_chk)(d, s, copy_len("__memmove_chk", d, s, n), dlen);
}

CG_EXPORT void *__mempcpy_chk(void *d, const void *s, size_t n, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__mempcpy_chk)(d, s, n, dlen);
  return REAL(__mempcpy_chk)(d, s, copy_len("__mempcpy_chk", d, s, n), dlen);
}

CG_EXPORT void *__memset_chk(void *d, int c, size_t n, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__memset_chk)(d, c, n, dlen);
  return REAL(__memset_chk)(d, c, check_write("__memset_chk", 1, d, n), dlen);
}

/* ---- string copies ------------------------------------------------------ */

/* strcpy and stpcpy: copies the checked string and its NUL; returns the
 * number of bytes written (0: skipped).  dlen: _FORTIFY_SOURCE's object
 * size, whose own check (glibc's __chk_fail) still applies after ours.
 * Aligned to a cache line: where its fast path's branches fell within the
 * line moved the 32-byte strcpy benchmark between 6.6 and 7.4 ns from one
 * build to the next, with any change elsewhere in the library. */
__attribute__((aligned(64))) static size_t copy_str(const char *fn, char *d, const char *s,
                                                   size_t dlen) {
  /* Fast path, one pass: both in live blocks, the source block ends in a
   * NUL (so the string ends inside it) and the destination has at least as
   * much room as the source block: the real stpcpy cannot go wrong. */
  struct cg_block bs, bd;
  if (cg_likely(dlen == (size_t)-1 && s && d) && block_of((uintptr_t)s, &bs) &&
      block_of((uintptr_t)d, &bd) && cg_meta_state(bs.meta & bd.meta) == CG_ST_LIVE) {
    uint64_t rs = room(&bs, (uintptr_t)s);
    if (rs && rs <= room(&bd, (uintptr_t)d) && ((const char *)bs.start)[bs.size - 1] == 0)
      return (size_t)(REAL(stpcpy)(d, s) - d) + 1;
  }
  int st;
  size_t n = check_str(fn, 2, s, &st);
  if (st == CG_STR_SKIP) return 0;
  size_t w = check_write(fn, 1, d, n + 1);
  if (cg_unlikely(w == 0)) return 0;
  if (cg_unlikely(w <= n)) n = w - 1; /* clamped: still terminated */
  if (dlen != (size_t)-1) REAL(__memcpy_chk)(d, s, n, dlen), REAL(__memset_chk)(d + n, 0, 1, dlen - n);
  else REAL(memcpy)(d, s, n), d[n] = 0;
  return n + 1;
}

CG_EXPORT char *strcpy(char *d, const char *s) {
  if (PASS_THROUGH()) return REAL(strcpy)(d, s);
  copy_str("strcpy", d, s, (size_t)-1);
  return d;
}

CG_EXPORT char *stpcpy(char *d, const char *s) {
  if (PASS_THROUGH()) return REAL(stpcpy)(d, s);
  size_t w = copy_str("stpcpy", d, s, (size_t)-1);
  return w ? d + w - 1 : d;
}

CG_EXPORT char *__strcpy_chk(char *d, const char *s, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__strcpy_chk)(d, s, dlen);
  copy_str("__strcpy_chk", d, s, dlen);
  return d;
}

CG_EXPORT char *__stpcpy_chk(char *d, const char *s, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__stpcpy_chk)(d, s, dlen);
  size_t w = copy_str("__stpcpy_chk", d, s, dlen);
  return w ? d + w - 1 : d;
}

/* strncpy and stpncpy: n bytes written, the string then NUL padding.
 * Returns the string bytes copied; *end the bytes written. */
static size_t copy_strn(const char *fn, char *d, const char *s, size_t n, size_t dlen,
                        size_t *end) {
  int st;
  size_t k = check_strn(fn, 2, s, n, &st);
  *end = 0;
  if (st == CG_STR_SKIP) return 0;
  size_t w = check_write(fn, 1, d, n);
  if (w == 0) return 0;
  bool clamped = w < n;
  if (k > w) k = w;
  if (dlen != (size_t)-1 && w > dlen) { /* let glibc's own check fail */
    REAL(__stpncpy_chk)(d, s, n, dlen);
    return 0;
  }
  REAL(memcpy)(d, s, k);
  REAL(memset)(d + k, 0, w - k);
  if (clamped) d[w - 1] = 0, k = k < w ? k : w - 1; /* neutralised: terminated */
  *end = w;
  return k;
}

CG_EXPORT char *strncpy(char *d, const char *s, size_t n) {
  if (PASS_THROUGH()) return REAL(strncpy)(d, s, n);
  size_t end;
  copy_strn("strncpy", d, s, n, (size_t)-1, &end);
  return d;
}

CG_EXPORT char *stpncpy(char *d, const char *s, size_t n) {
  if (PASS_THROUGH()) return REAL(stpncpy)(d, s, n);
  size_t end;
  return d + copy_strn("stpncpy", d, s, n, (size_t)-1, &end);
}

CG_EXPORT char *__strncpy_chk(char *d, const char *s, size_t n, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__strncpy_chk)(d, s, n, dlen);
  size_t end;
  copy_strn("__strncpy_chk", d, s, n, dlen, &end);
  return d;
}

CG_EXPORT char *__stpncpy_chk(char *d, const char *s, size_t n, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__stpncpy_chk)(d, s, n, dlen);
  size_t end;
  return d + copy_strn("__stpncpy_chk", d, s, n, dlen, &end);
}

/* strcat and strncat: the destination's string must end inside its block;
 * then the appended bytes and a NUL are a write at its end. */
static void cat_str(const char *fn, char *d, const char *s, size_t max, size_t dlen) {
  int st;
  size_t dl = check_str(fn, 1, d, &st);
  if (st == CG_STR_SKIP) return;
  struct cg_block b;
  if (block_of((uintptr_t)d, &b) && dl >= room(&b, (uintptr_t)d)) return; /* neutralised */
  size_t sl = max == (size_t)-1 ? check_str(fn, 2, s, &st) : check_strn(fn, 2, s, max, &st);
  if (st == CG_STR_SKIP) return;
  if (sl > max) sl = max;
  size_t w = check_write(fn, 1, d + dl, sl + 1);
  if (w == 0) return;
  if (w <= sl) sl = w - 1;
  if (dlen != (size_t)-1 && dl + sl + 1 > dlen) { /* glibc's own check fails */
    REAL(__strncat_chk)(d, s, sl, dlen);
    return;
  }
  REAL(memcpy)(d + dl, s, sl);
  d[dl + sl] = 0;
}

CG_EXPORT char *strcat(char *d, const char *s) {
  if (PASS_THROUGH()) return REAL(strcat)(d, s);
  cat_str("strcat", d, s, (size_t)-1, (size_t)-1);
  return d;
}

CG_EXPORT char *strncat(char *d, const char *s, size_t n) {
  if (PASS_THROUGH()) return REAL(strncat)(d, s, n);
  cat_str("strncat", d, s, n, (size_t)-1);
  return d;
}

CG_EXPORT char *__strcat_chk(char *d, const char *s, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__strcat_chk)(d, s, dlen);
  cat_str("__strcat_chk", d, s, (size_t)-1, dlen);
  return d;
}

CG_EXPORT char *__strncat_chk(char *d, const char *s, size_t n, size_t dlen) {
  if (PASS_THROUGH()) return REAL(__strncat_chk)(d, s, n, dlen);
  cat_str("__strncat_chk", d, s, n, dlen);
  return d;
}

/* ---- comparisons and searches ------------------------------------------- */

CG_EXPORT int memcmp(const void *a, const void *b, size_t n) {
  if (PASS_THROUGH()) return REAL(memcmp)(a, b, n);
  uint64_t ra = check_read("memcmp", 1, a, n), rb = check_read("memcmp", 2, b, n);
  return REAL(memcmp)(a, b, ra < rb ? ra : rb);
}

/* The bytes of s a comparison may read: SIZE_MAX when it is terminated
 * inside its block or not in one (the real function is safe then). */
static size_t cmp_bound(const char *fn, int arg, const char *s, size_t max, bool *ok,
                        struct cg_block *b) {
  *ok = true;
  if (cg_unlikely(!s)) {
    if (!max) return SIZE_MAX;
    struct access a = {fn, arg, CG_ACC_READ, 0, 1};
    report_other(&a, CGOGUARD_NULL_POINTER, 0, act(false));
    *ok = false;
    return 0;
  }
  if (cg_likely(!block_of((uintptr_t)s, b))) return SIZE_MAX;
  uint64_t left = room(b, (uintptr_t)s);
  if (cg_unlikely(cg_meta_state(b->meta) != CG_ST_LIVE)) {
    struct access a = {fn, arg, CG_ACC_READ, (uintptr_t)s, 0};
    if (max) report_block(&a, CGOGUARD_USE_AFTER_FREE, b, act(true));
    return left;
  }
  size_t lim = max < left ? max : left;
  return lim && REAL(strnlen)(s, lim) < lim ? SIZE_MAX : left;
}

/* strcmp/strncmp (max SIZE_MAX for strcmp): a string without a NUL in its
 * block is read past its end only if the other one matches all of it. */
static int compare(const char *fn, const char *a, const char *b, size_t max) {
  bool oka, okb;
  struct cg_block ba, bb;
  size_t la = cmp_bound(fn, 1, a, max, &oka, &ba), lb = cmp_bound(fn, 2, b, max, &okb, &bb);
  if (!oka || !okb) return 0;
  size_t bound = la < lb ? la : lb;
  if (cg_likely(bound == SIZE_MAX || bound >= max))
    return max == SIZE_MAX ? REAL(strcmp)(a, b) : REAL(strncmp)(a, b, max);
  int r = REAL(strncmp)(a, b, bound);
  if (r != 0 || REAL(strnlen)(a, bound) < bound) return r; /* ended inside */
  /* equal for the whole block and no NUL: the real call reads past it */
  struct access acc = {fn, la == bound ? 1 : 2, CG_ACC_READ,
                       (uintptr_t)(la == bound ? a : b), 0};
  if (cg_meta_state((la == bound ? ba : bb).meta) == CG_ST_LIVE)
    report_block(&acc, CGOGUARD_HEAP_OVERREAD, la == bound ? &ba : &bb, act(true));
  return r;
}

CG_EXPORT int strcmp(const char *a, const char *b) {
  if (PASS_THROUGH()) return REAL(strcmp)(a, b);
  return compare("strcmp", a, b, SIZE_MAX);
}

CG_EXPORT int strncmp(const char *a, const char *b, size_t n) {
  if (PASS_THROUGH()) return REAL(strncmp)(a, b, n);
  return compare("strncmp", a, b, n);
}

/* For searches: the checked span of s.  *whole is true when the string is
 * terminated inside it (or s is not in a block: span SIZE_MAX). */
static size_t search_span(const char *fn, int arg, const char *s, bool *ok, bool *whole,
                          struct cg_block *b) {
  *ok = true;
  *whole = true;
  if (cg_unlikely(!s)) {
    struct access a = {fn, arg, CG_ACC_READ, 0, 1};
    report_other(&a, CGOGUARD_NULL_POINTER, 0, act(false));
    *ok = false;
    return 0;
  }
  if (cg_likely(!block_of((uintptr_t)s, b))) return SIZE_MAX;
  uint64_t left = room(b, (uintptr_t)s);
  size_t n = left ? REAL(strnlen)(s, left) : 0;
  if (cg_unlikely(cg_meta_state(b->meta) != CG_ST_LIVE)) {
    struct access a = {fn, arg, CG_ACC_READ, (uintptr_t)s, 0};
    report_block(&a, CGOGUARD_USE_AFTER_FREE, b, act(true));
    *whole = false;
    return left;
  }
  *whole = n < left;
  return *whole ? n : left;
}

CG_COLD static void report_unterminated(const char *fn, int arg, const char *s,
                                        const struct cg_block *b) {
  struct access a = {fn, arg, CG_ACC_READ, (uintptr_t)s, 0};
  report_block(&a, CGOGUARD_HEAP_OVERREAD, b, act(true));
}

CG_EXPORT char *strchr(const char *s, int c) {
  if (PASS_THROUGH()) return REAL(strchr)(s, c);
  bool ok, whole;
  struct cg_block b;
  size_t n = search_span("strchr", 1, s, &ok, &whole, &b);
  if (!ok) return NULL;
  if (cg_likely(whole)) return REAL(strchr)(s, c);
  /* no NUL in the block: fine only if c is found first */
  char *hit = (char)c ? REAL(memchr)(s, c, n) : NULL;
  if (!hit && cg_meta_state(b.meta) == CG_ST_LIVE) report_unterminated("strchr", 1, s, &b);
  return hit;
}

CG_EXPORT char *strrchr(const char *s, int c) {
  if (PASS_THROUGH()) return REAL(strrchr)(s, c);
  bool ok, whole;
  struct cg_block b;
  size_t n = search_span("strrchr", 1, s, &ok, &whole, &b);
  if (!ok) return NULL;
  if (cg_likely(whole)) return REAL(strrchr)(s, c);
  if (cg_meta_state(b.meta) == CG_ST_LIVE) report_unterminated("strrchr", 1, s, &b);
  return (char)c ? REAL(memrchr)(s, c, n) : NULL;
}

CG_EXPORT char *strstr(const char *h, const char *nd) {
  if (PASS_THROUGH()) return REAL(strstr)(h, nd);
  bool okh, okn, wh, wn;
  struct cg_block bh, bn;
  size_t ln = search_span("strstr", 2, nd, &okn, &wn, &bn);
  size_t lh = search_span("strstr", 1, h, &okh, &wh, &bh);
  if (!okh || !okn) return NULL;
  if (!wn && cg_meta_state(bn.meta) == CG_ST_LIVE) report_unterminated("strstr", 2, nd, &bn);
  if (cg_likely(wh && wn)) return REAL(strstr)(h, nd);
  if (ln == SIZE_MAX) ln = REAL(strlen)(nd);
  if (wh) return REAL(memmem)(h, lh == SIZE_MAX ? REAL(strlen)(h) : lh, nd, ln);
  /* the haystack has no NUL in its block: fine only if found inside it */
  char *hit = REAL(memmem)(h, lh, nd, ln);
  if (!hit && cg_meta_state(bh.meta) == CG_ST_LIVE) report_unterminated("strstr", 1, h, &bh);
  return hit;
}

/* ---- copies into new blocks --------------------------------------------- */

CG_EXPORT char *strdup(const char *s) {
  if (PASS_THROUGH()) return cg_strdup_at(s, cg_strlen(s), (uintptr_t)__builtin_return_address(0));
  int st;
  size_t n = check_str("strdup", 1, s, &st);
  if (st == CG_STR_SKIP) {
    errno = EINVAL;
    return NULL;
  }
  return cg_strdup_at(s, n, (uintptr_t)__builtin_return_address(0));
}

CG_EXPORT char *strndup(const char *s, size_t max) {
  uintptr_t ret = (uintptr_t)__builtin_return_address(0);
  if (PASS_THROUGH()) {
    size_t n = 0;
    while (n < max && s[n]) n++;
    return cg_strdup_at(s, n, ret);
  }
  int st;
  size_t n = check_strn("strndup", 1, s, max, &st);
  if (st == CG_STR_SKIP) {
    errno = EINVAL;
    return NULL;
  }
  return cg_strdup_at(s, n, ret);
}

/* ---- for stdio.c -------------------------------------------------------- */

size_t cg_check_str(const char *fn, int arg, const char *s, int *st) {
  return check_str(fn, arg, s, st);
}
size_t cg_check_strn(const char *fn, int arg, const char *s, size_t max, int *st) {
  return check_strn(fn, arg, s, max, st);
}
uint64_t cg_check_write(const char *fn, int arg, void *p, size_t n) {
  return check_write(fn, arg, p, n);
}

/* How many bytes may be written at p: to the end of its live block, to the
 * frame's return address on the stack, SIZE_MAX when its end is unknown;
 * 0 after a report (NULL, freed, read-only, past a block's end). */
uint64_t cg_check_write_room(const char *fn, int arg, void *p, bool *stack) {
  *stack = false;
  struct access a = {fn, arg, CG_ACC_WRITE, (uintptr_t)p, 1};
  struct cg_block b;
  if (!p) return check_range(&a);
  if (block_of(a.p, &b)) {
    if (cg_meta_state(b.meta) == CG_ST_LIVE && room(&b, a.p)) return room(&b, a.p);
    return check_range(&a); /* freed, or past its end: reported */
  }
  if (cg_on_thread_stack(a.p)) {
    uintptr_t slot;
    cg_tls.depth++;
    bool known = cg_stack_frame_limit(a.p, &slot);
    cg_tls.depth--;
    *stack = known;
    return known ? slot - a.p : SIZE_MAX;
  }
  return check_write_other(&a) ? SIZE_MAX : 0;
}
