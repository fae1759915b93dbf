/* cgoguard: public interface of the preloaded checker.
 *
 * A program does not need this header to be checked: preloading
 * build/libcgoguard.so is enough.  It is for programs and tests that want
 * to ask the shim about itself.  Every function here is declared weak, so
 * a program built against it still runs without the shim (check for NULL).
 */
#ifndef CGOGUARD_H
#define CGOGUARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CGOGUARD_VERSION "0.1.0"

/* Report kinds.  The strings (cgoguard_kind_name) are part of the
 * product's contract: logs, JSON and every later feature use them as is. */
enum cgoguard_kind {
  CGOGUARD_DOUBLE_FREE,
  CGOGUARD_INVALID_FREE,
  CGOGUARD_USE_AFTER_FREE,
  CGOGUARD_HEAP_OVERREAD,
  CGOGUARD_HEAP_OVERFLOW,
  CGOGUARD_READONLY_WRITE,
  CGOGUARD_NULL_POINTER,
  CGOGUARD_LEAK,
  CGOGUARD_STACK_BUFFER_OVERFLOW,
  CGOGUARD_KIND_COUNT
};

/* "double-free", "invalid-free", ...; NULL for an out-of-range kind. */
const char *cgoguard_kind_name(int kind) __attribute__((weak));

/* Number of errors of `kind` detected so far, reported or not (past
 * max_reports, or repeats in neutralize mode), suppressed ones left out. */
uint64_t cgoguard_error_count(int kind) __attribute__((weak));

/* Number of errors of `kind` a suppressions rule matched (suppressions=). */
uint64_t cgoguard_suppressed_count(int kind) __attribute__((weak));

/* Requested size of the live block that starts at p, or (size_t)-1 when p
 * is not the start of a live block. */
size_t cgoguard_block_size(const void *p) __attribute__((weak));

/* Counters, as written to stats_path (Prometheus text) at exit and on
 * SIGUSR2.  Block counts come from one pass over the shim's table, so a
 * call costs time in proportion to the live blocks: not for a hot loop. */
#define CGOGUARD_STATS_VERSION 1
struct cgoguard_stats {
  uint32_t version;                       /* CGOGUARD_STATS_VERSION */
  uint64_t errors[CGOGUARD_KIND_COUNT];   /* detected, by kind; not suppressed */
  uint64_t live_blocks, live_bytes;       /* allocated, not freed */
  uint64_t quarantined_blocks, quarantined_bytes; /* freed, held back */
  uint64_t allocations;                   /* blocks allocated since start */
};

/* Fills *out (size: sizeof *out); 0 on success, -1 on a bad argument. */
int cgoguard_get_stats(struct cgoguard_stats *out, size_t size) __attribute__((weak));

#ifdef __cplusplus
}
#endif
#endif
