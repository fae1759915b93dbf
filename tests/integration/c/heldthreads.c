/* Correct program that once made the table lose entries: many threads each
 * hold a few blocks (their batched counters never flush) while the main
 * thread churns, so the table rebuilds with a short count.  Every free must
 * find its block: no report, same output as without the shim. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 300
#define HELD 30
static char *held[THREADS][HELD];
static pthread_barrier_t filled, done;

static void *worker(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < HELD; i++) {
    held[id][i] = malloc(24);
    snprintf(held[id][i], 24, "%ld:%d", id, i);
  }
  pthread_barrier_wait(&filled);
  pthread_barrier_wait(&done); /* stay alive until main has freed them */
  return NULL;
}

int main(void) {
  pthread_t th[THREADS];
  pthread_barrier_init(&filled, NULL, THREADS + 1);
  pthread_barrier_init(&done, NULL, THREADS + 1);
  for (long i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, worker, (void *)i);
  pthread_barrier_wait(&filled);
  static void *churn[2000];
  for (int r = 0; r < 50; r++) {
    for (int i = 0; i < 2000; i++) churn[i] = malloc(32);
    for (int i = 0; i < 2000; i++) free(churn[i]);
  }
  size_t total = 0;
  for (int t = 0; t < THREADS; t++)
    for (int i = 0; i < HELD; i++) {
      total += strlen(held[t][i]);
      free(held[t][i]);
    }
  pthread_barrier_wait(&done);
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  printf("freed %d blocks, %zu characters\n", THREADS * HELD, total);
  return 0;
}
