/* libFuzzer target: the printf format walker, cg_format_strings().
 *
 * The input (NUL-terminated at its first NUL) is the format.  It is walked
 * through a variadic helper called with NARGS pointer arguments, each
 * pointing to its own 16-byte string "<#NNN#>" (NNN: the argument number,
 * zero-padded): every 8-byte slot of the va_list's integer register save
 * area and overflow area therefore holds a valid pointer, so whatever the
 * walker fetches (%s, %p, %n, %d, '*' widths, and long doubles, which take
 * at most 24 bytes each of the 64 arguments it tracks) stays inside the
 * arguments passed.
 *
 * Checked, for every format:
 *  - the walker returns -1 (and made no callback) or the number of
 *    callbacks it made;
 *  - each callback: argument index 1..64, precision >= -1, a slot that is
 *    8-byte aligned and inside the helper's register save area (integer
 *    part) or its overflow area, *slot == s, and s is exactly the pointer
 *    passed in that slot;
 *  - differential against glibc, when glibc can print the format cheaply
 *    and deterministically (no '*', no number longer than 3 digits, no 'n'
 *    byte at all, so %n cannot rewrite a string first): vsnprintf with the
 *    same arguments succeeds and its output holds the string of every %s
 *    the walker reported with no precision or a precision >= 7 -- i.e. the
 *    walker and glibc agree on which argument each %s takes.
 * Any violation aborts (libFuzzer reports it as a crash with the input). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NARGS 200 /* 5 in registers (fmt takes the first), 195 on the stack */
#define MAXCB 64

static char strbuf[NARGS][16] __attribute__((aligned(16)));
static const char *strs[NARGS];
static char *fmtbuf;
static size_t fmt_cap;

#define REQUIRE(cond)                                                    \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "fuzz_format: invariant failed: %s (format '%s')\n", #cond, fmtbuf); \
      abort();                                                           \
    }                                                                    \
  } while (0)

struct walk_state {
  const char *gp_lo, *gp_hi; /* integer register save area in use */
  const char *ov_lo, *ov_hi; /* overflow (stack) argument area */
  int ncb;
  int index[MAXCB];
  long prec[MAXCB];
  int arg[MAXCB]; /* which of strs[] the slot held */
};
static struct walk_state W;

/* Which argument (0-based) lives in slot, or -1 when it is outside both areas. */
static int arg_of_slot(const char **slot) {
  const char *s = (const char *)slot;
  if (((uintptr_t)s & 7) != 0) return -1;
  if (s >= W.gp_lo && s < W.gp_hi) return (int)((s - W.gp_lo) / 8);
  if (s >= W.ov_lo && s < W.ov_hi) return 5 + (int)((s - W.ov_lo) / 8);
  return -1;
}

static void callback(const struct cg_fmt_str *a, void *ctx) {
  REQUIRE(ctx == &W);
  REQUIRE(a->index >= 1 && a->index <= 64);
  REQUIRE(a->precision >= -1);
  REQUIRE(a->slot != NULL);
  int k = arg_of_slot(a->slot);
  REQUIRE(k >= 0 && k < NARGS);
  REQUIRE(*a->slot == a->s);
  REQUIRE(a->s == strs[k]);
  if (W.ncb < MAXCB) {
    W.index[W.ncb] = a->index;
    W.prec[W.ncb] = a->precision;
    W.arg[W.ncb] = k;
  }
  W.ncb++;
}

static char out[1 << 16];

/* Whether glibc's result can be compared (see the top). */
static bool glibc_comparable(const char *f) {
  int digits = 0;
  for (; *f; f++) {
    if (*f == '*' || *f == 'n') return false;
    digits = *f >= '0' && *f <= '9' ? digits + 1 : 0;
    if (digits > 3) return false;
  }
  return true;
}

__attribute__((noinline)) static int walk(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  W.ncb = 0;
#if defined(__x86_64__)
  W.gp_lo = (const char *)ap->reg_save_area + ap->gp_offset;
  W.gp_hi = (const char *)ap->reg_save_area + 48;
  W.ov_lo = (const char *)ap->overflow_arg_area;
  W.ov_hi = W.ov_lo + 8 * (NARGS - 5);
  REQUIRE(ap->gp_offset == 8);
#else
#error "x86-64 only: the harness checks va_list slots"
#endif
  int n = cg_format_strings(fmt, ap, callback, &W);
  if (n < 0) {
    REQUIRE(n == -1);
    REQUIRE(W.ncb == 0);
  } else {
    REQUIRE(n == W.ncb);
    if (glibc_comparable(fmt)) {
      va_list c;
      va_copy(c, ap);
      int r = vsnprintf(out, sizeof out, fmt, c);
      va_end(c);
      if (r >= 0 && (size_t)r < sizeof out) {
        for (int i = 0; i < W.ncb && i < MAXCB; i++) {
          if (W.prec[i] >= 0 && W.prec[i] < 7) continue;
          if (!memmem(out, (size_t)r, strs[W.arg[i]], 7)) {
            fprintf(stderr,
                    "fuzz_format: %%s #%d (argument %d) names \"%s\", which glibc did not print; "
                    "glibc printed \"%.300s\"\n",
                    i + 1, W.index[i], strs[W.arg[i]], out);
            REQUIRE(!"glibc printed the walker's string");
          }
        }
      }
    }
  }
  va_end(ap);
  return n;
}

#define A(i) strs[i]
#define A10(b)                                                                              \
  A(b + 0), A(b + 1), A(b + 2), A(b + 3), A(b + 4), A(b + 5), A(b + 6), A(b + 7), A(b + 8), \
      A(b + 9)
#define A100(b)                                                                          \
  A10(b + 0), A10(b + 10), A10(b + 20), A10(b + 30), A10(b + 40), A10(b + 50), A10(b + 60), \
      A10(b + 70), A10(b + 80), A10(b + 90)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  for (int i = 0; i < NARGS; i++) strs[i] = strbuf[i];
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size + 1 > fmt_cap) {
    free(fmtbuf);
    fmt_cap = size + 1;
    fmtbuf = malloc(fmt_cap);
    REQUIRE(fmtbuf != NULL);
  }
  memcpy(fmtbuf, data, size);
  fmtbuf[size] = 0;
  /* fresh strings every time (glibc's %n may have written into them) */
  for (int i = 0; i < NARGS; i++) {
    memset(strbuf[i], 0, sizeof strbuf[i]);
    snprintf(strbuf[i], sizeof strbuf[i], "<#%03d#>", i);
  }
  walk(fmtbuf, A100(0), A100(100));
  return 0;
}
