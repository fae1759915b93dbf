/* libFuzzer target: the suppressions file parser and template matcher
 * (cg_supp_parse, cg_supp_match).
 *
 * The input is parsed as a whole file.  Checked:
 *  - at most the allowed number of rules; each has a valid kind, a
 *    non-empty pattern with no newline, blank or NUL inside the input's copy, and
 *    a line number within the input's lines;
 *  - the error count equals the number of error lines written (each starts
 *    with "cgoguard: suppressions file " and is at most 800 bytes);
 *  - cg_supp_match agrees with a dynamic-programming reference matcher on every
 *    rule's pattern against every line of the input and a few fixed names.
 * Any violation aborts (libFuzzer reports it as a crash with the input). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define REQUIRE(cond)                                                    \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "fuzz_suppress: invariant failed: %s\n", #cond);   \
      abort();                                                           \
    }                                                                    \
  } while (0)

static int errfd = -1;
static char errs[1 << 20];
static char text[CG_SUPP_MAX_BYTES + 1], orig[CG_SUPP_MAX_BYTES + 1];

/* '*' any run: [p, pe) against [s, se) in full, by dynamic programming
 * (a different method from the shim's backtracking). */
static bool glob(const char *p, const char *pe, const char *s, const char *se) {
  size_t pn = (size_t)(pe - p), sn = (size_t)(se - s);
  static bool row[2][CG_SUPP_MAX_BYTES + 2];
  /* row[i % 2][j]: p[i..] matches s[j..] */
  for (size_t j = 0; j <= sn; j++) row[pn % 2][j] = j == sn;
  for (size_t i = pn; i-- > 0;) {
    bool *cur = row[i % 2], *nxt = row[(i + 1) % 2];
    cur[sn] = p[i] == '*' && nxt[sn];
    for (size_t j = sn; j-- > 0;)
      cur[j] = p[i] == '*' ? (nxt[j] || cur[j + 1]) : (p[i] == s[j] && nxt[j + 1]);
  }
  return row[0][0];
}

/* The documented semantics: '^' / '$' anchor, otherwise anywhere. */
static bool reference(const char *pat, const char *s) {
  size_t pn = strlen(pat), sn = strlen(s);
  bool head = pn && pat[0] == '^', tail = pn && pat[pn - 1] == '$';
  const char *p = pat + head, *pe = pat + pn - tail;
  if (p > pe) p = pe; /* "^" alone... and "$" alone: empty core */
  for (size_t a = 0; a <= sn; a++) {
    if (head && a) break;
    for (size_t b = a; b <= sn; b++) {
      if (tail && b != sn) continue;
      if (glob(p, pe, s + a, s + b)) return true;
    }
  }
  return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  errfd = memfd_create("fuzz_suppress_errors", MFD_CLOEXEC);
  REQUIRE(errfd >= 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0; /* the reference is quadratic */
  memcpy(text, data, size);
  memcpy(orig, data, size);
  orig[size] = 0;
  static struct cg_supp_rule rules[CG_SUPP_MAX_RULES];
  REQUIRE(ftruncate(errfd, 0) == 0 && lseek(errfd, 0, SEEK_SET) == 0);
  int errors = -1;
  int n = cg_supp_parse(text, size, "f", rules, 8, errfd, &errors);
  off_t end = lseek(errfd, 0, SEEK_CUR);
  REQUIRE(end >= 0 && (size_t)end < sizeof errs);
  REQUIRE(pread(errfd, errs, (size_t)end, 0) == end);

  int nlines = 1;
  for (size_t i = 0; i < size; i++) nlines += data[i] == '\n';
  REQUIRE(n >= 0 && n <= 8 && errors >= 0);
  for (int i = 0; i < n; i++) {
    REQUIRE(rules[i].kind == CG_SUPP_ANY_KIND ||
            (rules[i].kind >= 0 && rules[i].kind < CGOGUARD_KIND_COUNT));
    REQUIRE(rules[i].pattern >= text && rules[i].pattern < text + size);
    REQUIRE(rules[i].pattern[0] != 0 && strlen(rules[i].pattern) <= size);
    REQUIRE(!strchr(rules[i].pattern, '\n'));
    REQUIRE(!strchr(rules[i].pattern, ' ') && !strchr(rules[i].pattern, '\t'));
    REQUIRE(rules[i].line >= 1 && rules[i].line <= nlines);
    REQUIRE(i == 0 || rules[i].line > rules[i - 1].line);
  }
  int lines = 0;
  for (size_t i = 0, start = 0; i < (size_t)end; i++) {
    if (errs[i] != '\n') continue;
    REQUIRE(i - start <= 800);
    REQUIRE(i - start >= 28 && memcmp(errs + start, "cgoguard: suppressions file ", 28) == 0);
    lines++;
    start = i + 1;
  }
  REQUIRE(lines == errors);

  /* the matcher against the reference */
  static const char *names[] = {"", "main.main", "/usr/lib/x86_64-linux-gnu/libz.so.1", "h_free",
                                "a*b", "^$"};
  for (int i = 0; i < n; i++) {
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
      REQUIRE(cg_supp_match(rules[i].pattern, names[k]) == reference(rules[i].pattern, names[k]));
    for (char *l = orig; l && *l;) {
      char *nl = strchr(l, '\n');
      if (nl) *nl = 0;
      if (strlen(l) <= 256)
        REQUIRE(cg_supp_match(rules[i].pattern, l) == reference(rules[i].pattern, l));
      if (nl) *nl = '\n';
      l = nl ? nl + 1 : NULL;
    }
  }
  return 0;
}
