/* Per-thread state, the thread registry and the raw helpers the rest of the
 * shim uses instead of libc (which it interposes). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

__thread struct cg_tls cg_tls __attribute__((tls_model("initial-exec")));

int cg_gettid(void) {
  if (cg_unlikely(cg_tls.tid == 0)) cg_tls.tid = (int)syscall(SYS_gettid);
  return cg_tls.tid;
}

/* ---- raw memory --------------------------------------------------------- */

void *cg_os_alloc(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void cg_os_free(void *p, size_t bytes) {
  if (p) munmap(p, bytes);
}

/* rep stosb / rep movsb: fast on every x86-64 with ERMS, and they cannot be
 * turned into calls to the interposed memset/memcpy by the compiler.  But
 * both start slowly from 128 bytes on (11 ns for 128 to 512 bytes on this
 * project's AMD machine, against 3 to 9 ns for 16-byte moves), and a free
 * poisons 256 bytes by default: up to 512 bytes, 16-byte vectors, the last
 * one overlapping the rest.  The empty asm makes the pointers opaque, so
 * the loops never become memset or memcpy calls. */
typedef unsigned char cg_v16 __attribute__((vector_size(16), aligned(1), may_alias));
#define VECTOR_MAX 512

void cg_fill(void *dst, int byte, size_t n) {
  if (n >= 16 && n <= VECTOR_MAX) {
    unsigned char *d = dst, *last = d + n - 16;
    cg_v16 v = (cg_v16){0} + (unsigned char)byte;
    for (; d < last; d += 16) {
      *(cg_v16 *)(void *)d = v;
      __asm__("" : "+r"(d));
    }
    *(cg_v16 *)(void *)last = v;
    return;
  }
  __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(byte) : "memory");
}

/* dst and src do not overlap */
void cg_copy(void *dst, const void *src, size_t n) {
  if (n >= 16 && n <= VECTOR_MAX) {
    unsigned char *d = dst, *last = d + n - 16;
    const unsigned char *s = src;
    cg_v16 tail = *(const cg_v16 *)(const void *)(s + n - 16);
    for (; d < last; d += 16, s += 16) {
      *(cg_v16 *)(void *)d = *(const cg_v16 *)(const void *)s;
      __asm__("" : "+r"(d), "+r"(s));
    }
    *(cg_v16 *)(void *)last = tail;
    return;
  }
  __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

size_t cg_strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

int cg_streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

int cg_strneq(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i]) return 0;
    if (!a[i]) return 1;
  }
  return 1;
}

bool cg_lock_try(cg_lock *l) {
  int expected = 0;
  return atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
         atomic_compare_exchange_strong_explicit(&l->v, &expected, 1, memory_order_acquire,
                                                 memory_order_relaxed);
}

void cg_lock_acquire(cg_lock *l) {
  for (unsigned spins = 0; !cg_lock_try(l); spins++) {
    if (spins > 64) sched_yield();
    else __builtin_ia32_pause();
  }
}

void cg_lock_release(cg_lock *l) { atomic_store_explicit(&l->v, 0, memory_order_release); }

void cg_block_signals(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  /* a fault while blocked would kill the process without its report */
  sigdelset(&all, SIGSEGV), sigdelset(&all, SIGBUS), sigdelset(&all, SIGILL);
  sigdelset(&all, SIGFPE), sigdelset(&all, SIGTRAP);
  pthread_sigmask(SIG_BLOCK, &all, old);
}

bool cg_lock_enter(cg_lock *l) {
  if (cg_tls.in_lock) return false;
  CG_MARK(in_lock);
  cg_lock_acquire(l);
  return true;
}

void cg_lock_leave(cg_lock *l) {
  cg_lock_release(l);
  CG_UNMARK(in_lock);
}

/* ---- thread registry ---------------------------------------------------- */

/* Records live in one mmap'd array so report-time scans never touch freed
 * TLS; a thread's record is released by a pthread key destructor. */
static struct cg_thread *threads;
static _Atomic int threads_hwm;

struct cg_thread *cg_thread_at(int i) {
  if (!threads || i >= atomic_load(&threads_hwm)) return NULL;
  return &threads[i];
}

static struct cg_thread *thread_register(void);

_Atomic uint64_t cg_allocs_unowned;
static _Atomic uint64_t allocs_retired;

void cg_thread_retire_counts(struct cg_thread *t) {
  atomic_fetch_add(&allocs_retired, atomic_exchange(&t->allocs, 0));
}

uint64_t cg_allocations(void) {
  uint64_t n = atomic_load(&allocs_retired) + atomic_load(&cg_allocs_unowned);
  struct cg_thread *t;
  for (int i = 0; (t = cg_thread_at(i)); i++) n += atomic_load(&t->allocs);
  return n;
}

int cg_threads_seen(void) { return atomic_load_explicit(&threads_hwm, memory_order_relaxed); }

struct cg_thread *cg_thread_register(void) {
  if (cg_tls.thread) return cg_tls.thread;
  if (cg_tls.exiting) return NULL; /* frees after our destructor: no record */
  int saved = errno; /* callers are malloc and free: keep errno */
  struct cg_thread *t = thread_register();
  errno = saved;
  return t;
}


static struct cg_thread *thread_register(void) {
  if (!threads) {
    struct cg_thread *arr = cg_os_alloc(sizeof(struct cg_thread) * CG_MAX_THREADS);
    struct cg_thread *expected = NULL;
    if (!arr) return NULL;
    if (!__atomic_compare_exchange_n(&threads, &expected, arr, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
      cg_os_free(arr, sizeof(struct cg_thread) * CG_MAX_THREADS);
  }
  int hwm = atomic_load(&threads_hwm);
  for (int i = 0; i < CG_MAX_THREADS; i++) {
    struct cg_thread *t = &threads[i];
    int expected = 0;
    if (i >= hwm) {
      /* extend the scanned range first so a reader sees the record */
      int h = hwm;
      while (h <= i && !atomic_compare_exchange_weak(&threads_hwm, &h, i + 1)) {}
      hwm = atomic_load(&threads_hwm);
    }
    if (atomic_load_explicit(&t->in_use, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong(&t->in_use, &expected, 1)) {
      t->tid = cg_gettid();
      cg_tls.thread = t;
      cg_thread_registered(t);
      return t;
    }
  }
  return NULL;
}

