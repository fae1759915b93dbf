/* Shared helpers for the C benchmark programs of scripts/bench. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__GNUC__) && !defined(__clang__)
#define NOINLINE __attribute__((noinline, noipa))
#else
#define NOINLINE __attribute__((noinline))
#endif

static inline double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline long arg_long(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v <= 0) {
    fprintf(stderr, "bad number: %s\n", s);
    exit(2);
  }
  return v;
}

/* Runs fn(chunk) until n iterations are done or max_ms milliseconds have
 * passed, whichever comes first, so that a slow configuration still finishes
 * in bounded time.  Returns the number of iterations done. */
static inline long run_capped(void (*fn)(long), long n, double max_ms) {
  double deadline = now_ns() + max_ms * 1e6;
  long done = 0;
  while (done < n) {
    long chunk = n - done < 16384 ? n - done : 16384;
    fn(chunk);
    done += chunk;
    if (now_ns() > deadline) break;
  }
  return done;
}
#endif
