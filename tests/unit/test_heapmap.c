/* Block-start bitmap: interior and slack lookups, blocks far apart and very
 * large, removal, addresses no block holds, and readers racing writers
 * (also built with -fsanitize=thread). */
#include <pthread.h>

#include "internal.h"
#include "unit.h"

/* jemalloc's real size of a fake block: its size rounded up to 16 here. */
size_t sallocx(const void *p, int flags) {
  (void)flags;
  uint64_t m;
  if (!shadow_find((uintptr_t)p, &m)) return 0;
  return (cg_meta_size(m) + 15) & ~15ull;
}

static void add(uintptr_t p, uint64_t size, uint64_t state) {
  CHECK(shadow_insert(p, cg_meta(state, 1, size)));
  heapmap_add(p, size);
}

static void drop(uintptr_t p) {
  uint64_t m;
  cg_entry *e = shadow_find(p, &m);
  CHECK(e && shadow_erase(e, p, m));
  heapmap_remove(p);
}

static bool holds(uintptr_t a, uintptr_t start, uint64_t size) {
  struct cg_block b;
  return cg_heap_block(a, &b) && b.start == start && b.size == size;
}

#define BASE 0x7e0000000000ull

/* Under ThreadSanitizer the 1 TiB reservation can collide with the
 * sanitizer's own layout: then the fallback (starts only) is what runs. */
static void test_fallback_when_refused(void) {
  if (heapmap_ready()) SKIP("the reservation was granted");
  add(BASE, 64, CG_ST_LIVE);
  struct cg_block b;
  CHECK(cg_heap_block(BASE, &b) && b.start == BASE && b.size == 64);
  CHECK(!cg_heap_block(BASE + 8, &b));
  drop(BASE);
}

static void test_interior_and_slack(void) {
  if (!heapmap_ready()) SKIP("the bitmap reservation was refused");
  add(BASE, 13, CG_ST_LIVE);          /* usable 16: 3 bytes of slack */
  add(BASE + 16, 100, CG_ST_LIVE);
  add(BASE + 4096, 32, CG_ST_QUARANTINED);
  CHECK(holds(BASE, BASE, 13));
  CHECK(holds(BASE + 12, BASE, 13));
  CHECK(holds(BASE + 14, BASE, 13));  /* slack: still its block, past its size */
  CHECK(holds(BASE + 16, BASE + 16, 100));
  CHECK(holds(BASE + 16 + 99, BASE + 16, 100));
  CHECK(holds(BASE + 16 + 110, BASE + 16, 100)); /* slack up to 112 */
  CHECK(!holds(BASE + 16 + 112, BASE + 16, 100)); /* beyond: nobody's */
  struct cg_block b;
  CHECK(!cg_heap_block(BASE + 16 + 112, &b));
  CHECK(!cg_heap_block(BASE + 2000, &b));
  CHECK(cg_heap_block(BASE + 4096 + 31, &b) && cg_meta_state(b.meta) == CG_ST_QUARANTINED);
  CHECK(!cg_heap_block(BASE - 1, &b));
  CHECK(!cg_heap_block(0, &b));
  CHECK(!cg_heap_block(UINTPTR_MAX - 5, &b));
  drop(BASE + 16);
  CHECK(!cg_heap_block(BASE + 20, &b)); /* removed: the block below does not reach */
  CHECK(holds(BASE + 5, BASE, 13));
  drop(BASE);
  drop(BASE + 4096);
}

/* A block of 300 MiB: its last byte is found from its start bit far below,
 * through the summary levels. */
static void test_large_block(void) {
  if (!heapmap_ready()) SKIP("the bitmap reservation was refused");
  uintptr_t p = BASE + (1ull << 34);
  uint64_t size = 300ull << 20;
  add(p, size, CG_ST_LIVE);
  add(p + size + (64ull << 20), 64, CG_ST_LIVE); /* another, far above */
  CHECK(holds(p + size - 1, p, size));
  CHECK(holds(p + (size >> 1) + 7, p, size));
  CHECK(holds(p + size + (64ull << 20) + 63, p + size + (64ull << 20), 64));
  struct cg_block b;
  CHECK(!cg_heap_block(p + size + (1ull << 20), &b)); /* the gap between them */
  drop(p);
  drop(p + size + (64ull << 20));
  CHECK(!cg_heap_block(p + 100, &b));
}

/* Every 16-byte-aligned address of many small neighbouring blocks. */
static void test_dense(void) {
  if (!heapmap_ready()) SKIP("the bitmap reservation was refused");
  uintptr_t p = BASE + (1ull << 30);
  const int n = 5000;
  for (int i = 0; i < n; i++) add(p + (uintptr_t)i * 48, 40, CG_ST_LIVE);
  long wrong = 0;
  for (int i = 0; i < n; i++)
    for (uintptr_t off = 0; off < 48; off += 4)
      if (!holds(p + (uintptr_t)i * 48 + off, p + (uintptr_t)i * 48, 40)) wrong++;
  CHECK(wrong == 0);
  for (int i = 0; i < n; i++) drop(p + (uintptr_t)i * 48);
}

/* Writers add and remove blocks between the readers' blocks (same bitmap
 * words) while readers look up interior addresses of blocks that stay
 * live the whole time. */
#define STABLE (BASE + (1ull << 32))
static _Atomic int stop;
static _Atomic long misses;

static void *writer(void *arg) {
  uintptr_t base = STABLE + 64 + 32 * (uintptr_t)arg;
  long rounds = unit_scaled(200);
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < 256; i++) add(base + (uintptr_t)i * 128, 16, CG_ST_LIVE);
    for (int i = 0; i < 256; i++) drop(base + (uintptr_t)i * 128);
  }
  return NULL;
}

static void *reader(void *arg) {
  (void)arg;
  while (!atomic_load(&stop))
    for (int i = 0; i < 256; i++)
      if (!holds(STABLE + (uintptr_t)i * 128 + 33, STABLE + (uintptr_t)i * 128, 40))
        atomic_fetch_add(&misses, 1);
      else if (cg_heap_block(STABLE + (uintptr_t)i * 128 + 88, &(struct cg_block){0}))
        atomic_fetch_add(&misses, 1); /* a gap above writers' blocks: nobody's */
  return NULL;
}

static void test_concurrent(void) {
  if (!heapmap_ready()) SKIP("the bitmap reservation was refused");
  for (int i = 0; i < 256; i++) add(STABLE + (uintptr_t)i * 128, 40, CG_ST_LIVE);
  pthread_t w[2], r[2];
  for (long i = 0; i < 2; i++) pthread_create(&r[i], NULL, reader, NULL);
  for (long i = 0; i < 2; i++) pthread_create(&w[i], NULL, writer, (void *)i);
  for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);
  CHECK(atomic_load(&misses) == 0);
  for (int i = 0; i < 256; i++) drop(STABLE + (uintptr_t)i * 128);
}

int main(void) {
  RUN(test_fallback_when_refused);
  RUN(test_interior_and_slack);
  RUN(test_large_block);
  RUN(test_dense);
  RUN(test_concurrent);
  return UNIT_END();
}
