/* printf format walker: every narrow %s is found with the right argument
 * number, precision and va_list slot; anything odd gives -1 and no call. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <wchar.h>

#include "internal.h"
#include "unit.h"

#define MAXREC 16
static struct cg_fmt_str rec[MAXREC];
static bool rec_slot_ok[MAXREC]; /* *slot held s during the callback */
static int nrec;
static char out[512];
static void *regs_lo, *regs_hi; /* the walker's caller's register save area */

static void record(const struct cg_fmt_str *a, void *ctx) {
  (void)ctx;
  if (nrec < MAXREC) {
    rec[nrec] = *a;
#if defined(__x86_64__)
    rec_slot_ok[nrec] = a->slot && *a->slot == a->s;
#else
    rec_slot_ok[nrec] = a->slot == NULL;
#endif
  }
  nrec++;
}

/* Walks fmt with this call's arguments, then prints them with the same
 * (unconsumed) list into `out`. */
static int walk(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
#if defined(__x86_64__)
  regs_lo = ap->reg_save_area;
  regs_hi = (char *)ap->reg_save_area + 48;
#endif
  nrec = 0;
  out[0] = 0;
  int n = cg_format_strings(fmt, ap, record, NULL);
  if (n >= 0) vsnprintf(out, sizeof out, fmt, ap);
  va_end(ap);
  return n;
}

/* As walk, with a chosen callback and no printing. */
static int walk_with(cg_fmt_str_fn fn, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  nrec = 0;
  int n = cg_format_strings(fmt, ap, fn, NULL);
  va_end(ap);
  return n;
}

static bool in_regs(const char **slot) {
  return (void *)slot >= regs_lo && (void *)slot < regs_hi;
}

/* Each callback's slot held exactly the pointer it reported. */
static bool slots_ok(void) {
  for (int i = 0; i < nrec && i < MAXREC; i++)
    if (!rec_slot_ok[i]) return false;
  return true;
}

static void test_plain(void) {
  const char *w = "world";
  CHECK(walk("hello %s!", w) == 1);
  CHECK(nrec == 1 && rec[0].s == w && rec[0].precision == -1 && rec[0].index == 1);
  CHECK(slots_ok());
  CHECK(strcmp(out, "hello world!") == 0);
  CHECK(walk("") == 0 && nrec == 0);
  CHECK(walk("no conversions %% here") == 0 && nrec == 0);
}

static void test_mixed(void) {
  const char *a = "a", *b = "b", *c = "c", *d = "d";
  int nn = 0;
  void *p = &nn;
  CHECK(walk("%d %s %ld %s %lld %f %s %Lf %c %p %n%% %s", 1, a, 2L, b, 3LL, 1.5, c,
             2.5L, 'x', p, &nn, d) == 4);
  CHECK(nrec == 4);
  CHECK(rec[0].s == a && rec[0].index == 2);
  CHECK(rec[1].s == b && rec[1].index == 4);
  CHECK(rec[2].s == c && rec[2].index == 7);
  CHECK(rec[3].s == d && rec[3].index == 12);
  CHECK(slots_ok());
  CHECK(strncmp(out, "1 a 2 b 3 1.500000 c 2.500000 x 0x", 34) == 0);
  CHECK(strstr(out, "% d") != NULL && nn > 0);
}

static void test_precision_and_width(void) {
  CHECK(walk("%.3s|%.*s|%*s|%-10.5s|%.s|%.0s|%.*s", "abcdef", 2, "xyz", 4, "w", "longer",
             "e", "f", -4, "neg") == 7);
  CHECK(nrec == 7);
  CHECK(rec[0].precision == 3 && rec[0].index == 1);
  CHECK(rec[1].precision == 2 && rec[1].index == 3);
  CHECK(rec[2].precision == -1 && rec[2].index == 5);
  CHECK(rec[3].precision == 5 && rec[3].index == 6);
  CHECK(rec[4].precision == 0 && rec[5].precision == 0);
  CHECK(rec[6].precision == -1 && rec[6].index == 10 && strcmp(rec[6].s, "neg") == 0);
  CHECK(strcmp(out, "abc|xy|   w|longe     |||neg") == 0);
  CHECK(walk("%+ #0'I8.2f %-*.*s", 3.14159, 6, 2, "abc") == 1);
  CHECK(rec[0].index == 4 && rec[0].precision == 2);
  CHECK(slots_ok());
}

static void test_length_modifiers(void) {
  CHECK(walk("%hhd %hd %zu %jd %td %s %lc %Lf %llx %qd %Zd %Lg %s", 1, 2, (size_t)3,
             (intmax_t)4, (ptrdiff_t)5, "x", (wint_t)L'y', 1.0L, 6ULL, 7LL, (size_t)8,
             2.0L, "z") == 2);
  CHECK(nrec == 2 && rec[0].index == 6 && rec[1].index == 13);
  CHECK(strcmp(rec[0].s, "x") == 0 && strcmp(rec[1].s, "z") == 0);
  CHECK(strcmp(out, "1 2 3 4 5 x y 1.000000 6 7 8 2 z") == 0);
  CHECK(slots_ok());
  CHECK(walk("%hs %js %zs %Ls", "a", "b", "c", "d") == 4); /* still narrow */
  CHECK(walk("%o %u %x %X %i %e %E %F %g %G %a %A %C %s", 1, 2, 3, 4, 5, 1.0, 2.0, 3.0,
             4.0, 5.0, 6.0, 7.0, (wint_t)L'c', "end") == 1);
  CHECK(rec[0].index == 14 && strcmp(rec[0].s, "end") == 0);
#ifdef __GLIBC_PREREQ
#if __GLIBC_PREREQ(2, 35)
  CHECK(walk("%b %B %s", 5, 2, "bin") == 1 && rec[0].index == 3);
  CHECK(strcmp(out, "101 10 bin") == 0);
#endif
#endif
}

static void test_wide_and_m(void) {
  const char *n = "narrow";
  CHECK(walk("%ls %s %S %lls", L"wide", n, L"W", L"ll") == 1);
  CHECK(nrec == 1 && rec[0].s == n && rec[0].index == 2);
  CHECK(strcmp(out, "wide narrow W ll") == 0);
  errno = EINVAL;
  CHECK(walk("%m %s %-20m|%s", "a", "b") == 2);
  CHECK(rec[0].index == 1 && rec[1].index == 2);
  CHECK(slots_ok());
}

/* One named argument: five variadic pointers fit in registers, then memory. */
static void test_overflow_area(void) {
  const char *s[8] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};
  CHECK(walk("%d %d %d %s %s %s %s %s", 1, 2, 3, s[0], s[1], s[2], s[3], s[4]) == 5);
  CHECK(nrec == 5 && rec[4].s == s[4] && rec[4].index == 8);
  CHECK(slots_ok());
  CHECK(strcmp(out, "1 2 3 s0 s1 s2 s3 s4") == 0);
#if defined(__x86_64__)
  CHECK(in_regs(rec[0].slot) && in_regs(rec[1].slot));
  CHECK(!in_regs(rec[2].slot) && !in_regs(rec[4].slot));
  CHECK(rec[3].slot == rec[2].slot + 1 && rec[4].slot == rec[3].slot + 1);
#endif
  /* ten doubles: the last two share the overflow area with pointers */
  CHECK(walk("%f %s %f %s %f %f %f %s %f %f %f %s %f %s %f %s %s", 1.0, s[0], 2.0, s[1],
             3.0, 4.0, 5.0, s[2], 6.0, 7.0, 8.0, s[3], 9.0, s[4], 10.0, s[5], s[6]) == 7);
  CHECK(nrec == 7 && rec[5].s == s[5] && rec[6].s == s[6] && rec[6].index == 17);
  CHECK(slots_ok());
  CHECK(strcmp(out, "1.000000 s0 2.000000 s1 3.000000 4.000000 5.000000 s2 6.000000 "
                    "7.000000 8.000000 s3 9.000000 s4 10.000000 s5 s6") == 0);
#if defined(__x86_64__)
  CHECK(in_regs(rec[4].slot) && !in_regs(rec[5].slot));
  CHECK(rec[6].slot == rec[5].slot + 1);
#endif
  /* long doubles live in memory too */
  CHECK(walk("%Lf %d %d %d %d %d %s %Lf %s", 1.0L, 1, 2, 3, 4, 5, s[0], 2.0L, s[1]) == 2);
  CHECK(rec[0].s == s[0] && rec[1].s == s[1] && rec[1].index == 9);
  CHECK(slots_ok());
}

static void test_positional(void) {
  const char *x = "x", *y = "yy", *z = "zzz";
  CHECK(walk("%2$s %1$d", 5, x) == 1);
  CHECK(nrec == 1 && rec[0].s == x && rec[0].index == 2 && slots_ok());
  CHECK(strcmp(out, "x 5") == 0);
  CHECK(walk("%1$s %1$s", x) == 2); /* the same argument twice */
  CHECK(rec[0].index == 1 && rec[1].index == 1 && rec[0].slot == rec[1].slot);
  CHECK(walk("%3$s %2$s %1$s", x, y, z) == 3); /* callbacks in format order */
  CHECK(rec[0].s == z && rec[1].s == y && rec[2].s == x);
  CHECK(strcmp(out, "zzz yy x") == 0);
  CHECK(walk("%3$.*1$s|%2$*1$s|%4$.*5$s", 2, y, z, x, -1) == 3);
  CHECK(rec[0].precision == 2 && rec[0].index == 3);
  CHECK(rec[1].precision == -1 && rec[1].index == 2);
  CHECK(rec[2].precision == -1 && rec[2].index == 4);
  CHECK(strcmp(out, "zz|yy|x") == 0);
  CHECK(walk("%1$d %3$s", 1, 2, z) == 1 && rec[0].s == z); /* gap read as int */
  CHECK(walk("%1$s %1$p %2$m%%", x) == 1);
  CHECK(walk("%1$f %2$Lf %3$d %4$d %5$d %6$d %7$d %8$d %9$s %10$s", 1.0, 2.0L, 3, 4, 5,
             6, 7, 8, x, y) == 2);
  CHECK(rec[0].s == x && rec[1].s == y && rec[1].index == 10 && slots_ok());
}

static void test_malformed(void) {
  static const char *bad[] = {
      "%",  "abc %",   "%y",     "%s %y",   "%1$s %s", "%s %1$s", "%*1$d",  "%1$*d",
      "%*5d", "%0$s",  "%65$s",  "%5%%hk",  "%.-3s",   "%w32d",   "%1$s %1$d", "%1$*1$s",
      "%99999999999s", "%.99999999999s", "%lZd", "%s%",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int n = walk(bad[i], "a", "b", "c");
    if (n != -1 || nrec != 0) printf("  %s -> %d\n", bad[i], n);
    CHECK(n == -1 && nrec == 0);
  }
  char many[300];
  for (int i = 0; i < 65; i++) many[2 * i] = '%', many[2 * i + 1] = 'd';
  many[130] = 0;
  CHECK(walk(many) == -1 && nrec == 0); /* more than 64 arguments */
  CHECK(walk_with(record, NULL) == -1 && nrec == 0);
}

/* Overwrites the slot of every %s whose pointer is `victim`, then prints
 * with the ORIGINAL list: what a neutralising hook does. */
static const char *victim;
static void replace(const struct cg_fmt_str *a, void *ctx) {
  if (a->s == victim && a->slot) *a->slot = (const char *)ctx;
}
static int rewrite(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = cg_format_strings(fmt, ap, replace, "(safe)");
  vsnprintf(out, sizeof out, fmt, ap);
  va_end(ap);
  return n;
}

static void test_slot_rewrite(void) {
#if !defined(__x86_64__)
  SKIP("slots are only known on x86-64");
#endif
  char bad[] = "bad";
  victim = bad;
  CHECK(rewrite("%s|%d|%s", bad, 7, "ok") == 2);
  CHECK(strcmp(out, "(safe)|7|ok") == 0);
  CHECK(rewrite("%d %d %d %d %d %d %d %s %f %s", 1, 2, 3, 4, 5, 6, 7, bad, 0.5, bad) == 2);
  CHECK(strcmp(out, "1 2 3 4 5 6 7 (safe) 0.500000 (safe)") == 0);
  CHECK(rewrite("%f %f %f %f %f %f %f %f %f %s %s %s %s %s %s", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0,
                7.0, 8.0, 9.0, "a", "b", "c", "d", "e", bad) == 6);
  CHECK(strcmp(out, "1.000000 2.000000 3.000000 4.000000 5.000000 6.000000 7.000000 "
                    "8.000000 9.000000 a b c d e (safe)") == 0);
  CHECK(rewrite("%2$s %1$.2s %3$s", bad, "ok", bad) == 3);
  CHECK(strcmp(out, "ok (s (safe)") == 0);
}

static void test_null_callback(void) {
  CHECK(walk_with(NULL, "%s %d %s", "a", 1, "b") == 2); /* just counts */
}

int main(void) {
  RUN(test_plain);
  RUN(test_mixed);
  RUN(test_precision_and_width);
  RUN(test_length_modifiers);
  RUN(test_wide_and_m);
  RUN(test_overflow_area);
  RUN(test_positional);
  RUN(test_malformed);
  RUN(test_slot_rewrite);
  RUN(test_null_callback);
  return UNIT_END();
}
