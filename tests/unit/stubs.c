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
