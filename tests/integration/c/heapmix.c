/* heapmix: a correct program that mixes every way of getting and resizing a
 * block (malloc, calloc, memalign, aligned_alloc, posix_memalign, realloc
 * growing, shrinking and moving, strdup) over sizes 1..20000 and alignments
 * 16..4096, and frees them on this thread and on another.  Every live block
 * holds its own byte pattern, checked before it is resized or freed and at
 * the end: a block handed back to the allocator with the wrong size (its
 * region put in another size class's cache) is handed out again overlapping
 * a live one, and its pattern breaks.  Output does not depend on addresses,
 * so it is compared with a run without the shim. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024
#define ROUNDS 400000

struct blk {
  unsigned char *p;
  size_t n;
  unsigned char tag;
};
static struct blk live[SLOTS];
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static long corrupt;

static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

static size_t pick_size(void) {
  switch (next() % 4) {
  case 0: return 1 + next() % 64;
  case 1: return 1 + next() % 512;
  case 2: return 1 + next() % 4096;
  default: return 1 + next() % 20000;
  }
}

static void fill(struct blk *b) {
  b->tag = (unsigned char)(1 + next() % 250);
  memset(b->p, b->tag, b->n);
}

static void verify(const struct blk *b, size_t upto) {
  for (size_t i = 0; i < upto; i++)
    if (b->p[i] != b->tag) {
      corrupt++;
      return;
    }
}

static unsigned char *get(size_t n, size_t *align) {
  size_t al = (size_t)16 << (next() % 9); /* 16 .. 4096 */
  void *p = NULL;
  *align = 16;
  switch (next() % 6) {
  case 0: return malloc(n);
  case 1: return calloc(1, n);
  case 2: *align = al; return memalign(al, n);
  case 3: *align = al; return aligned_alloc(al, (n + al - 1) / al * al);
  case 4: *align = al; return posix_memalign(&p, al, n) ? NULL : p;
  default: {
    char *s = malloc(n);
    if (!s) return NULL;
    memset(s, 'x', n - 1);
    s[n - 1] = 0;
    char *d = strdup(s);
    free(s);
    return (unsigned char *)d;
  }
  }
}

static void *free_half(void *arg) {
  (void)arg;
  for (int i = 0; i < SLOTS; i += 2)
    if (live[i].p) {
      verify(&live[i], live[i].n);
      free(live[i].p);
      live[i].p = NULL;
    }
  return NULL;
}

int main(void) {
  long allocs = 0, reallocs = 0, frees = 0, misaligned = 0;
  for (int round = 0; round < 4; round++) {
    for (long r = 0; r < ROUNDS; r++) {
      struct blk *b = &live[next() % SLOTS];
      if (!b->p) {
        size_t al;
        b->n = pick_size();
        b->p = get(b->n, &al);
        if (!b->p) return 2;
        if ((uintptr_t)b->p % al) misaligned++;
        if (malloc_usable_size(b->p) < b->n) corrupt++;
        fill(b);
        allocs++;
      } else if (next() % 3 == 0) {
        size_t n = next() % 2 ? b->n / 2 + 1 : pick_size(); /* shrink in place or anything */
        verify(b, b->n);
        unsigned char *q = realloc(b->p, n);
        if (!q) return 2;
        b->p = q;
        verify(b, n < b->n ? n : b->n);
        b->n = n;
        fill(b);
        reallocs++;
      } else {
        verify(b, b->n);
        free(b->p);
        b->p = NULL;
        frees++;
      }
    }
    pthread_t t; /* frees from a thread that allocated none of it */
    if (pthread_create(&t, NULL, free_half, NULL) || pthread_join(t, NULL)) return 2;
  }
  for (int i = 0; i < SLOTS; i++)
    if (live[i].p) {
      verify(&live[i], live[i].n);
      free(live[i].p);
    }
  printf("heapmix: %ld allocations, %ld reallocs, %ld frees, %ld corrupt, %ld misaligned\n",
         allocs, reallocs, frees, corrupt, misaligned);
  return corrupt || misaligned ? 1 : 0;
}
