/* A program whose bug shows on some runs only, for tests/integration/repro.sh.
 *
 *   flaky MODE AT [CLEAN_MS]
 *
 * Every run adds one to the counter in the file $REPRO_COUNTER (under
 * flock, so parallel runs count right) and appends its pid to $REPRO_PIDS
 * when that is set.  Then, by MODE:
 *   double-free       frees a block twice when the count is >= AT
 *   double-free-once  frees a block twice when the count is == AT
 *   segv              writes through a NULL pointer (SIGSEGV) when the
 *                     count is == AT
 *   clean             never fails
 * A run that does not fail sleeps CLEAN_MS milliseconds (default 0) and
 * exits 0. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static long bump(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT, 0644);
  if (fd < 0) { perror(path); exit(100); }
  flock(fd, LOCK_EX);
  char buf[32] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  long count = (n > 0 ? atol(buf) : 0) + 1;
  int len = snprintf(buf, sizeof buf, "%ld\n", count);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) { perror(path); exit(100); }
  flock(fd, LOCK_UN);
  close(fd);
  return count;
}

__attribute__((noinline)) static void release(char *p) {
  free(p); /* REPRO:free */
}

__attribute__((noinline)) static void double_free(void) {
  char *p = malloc(24); /* REPRO:malloc */
  strcpy(p, "freed twice");
  release(p);
  release(p); /* REPRO:second */
}

void *volatile null_pointer; /* volatile: the compiler cannot see it is NULL */

int main(int argc, char **argv) {
  const char *counter = getenv("REPRO_COUNTER"), *pids = getenv("REPRO_PIDS");
  if (argc < 3 || !counter) {
    fprintf(stderr, "usage: REPRO_COUNTER=FILE flaky MODE AT [CLEAN_MS]\n");
    return 100;
  }
  if (pids) {
    FILE *f = fopen(pids, "a");
    if (f) fprintf(f, "%d\n", (int)getpid()), fclose(f);
  }
  long count = bump(counter), at = atol(argv[2]);
  printf("flaky: run %ld (CGOGUARD_REPRO_RUN=%s)\n", count, getenv("CGOGUARD_REPRO_RUN") ?: "-");
  fflush(stdout);
  if ((!strcmp(argv[1], "double-free") && count >= at) ||
      (!strcmp(argv[1], "double-free-once") && count == at))
    double_free();
  if (!strcmp(argv[1], "segv") && count == at) {
    fprintf(stderr, "flaky: SIGSEGV now\n");
    *(volatile int *)null_pointer = 1;
  }
  long ms = argc > 3 ? atol(argv[3]) : 0;
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {}
  return 0;
}
