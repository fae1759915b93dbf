/* Stack depot: interning, lookup, and concurrent interning. */
#include <pthread.h>

#include "internal.h"
#include "unit.h"

static void test_put_get(void) {
  uintptr_t a[3] = {0x401000, 0x402000, 0x403000}, b[3] = {0x401000, 0x402000, 0x403001};
  uint32_t ia = depot_put(a, 3), ib = depot_put(b, 3);
  CHECK(ia != 0 && ib != 0 && ia != ib);
  CHECK(depot_put(a, 3) == ia); /* same stack, same id */
  CHECK(depot_put(a, 2) != ia); /* a prefix is another stack */
  uintptr_t out[8];
  CHECK(depot_get(ia, out, 8) == 3 && out[0] == a[0] && out[2] == a[2]);
  CHECK(depot_get(ia, out, 2) == 2);
  CHECK(depot_get(0, out, 8) == 0);
  CHECK(depot_put(a, 0) == 0);
  CHECK(ia < (1u << CG_SITE_BITS) && ib < (1u << CG_SITE_BITS));
}

static void *intern(void *arg) {
  long bad = 0;
  for (long i = 0; i < unit_scaled(200000); i++) {
    uintptr_t pc[2] = {0x500000 + (uintptr_t)(i % 5000), (uintptr_t)arg};
    uint32_t id = depot_put(pc, 2);
    uintptr_t out[2];
    if (!id || depot_get(id, out, 2) != 2 || out[0] != pc[0] || out[1] != pc[1]) bad++;
  }
  return (void *)bad;
}

static void test_threads(void) {
  pthread_t t[4];
  long bad = 0;
  for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, intern, (void *)(i & 1));
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    bad += (long)r;
  }
  CHECK(bad == 0);
}

int main(void) {
  RUN(test_put_get);
  RUN(test_threads);
  return UNIT_END();
}
