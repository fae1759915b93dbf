/* Stack depot: interns stacks (arrays of return addresses) into 24-bit ids,
 * so a 16-byte table entry can name where its block was allocated.
 *
 * Records are appended to one MAP_NORESERVE arena (never freed, never
 * moved) and chained from a bucket array with CAS pushes.  Two threads
 * interning the same new stack at once may get two ids for it; both are
 * correct, so no lock is needed.  The default "site" is a stack of one pc.
 */
#include "internal.h"

#define ARENA_BYTES (128ull << 20) /* ids are arena offsets / 8: 24 bits */
#define BUCKETS_LG 16

struct rec {
  uint32_t next; /* id of the next record in the bucket, 0 = end */
  uint32_t hash;
  uint32_t n;
  uint32_t pad;
  uintptr_t pcs[];
};

static unsigned char *_Atomic arena;
static _Atomic uint64_t arena_used = 16; /* offset 0 is "no stack" */

static bool depot_init(void) {
  if (atomic_load_explicit(&arena, memory_order_acquire)) return true;
  unsigned char *a = cg_os_alloc(ARENA_BYTES + (sizeof(uint32_t) << BUCKETS_LG));
  unsigned char *expected = NULL;
  if (!a) return false;
  /* the bucket array follows the arena in the same mapping: one CAS
   * publishes both */
  if (!atomic_compare_exchange_strong(&arena, &expected, a)) {
    cg_os_free(a, ARENA_BYTES + (sizeof(uint32_t) << BUCKETS_LG));
  }
  return true;
}

static inline _Atomic uint32_t *bucket_array(void) {
  return (_Atomic uint32_t *)(void *)(atomic_load_explicit(&arena, memory_order_acquire) +
                                      ARENA_BYTES);
}

static inline struct rec *rec_at(uint32_t id) {
  return (struct rec *)(void *)(atomic_load_explicit(&arena, memory_order_acquire) +
                                ((uint64_t)id << 3));
}

static uint32_t hash_stack(const uintptr_t *pcs, int n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
  for (int i = 0; i < n; i++) {
    h ^= pcs[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return (uint32_t)h;
}

uint32_t depot_put(const uintptr_t *pcs, int n) {
  if (n <= 0 || !depot_init()) return 0;
  uint32_t h = hash_stack(pcs, n);
  _Atomic uint32_t *b = &bucket_array()[h & ((1u << BUCKETS_LG) - 1)];
  uint32_t head = atomic_load_explicit(b, memory_order_acquire);
  for (uint32_t id = head; id; id = rec_at(id)->next) {
    struct rec *r = rec_at(id);
    if (r->hash != h || r->n != (uint32_t)n) continue;
    int i = 0;
    while (i < n && r->pcs[i] == pcs[i]) i++;
    if (i == n) return id;
  }
  uint64_t bytes = (sizeof(struct rec) + sizeof(uintptr_t) * (uint64_t)n + 7) & ~7ull;
  uint64_t off = atomic_fetch_add_explicit(&arena_used, bytes, memory_order_relaxed);
  if (off + bytes > ARENA_BYTES) return 0; /* full: the site stays unknown */
  uint32_t id = (uint32_t)(off >> 3);
  struct rec *r = rec_at(id);
  r->hash = h;
  r->n = (uint32_t)n;
  for (int i = 0; i < n; i++) r->pcs[i] = pcs[i];
  do r->next = head;
  while (!atomic_compare_exchange_weak_explicit(b, &head, id, memory_order_release,
                                                memory_order_acquire));
  return id;
}

int depot_get(uint32_t id, uintptr_t *pcs, int max) {
  if (!id || !atomic_load(&arena)) return 0;
  struct rec *r = rec_at(id);
  int n = (int)r->n < max ? (int)r->n : max;
  for (int i = 0; i < n; i++) pcs[i] = r->pcs[i];
  return n;
}
