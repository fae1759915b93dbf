/* What the unit-tested files need from the rest of the shim. */
#include "internal.h"

void cg_thread_registered(struct cg_thread *t) { (void)t; }

/* jemalloc is not linked into unit tests; a test that needs real sizes
 * defines its own. */
__attribute__((weak)) size_t sallocx(const void *p, int flags) {
  (void)p, (void)flags;
  return 0;
}

/* alloc.c (the malloc family) is not part of the unit tests. */
__attribute__((weak)) uint32_t cg_site_here(uintptr_t pc) {
  (void)pc;
  return 0;
}

/* alloc.c's, over the sallocx above (a test may define its own) */
__attribute__((weak)) uint64_t cg_block_extent(uintptr_t s, uint64_t n) {
  if (cg_guarded(s)) return cg_guard_extent(s);
  (void)n;
  return sallocx((void *)s, 0);
}

__attribute__((weak)) uint64_t cg_huge_size(uintptr_t p) { return sallocx((void *)p, 0); }
