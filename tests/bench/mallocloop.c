/* mallocloop THREADS ITERS [MAX_MS]: each thread does up to ITERS rounds of
 * malloc(16..256) + write + free (stopping early after MAX_MS, default 1500).
 * Prints wall ns of the timed phase / rounds per thread = ns per op per thread. */
#include <pthread.h>
#include "common.h"

static long iters;
static double max_ms = 1500;
static pthread_barrier_t start;
/* per thread: a shared one would bounce its cache line between the
 * threads on every round, and the 2-thread row would measure that */
static __thread volatile char sink;

static void loop(long n) {
  for (long i = 0; i < n; i++) {
    size_t sz = 16 * (1 + (size_t)(i * 7) % 16); /* 16, 128, 240, 96, ... */
    volatile char *p = malloc(sz);
    p[sz - 1] = (char)i;
    sink = p[0];
    free((void *)p);
  }
}

static void *worker(void *arg) {
  run_capped(loop, iters / 10, max_ms / 10); /* warm-up: thread cache, arenas */
  pthread_barrier_wait(&start);
  *(long *)arg = run_capped(loop, iters, max_ms);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: mallocloop THREADS ITERS [MAX_MS]\n");
    return 2;
  }
  int nt = (int)arg_long(argv[1]);
  iters = arg_long(argv[2]);
  if (argc == 4) max_ms = arg_long(argv[3]);
  if (nt > 64) return 2;
  pthread_t th[64];
  long done[64];
  pthread_barrier_init(&start, NULL, nt + 1);
  for (int i = 0; i < nt; i++) pthread_create(&th[i], NULL, worker, &done[i]);
  pthread_barrier_wait(&start);
  double t0 = now_ns(), total = 0;
  for (int i = 0; i < nt; i++) {
    pthread_join(th[i], NULL);
    total += done[i];
  }
  printf("%.2f\n", (now_ns() - t0) / (total / nt));
  return 0;
}
