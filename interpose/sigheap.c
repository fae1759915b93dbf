/* The signal-handler heap: blocks for a malloc made by a signal handler
 * that interrupted its thread inside jemalloc.  POSIX does not allow that
 * (glibc's malloc is not async-signal-safe either), but programs do it, and
 * re-entering jemalloc there would use a thread cache half-way through an
 * update or wait for a lock the interrupted call holds.  Such a block comes
 * from this region instead, by one CAS on a bump offset, and is never
 * reused: freed, it stays marked freed in the table for good.  Reserved at
 * start-up (MAP_NORESERVE: only what is used costs memory); when it is
 * used up, such a malloc fails with ENOMEM. */
#include "internal.h"

#define BIGGEST (64u << 10) /* a handler's block larger than this: ENOMEM */

uintptr_t cg_sigheap = (uintptr_t)0 - CG_SIGHEAP_BYTES; /* no user address */
static _Atomic uint64_t used;

void cg_sigheap_init(void) {
  void *p = cg_os_alloc(CG_SIGHEAP_BYTES);
  if (p) __atomic_store_n(&cg_sigheap, (uintptr_t)p, __ATOMIC_RELEASE);
}

void *cg_sigheap_alloc(size_t n, size_t align) {
  uintptr_t base = __atomic_load_n(&cg_sigheap, __ATOMIC_ACQUIRE);
  if (base == (uintptr_t)0 - CG_SIGHEAP_BYTES || n > BIGGEST || align > 4096) return NULL;
  if (align < 16) align = 16;
  uint64_t size = (n + 15) & ~15ull, off = atomic_load_explicit(&used, memory_order_relaxed), at;
  do {
    at = (off + align - 1) & ~(uint64_t)(align - 1);
    if (at + size > CG_SIGHEAP_BYTES) return NULL;
  } while (!atomic_compare_exchange_weak(&used, &off, at + size));
  return (void *)(base + at); /* fresh mmap memory: zeros, as calloc wants */
}
