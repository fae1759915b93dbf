/* libFuzzer target: the CGOGUARD_OPTIONS parser, cg_options_parse().
 *
 * The input (NUL-terminated; bytes after an embedded NUL are ignored, as
 * getenv would) is parsed twice, each time into a struct first filled with
 * different garbage, with errors written to an in-memory file.  Checked:
 *  - the error count is >= 0 and equals the number of error lines written
 *    (for inputs with no newline byte; a newline inside an echoed item
 *    splits its line, so then only ">=" is checked), every line starts
 *    with "cgoguard: " and is at most 600 bytes;
 *  - every field is within its documented range (README "Options");
 *  - log_path, stats_path and suppressions are NUL-terminated inside their arrays, and
 *    log_path is never empty;
 *  - both parses give the same struct (the parser starts from the
 *    defaults, whatever the struct held);
 *  - the empty input gives exactly the defaults.
 * Any violation aborts (libFuzzer reports it as a crash with the input). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static int errfd = -1;
static char *text; /* the input, NUL-terminated */
static size_t text_cap;
static char errs[1 << 20];

#define REQUIRE(cond)                                                    \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "fuzz_options: invariant failed: %s\n", #cond);    \
      abort();                                                           \
    }                                                                    \
  } while (0)

static bool terminated(const char *a, size_t cap) { return memchr(a, 0, cap) != NULL; }

static void check_ranges(const struct cg_options *o) {
  REQUIRE(o->mode == CG_MODE_ABORT || o->mode == CG_MODE_NEUTRALIZE);
  REQUIRE(o->log_format == CG_FORMAT_TEXT || o->log_format == CG_FORMAT_JSON);
  REQUIRE(terminated(o->log_path, sizeof o->log_path));
  REQUIRE(o->log_path[0] != 0);
  REQUIRE(terminated(o->stats_path, sizeof o->stats_path));
  REQUIRE(terminated(o->suppressions, sizeof o->suppressions));
  REQUIRE(o->quarantine_bytes <= (1ull << 40));
  REQUIRE(o->quarantine_bytes % (1u << 20) == 0);
  REQUIRE(o->stack_depth >= 1 && o->stack_depth <= 256);
  REQUIRE(o->max_reports >= -1 && o->max_reports <= 1000000000L);
  REQUIRE(o->verbosity >= 0 && o->verbosity <= 3);
  REQUIRE(o->leak_exitcode >= 0 && o->leak_exitcode <= 255);
  REQUIRE(o->error_exitcode >= 0 && o->error_exitcode <= 255);
  REQUIRE(o->guard_sample >= 0 && o->guard_sample <= 1000000000L);
  REQUIRE(o->dedup == 0 || o->dedup == 1);
  REQUIRE(o->leak_report == 0 || o->leak_report == 1);
  REQUIRE(o->alloc_stacks == 0 || o->alloc_stacks == 1);
  REQUIRE(o->symbolize == 0 || o->symbolize == 1);
  REQUIRE(o->explain_faults == 0 || o->explain_faults == 1);
  REQUIRE(o->poison_bytes >= -1 && o->poison_bytes <= (1L << 40));
}

/* Field-by-field (the struct has padding, which need not match). */
static bool same(const struct cg_options *a, const struct cg_options *b) {
  return a->mode == b->mode && a->log_format == b->log_format &&
         memcmp(a->log_path, b->log_path, sizeof a->log_path) == 0 &&
         a->quarantine_bytes == b->quarantine_bytes && a->stack_depth == b->stack_depth &&
         a->max_reports == b->max_reports && a->verbosity == b->verbosity &&
         a->dedup == b->dedup && a->leak_report == b->leak_report &&
         a->leak_exitcode == b->leak_exitcode && a->error_exitcode == b->error_exitcode &&
         a->guard_sample == b->guard_sample &&
         memcmp(a->stats_path, b->stats_path, sizeof a->stats_path) == 0 &&
         a->alloc_stacks == b->alloc_stacks && a->poison_bytes == b->poison_bytes &&
         a->symbolize == b->symbolize && a->explain_faults == b->explain_faults &&
         memcmp(a->suppressions, b->suppressions, sizeof a->suppressions) == 0;
}

/* Parses into a struct pre-filled with `junk`; returns the error count and
 * leaves the error text in errs[0..*elen). */
static int parse(const char *s, struct cg_options *o, int junk, size_t *elen) {
  memset(o, junk, sizeof *o);
  REQUIRE(ftruncate(errfd, 0) == 0);
  REQUIRE(lseek(errfd, 0, SEEK_SET) == 0);
  int n = cg_options_parse(s, o, errfd);
  off_t end = lseek(errfd, 0, SEEK_CUR);
  REQUIRE(end >= 0 && (size_t)end < sizeof errs);
  REQUIRE(pread(errfd, errs, (size_t)end, 0) == end);
  *elen = (size_t)end;
  return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  errfd = memfd_create("fuzz_options_errors", MFD_CLOEXEC);
  if (errfd < 0) {
    perror("memfd_create");
    abort();
  }
  /* the empty input and NULL give the defaults, with no error */
  struct cg_options d, o;
  size_t elen;
  cg_options_defaults(&d);
  check_ranges(&d);
  REQUIRE(parse("", &o, 0x5a, &elen) == 0 && elen == 0 && same(&o, &d));
  REQUIRE(parse(NULL, &o, 0xa5, &elen) == 0 && elen == 0 && same(&o, &d));
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size + 1 > text_cap) {
    free(text);
    text_cap = size + 1;
    text = malloc(text_cap);
    REQUIRE(text != NULL);
  }
  memcpy(text, data, size);
  text[size] = 0;

  struct cg_options a, b;
  size_t alen, blen;
  int na = parse(text, &a, 0x00, &alen);
  char *first = malloc(alen + 1);
  REQUIRE(first != NULL);
  memcpy(first, errs, alen);
  int nb = parse(text, &b, 0xff, &blen);

  REQUIRE(na >= 0);
  REQUIRE(na == nb);
  check_ranges(&a);
  check_ranges(&b);
  REQUIRE(same(&a, &b));
  REQUIRE(alen == blen && memcmp(first, errs, alen) == 0);
  free(first);

  /* the error lines */
  size_t lines = 0, start = 0;
  for (size_t i = 0; i < alen; i++) {
    if (errs[i] != '\n') continue;
    lines++;
    REQUIRE(i + 1 - start <= 600);
    start = i + 1;
  }
  REQUIRE(start == alen); /* the text ends with a newline (or is empty) */
  if (!strchr(text, '\n')) {
    REQUIRE(lines == (size_t)na);
    for (size_t i = 0; i < alen;) { /* each line names cgoguard */
      REQUIRE(alen - i >= 10 && memcmp(errs + i, "cgoguard: ", 10) == 0);
      while (errs[i] != '\n') i++;
      i++;
    }
  } else {
    REQUIRE(lines >= (size_t)na);
  }
  REQUIRE((na == 0) == (alen == 0));
  return 0;
}
