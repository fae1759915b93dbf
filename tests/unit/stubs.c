/* What the unit-tested files need from the rest of the shim. */
#include "internal.h"

void cg_thread_registered(struct cg_thread *t) { (void)t; }

/* jemalloc is not linked into unit tests; a test that needs real sizes
 * defines its own. */
__attribute__((weak)) size_t sallocx(const void *p, int flags) {
  (void)p, (void)flags;
  return 0;
}
