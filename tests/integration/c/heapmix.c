/* heapmix [classes]: a correct program that mixes every way of getting and
 * resizing a block (malloc, calloc, memalign, aligned_alloc, posix_memalign,
 * valloc, realloc and reallocarray growing, shrinking and moving, strdup) over sizes 1..40000 and
 * alignments 16..4096, and frees them on this thread and on another, while
 * a third thread keeps making the shim's table grow and shrink.  Every live
 * block holds its own byte pattern, checked before it is resized or freed
 * and at the end: a block handed back to the allocator with the wrong size
 * (its region put in another size class's cache) is handed out again
 * overlapping a live one, and its pattern breaks.  With "classes", where
 * jemalloc is loaded (under the shim), each block malloc, calloc, strdup
 * or a moving realloc returns must also be of exactly the size class
 * jemalloc gives its size: a block handed back under a smaller class than
 * its own would come out again too big, and overlap nothing.  Output does
 * not depend on addresses, so it is compared with a run without the shim. */
#define _GNU_SOURCE
#include <malloc.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024
#define ROUNDS 250000
#define CHURN 100000 /* blocks the churning thread holds at once */

struct blk {
  unsigned char *p;
  size_t n;
  unsigned char tag;
};
static struct blk live[SLOTS];
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static long corrupt, wrong_class;
static size_t (*class_of)(const void *, int); /* jemalloc's sallocx */
static size_t (*class_for)(size_t, int);      /* jemalloc's nallocx */
static volatile int churning = 1;

static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

static size_t pick_size(void) {
  switch (next() % 4) {
  case 0: return 1 + next() % 64;
  case 1: return 1 + next() % 512;
  case 2: return 1 + next() % 4096;
  default: return 1 + next() % 40000;
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

/* a block of malloc's alignment: jemalloc's class for its size, exactly */
static void check_class(const void *p, size_t n) {
  if (class_of && class_of(p, 0) != class_for(n < 16 ? 16 : n, 0)) wrong_class++;
}

static unsigned char *get(size_t n, size_t *align) {
  size_t al = (size_t)16 << (next() % 9); /* 16 .. 4096 */
  void *p = NULL;
  *align = 16;
  unsigned char *b;
  switch (next() % 7) {
  case 0: b = malloc(n); break;
  case 1: b = calloc(1, n); break;
  case 2: *align = al; return memalign(al, n);
  case 3: *align = al; return aligned_alloc(al, (n + al - 1) / al * al);
  case 4: *align = al; return posix_memalign(&p, al, n) ? NULL : p;
  case 5: *align = 4096; return valloc(n);
  default: {
    char *s = malloc(n);
    if (!s) return NULL;
    memset(s, 'x', n - 1);
    s[n - 1] = 0;
    b = (unsigned char *)strdup(s);
    free(s);
  }
  }
  if (b) check_class(b, n); /* malloc's alignment: its own size class */
  return b;
}

/* bursts of blocks held, then freed: the table grows, and rebuilds when
 * they go, moving entries while the main thread resizes its blocks */
static void *churn(void *arg) {
  (void)arg;
  static void *held[CHURN];
  while (churning) {
    for (int i = 0; i < CHURN; i++) held[i] = malloc(16);
    for (int i = 0; i < CHURN; i++) free(held[i]);
  }
  return NULL;
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

int main(int argc, char **argv) {
  long allocs = 0, reallocs = 0, frees = 0, misaligned = 0;
  if (argc > 1 && !strcmp(argv[1], "classes")) {
    class_of = (size_t(*)(const void *, int))dlsym(RTLD_DEFAULT, "sallocx");
    class_for = (size_t(*)(size_t, int))dlsym(RTLD_DEFAULT, "nallocx");
    if (!class_for) class_of = NULL;
  }
  pthread_t churner;
  if (pthread_create(&churner, NULL, churn, NULL)) return 2;
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
        /* shrink in place, grow by a quarter (in place when jemalloc can
         * extend a large block), or anything */
        size_t n;
        switch (next() % 3) {
        case 0: n = b->n / 2 + 1; break;
        case 1: n = b->n + b->n / 4 + 1; break;
        default: n = pick_size();
        }
        verify(b, b->n);
        unsigned char *q = next() % 2 ? realloc(b->p, n) : reallocarray(b->p, 1, n);
        if (!q) return 2;
        if (q != b->p) check_class(q, n);
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
  churning = 0;
  if (pthread_join(churner, NULL)) return 2;
  for (int i = 0; i < SLOTS; i++)
    if (live[i].p) {
      verify(&live[i], live[i].n);
      free(live[i].p);
    }
  printf("heapmix: %ld allocations, %ld reallocs, %ld frees, %ld corrupt, %ld misaligned, "
         "%ld of the wrong size class\n",
         allocs, reallocs, frees, corrupt, misaligned, wrong_class);
  return corrupt || misaligned || wrong_class ? 1 : 0;
}
