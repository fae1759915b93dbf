/* Suppressions: the template matcher, the file parser (one clear line per
 * bad line) and matching a rule against the frames of a real stack. */
#include <unistd.h>

#include "internal.h"
#include "unit.h"

static void test_match(void) {
  CHECK(cg_supp_match("foo", "foo"));
  CHECK(cg_supp_match("foo", "xfooy"));           /* unanchored: anywhere */
  CHECK(!cg_supp_match("foo", "fo"));
  CHECK(cg_supp_match("^foo", "foobar"));
  CHECK(!cg_supp_match("^foo", "xfoo"));
  CHECK(cg_supp_match("bar$", "foobar"));
  CHECK(!cg_supp_match("bar$", "barx"));
  CHECK(cg_supp_match("^main.run$", "main.run"));
  CHECK(!cg_supp_match("^main.run$", "main.runner"));
  CHECK(cg_supp_match("lib*.so", "/usr/lib/libvendor.so.1"));
  CHECK(cg_supp_match("^/usr/*/libz*", "/usr/lib/x86_64-linux-gnu/libz.so.1"));
  CHECK(!cg_supp_match("^/opt/*/libz*", "/usr/lib/libz.so.1"));
  CHECK(cg_supp_match("a*b*c", "xxaxxbxxcxx"));
  CHECK(!cg_supp_match("a*b*c", "xxaxxcxxbxx"));
  CHECK(cg_supp_match("^a*c$", "abcabc"));     /* backtracks past the first c */
  CHECK(!cg_supp_match("^a*c$", "abcab"));
  CHECK(cg_supp_match("*", ""));
  CHECK(!cg_supp_match("x", ""));
}

/* Parses text (copied: the parser cuts lines in place); errors in buf. */
static int parse(const char *text, struct cg_supp_rule *r, int max, int *errors, char *buf,
                 size_t cap) {
  static char copy[4096];
  size_t n = strlen(text);
  memcpy(copy, text, n + 1);
  int fds[2];
  if (pipe(fds) != 0) return -1;
  int k = cg_supp_parse(copy, n, "supp.txt", r, max, fds[1], errors);
  close(fds[1]);
  ssize_t got = read(fds[0], buf, cap - 1);
  buf[got > 0 ? got : 0] = 0;
  close(fds[0]);
  return k;
}

static int lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

static void test_parse(void) {
  struct cg_supp_rule r[8];
  char err[2048];
  int errors;
  int n = parse("# known bugs\n"
                "\n"
                "double-free:known_bad_free\n"
                "  heap-overread:libvendor.so  \r\n"
                "leak:^main.loadConfig$\n"
                "*:libbroken.so",
                r, 8, &errors, err, sizeof err);
  CHECK(n == 4 && errors == 0 && err[0] == 0);
  CHECK(r[0].kind == CGOGUARD_DOUBLE_FREE && strcmp(r[0].pattern, "known_bad_free") == 0);
  CHECK(r[0].line == 3);
  CHECK(r[1].kind == CGOGUARD_HEAP_OVERREAD && strcmp(r[1].pattern, "libvendor.so") == 0);
  CHECK(r[2].kind == CGOGUARD_LEAK && strcmp(r[2].pattern, "^main.loadConfig$") == 0);
  CHECK(r[3].kind == CG_SUPP_ANY_KIND && strcmp(r[3].pattern, "libbroken.so") == 0);
  CHECK(r[3].line == 6);

  n = parse("dobule-free:x\nno colon here\nleak:\nuse-after-free:ok\n", r, 8, &errors, err,
            sizeof err);
  CHECK(n == 1 && errors == 3 && lines(err) == 3);
  CHECK(r[0].kind == CGOGUARD_USE_AFTER_FREE && r[0].line == 4);
  CHECK(strstr(err, "'supp.txt' line 1: unknown kind") && strstr(err, "'dobule-free'"));
  CHECK(strstr(err, "stack-buffer-overflow, *)")); /* names what is accepted */
  CHECK(strstr(err, "'supp.txt' line 2: expected kind:pattern, got 'no colon here'"));
  CHECK(strstr(err, "line 3: expected kind:pattern, got 'leak:'"));

  n = parse("leak:a\nleak:b\nleak:c\n", r, 2, &errors, err, sizeof err);
  CHECK(n == 2 && errors == 1 && strstr(err, "line 3: too many rules"));

  /* blanks after the colon are dropped; inside a pattern they are an error
   * (no name has one: it would be a rule that never matches) */
  n = parse("leak:  foo\nleak:foo # FOO-1\n", r, 8, &errors, err, sizeof err);
  CHECK(n == 1 && strcmp(r[0].pattern, "foo") == 0);
  CHECK(errors == 1 && strstr(err, "line 2: a pattern cannot hold blanks") &&
        strstr(err, "'leak:foo # FOO-1'"));
  /* a NUL byte is not text */
  static const char nul[] = "leak:a\0b\nleak:c\n";
  static char copy[sizeof nul];
  memcpy(copy, nul, sizeof nul);
  int fds[2];
  CHECK(pipe(fds) == 0);
  n = cg_supp_parse(copy, sizeof nul - 1, "supp.txt", r, 8, fds[1], &errors);
  close(fds[1]);
  ssize_t got = read(fds[0], err, sizeof err - 1);
  err[got > 0 ? got : 0] = 0;
  close(fds[0]);
  CHECK(n == 1 && strcmp(r[0].pattern, "c") == 0 && r[0].line == 2);
  CHECK(errors == 1 && strstr(err, "line 1: the line holds a NUL byte"));
}

/* A stack as the unwinder gives it: a pc inside suppress_victim, then its
 * return address in test_find (the unit test's own frames are "the shim's"
 * to cg_unwind_pcs, which would leave them out). */
__attribute__((noinline)) static int suppress_victim(uintptr_t *pcs, int max) {
  (void)max;
  pcs[0] = (uintptr_t)&suppress_victim + 4;
  pcs[1] = (uintptr_t)__builtin_return_address(0);
  __asm__ volatile("" ::: "memory");
  return 2;
}

static void test_find(void) {
  uintptr_t pcs[32];
  int n = suppress_victim(pcs, 32);
  CHECK(n == 2);
  struct cg_supp_rule r[8];
  char err[512];
  int errors;
  int k = parse("heap-overflow:suppress_victim\n"
                "double-free:^suppress_vict$\n"
                "double-free:test_suppress\n"
                "leak:^suppress_victim$\n",
                r, 8, &errors, err, sizeof err);
  CHECK(k == 4 && errors == 0);
  /* a function name */
  CHECK(cg_supp_find(r, k, CGOGUARD_HEAP_OVERFLOW, pcs, n) == &r[0]);
  CHECK(cg_supp_find(r, k, CGOGUARD_LEAK, pcs, n) == &r[3]);
  /* no rule of that kind */
  CHECK(cg_supp_find(r, k, CGOGUARD_HEAP_OVERREAD, pcs, n) == NULL);
  /* an anchored pattern that names no frame does not match; the module does */
  CHECK(cg_supp_find(r, k, CGOGUARD_DOUBLE_FREE, pcs, n) == &r[2]);
  /* any kind */
  k = parse("*:^suppress_victim$\n", r, 8, &errors, err, sizeof err);
  CHECK(cg_supp_find(r, k, CGOGUARD_NULL_POINTER, pcs, n) == &r[0]);
  /* the caller's frame counts too */
  k = parse("*:^test_find$\n", r, 8, &errors, err, sizeof err);
  CHECK(cg_supp_find(r, k, CGOGUARD_NULL_POINTER, pcs, n) == &r[0]);
  /* nothing on the stack */
  k = parse("*:^no_such_function$\n", r, 8, &errors, err, sizeof err);
  CHECK(cg_supp_find(r, k, CGOGUARD_NULL_POINTER, pcs, n) == NULL);
}

/* The loaded rules (suppressions=FILE): decisions, counts and the cache. */
static void test_loaded(void) {
  char path[] = "/tmp/cg-supp-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  const char *text = "double-free:^suppress_victim$\nleak:*\n";
  CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
  struct cg_options saved = cg_opt;
  strcpy(cg_opt.suppressions, path);
  cg_suppressions_load();
  unlink(path);
  CHECK(cg_suppressions_active());
  uintptr_t pcs[2] = {(uintptr_t)&test_loaded + 4, 0};
  uintptr_t victim[2];
  int n = suppress_victim(victim, 2);
  /* no rule names test_loaded: twice, the second from the cache */
  CHECK(!cg_suppressed(CGOGUARD_DOUBLE_FREE, pcs, 1));
  CHECK(!cg_suppressed(CGOGUARD_DOUBLE_FREE, pcs, 1));
  /* the same stack, another kind: another decision */
  CHECK(cg_suppressed(CGOGUARD_LEAK, pcs, 1));
  CHECK(cg_suppressed(CGOGUARD_DOUBLE_FREE, victim, n));
  CHECK(cg_suppressed(CGOGUARD_DOUBLE_FREE, victim, n));
  const struct cg_supp_rule *used[4];
  CHECK(cg_suppressions_used(used, 4) == 2);
  CHECK(atomic_load(&used[0]->hits) == 2 && used[0]->line == 1);
  CHECK(atomic_load(&used[1]->hits) == 1 && used[1]->line == 2);
  CHECK(atomic_load(&cg_suppressed_counts[CGOGUARD_DOUBLE_FREE]) == 2);
  CHECK(atomic_load(&cg_suppressed_counts[CGOGUARD_LEAK]) == 1);
  cg_opt = saved;
}

int main(void) {
  RUN(test_match);
  RUN(test_parse);
  RUN(test_find);
  RUN(test_loaded);
  return UNIT_END();
}
