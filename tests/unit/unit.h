/* Minimal unit-test harness: CHECK records a failure and goes on; each
 * TEST prints PASS/FAIL; main returns nonzero when anything failed. */
#ifndef CG_UNIT_H
#define CG_UNIT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed_checks, unit_passed, unit_failed;
static const char *unit_skip; /* set by SKIP(): the test did not run */
#define SKIP(why) do { unit_skip = (why); return; } while (0)

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      unit_failed_checks++;                                                      \
      fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                            \
  } while (0)

/* UNIT_ONLY=name runs just that test. */
#define RUN(fn)                                                        \
  do {                                                                 \
    const char *only = getenv("UNIT_ONLY");                            \
    if (only && !strstr(#fn, only)) break;                             \
    int before = unit_failed_checks;                                   \
    unit_skip = NULL;                                                  \
    fn();                                                              \
    if (unit_skip) printf("SKIP %s: %s\n", #fn, unit_skip);           \
    else if (unit_failed_checks == before) unit_passed++, printf("PASS %s\n", #fn); \
    else unit_failed++, printf("FAIL %s\n", #fn);                      \
    fflush(stdout);                                                    \
  } while (0)

#define UNIT_END() (printf("%d passed, %d failed\n", unit_passed, unit_failed), unit_failed != 0)

/* Iteration counts shrink under the sanitizers (UNIT_SCALE=10 divides). */
static inline long unit_scaled(long n) {
  const char *s = getenv("UNIT_SCALE");
  long d = s ? atol(s) : 1;
  return d > 1 ? n / d : n;
}
#endif
