/* CGOGUARD_OPTIONS parser: values, defaults, and one clear line per error. */
#include <unistd.h>

#include "internal.h"
#include "unit.h"

/* Parses s with errors captured; returns the error count, text in buf. */
static int parse(const char *s, struct cg_options *o, char *buf, size_t cap) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  int n = cg_options_parse(s, o, fds[1]);
  close(fds[1]);
  ssize_t r = read(fds[0], buf, cap - 1);
  buf[r > 0 ? r : 0] = 0;
  close(fds[0]);
  return n;
}

static int lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

static void test_defaults(void) {
  struct cg_options o;
  char buf[4096];
  CHECK(parse("", &o, buf, sizeof buf) == 0);
  CHECK(o.mode == CG_MODE_ABORT);
  CHECK(o.log_format == CG_FORMAT_TEXT);
  CHECK(cg_streq(o.log_path, "stderr"));
  CHECK(o.quarantine_bytes == 64ull << 20);
  CHECK(o.stack_depth == 32);
  CHECK(o.poison_bytes == 256);
  CHECK(o.max_reports == -1);
  CHECK(o.verbosity == 0);
  CHECK(o.dedup == 1 && o.leak_report == 0 && o.leak_exitcode == 0);
  CHECK(o.alloc_stacks == 0 && o.symbolize == 1 && o.stats_path[0] == 0);
  CHECK(o.suppressions[0] == 0 && o.error_exitcode == 0 && o.guard_sample == 0);
  CHECK(buf[0] == 0);
}

static void test_report_keys(void) {
  struct cg_options o;
  char buf[4096];
  CHECK(parse("dedup=0:leak_report=1:leak_exitcode=23:alloc_stacks=1:symbolize=0:"
              "stats_path=/var/lib/node/cg.%p.prom",
              &o, buf, sizeof buf) == 0);
  CHECK(o.dedup == 0 && o.leak_report == 1 && o.leak_exitcode == 23);
  CHECK(o.alloc_stacks == 1 && o.symbolize == 0);
  CHECK(cg_streq(o.stats_path, "/var/lib/node/cg.%p.prom"));
  CHECK(buf[0] == 0);
  /* each bad value: one line naming it, the default stands */
  CHECK(parse("leak_exitcode=300", &o, buf, sizeof buf) == 1 && o.leak_exitcode == 0);
  CHECK(strstr(buf, "'leak_exitcode=300'") && strstr(buf, "0 to 255") && lines(buf) == 1);
  CHECK(parse("dedup=yes", &o, buf, sizeof buf) == 1 && o.dedup == 1);
  CHECK(parse("alloc_stacks=2", &o, buf, sizeof buf) == 1 && o.alloc_stacks == 0);
  CHECK(parse("symbolize=", &o, buf, sizeof buf) == 1 && o.symbolize == 1);
  CHECK(parse("leak_report=-1", &o, buf, sizeof buf) == 1 && o.leak_report == 0);
  CHECK(parse("stats_path=", &o, buf, sizeof buf) == 0 && o.stats_path[0] == 0);
  CHECK(parse("guard_sample=1000", &o, buf, sizeof buf) == 0 && o.guard_sample == 1000);
  CHECK(parse("guard_sample=-1", &o, buf, sizeof buf) == 1 && o.guard_sample == 0);
  CHECK(strstr(buf, "'guard_sample=-1'") && strstr(buf, "one small block in N") && lines(buf) == 1);
  CHECK(parse("guard_sample=5:explain_faults=0", &o, buf, sizeof buf) == 1 && o.guard_sample == 0);
  CHECK(strstr(buf, "guard_sample needs explain_faults=1") && lines(buf) == 1);
  CHECK(parse("error_exitcode=66", &o, buf, sizeof buf) == 0 && o.error_exitcode == 66);
  CHECK(parse("error_exitcode=256", &o, buf, sizeof buf) == 1 && o.error_exitcode == 0);
  CHECK(strstr(buf, "'error_exitcode=256'") && strstr(buf, "0 to 255") && lines(buf) == 1);
  CHECK(parse("suppressions=/etc/cgoguard/known.supp", &o, buf, sizeof buf) == 0);
  CHECK(cg_streq(o.suppressions, "/etc/cgoguard/known.supp"));
  static char longpath[600] = "suppressions=";
  memset(longpath + 13, 'a', 530);
  CHECK(parse(longpath, &o, buf, sizeof buf) == 1 && o.suppressions[0] == 0);
  CHECK(strstr(buf, "up to 511 bytes") && lines(buf) == 1);
}

static void test_all_keys(void) {
  struct cg_options o;
  char buf[4096];
  CHECK(parse("mode=neutralize:log_path=/tmp/x.%p:log_format=json:quarantine_mb=8:"
              "stack_depth=5:max_reports=3:verbosity=2",
              &o, buf, sizeof buf) == 0);
  CHECK(o.mode == CG_MODE_NEUTRALIZE);
  CHECK(cg_streq(o.log_path, "/tmp/x.%p"));
  CHECK(o.log_format == CG_FORMAT_JSON);
  CHECK(o.quarantine_bytes == 8ull << 20);
  CHECK(o.stack_depth == 5);
  CHECK(o.max_reports == 3);
  CHECK(o.verbosity == 2);
  CHECK(parse("mode=neutralise", &o, buf, sizeof buf) == 0 && o.mode == CG_MODE_NEUTRALIZE);
  CHECK(parse("mode=abort::max_reports=-1:", &o, buf, sizeof buf) == 0 && o.max_reports == -1);
  CHECK(parse("quarantine_mb=0", &o, buf, sizeof buf) == 0 && o.quarantine_bytes == 0);
  CHECK(parse("poison_bytes=-1", &o, buf, sizeof buf) == 0 && o.poison_bytes == -1);
  CHECK(parse("poison_bytes=0", &o, buf, sizeof buf) == 0 && o.poison_bytes == 0);
  CHECK(parse("poison_bytes=4096", &o, buf, sizeof buf) == 0 && o.poison_bytes == 4096);
}

static void test_errors_name_the_problem(void) {
  struct cg_options o;
  char buf[4096];
  CHECK(parse("bogus=1", &o, buf, sizeof buf) == 1);
  CHECK(strstr(buf, "unknown option 'bogus'") && strstr(buf, "known: mode") && lines(buf) == 1);
  CHECK(parse("mode=explode", &o, buf, sizeof buf) == 1);
  CHECK(strstr(buf, "'mode=explode'") && strstr(buf, "abort, neutralize") && lines(buf) == 1);
  CHECK(o.mode == CG_MODE_ABORT); /* the default stands */
  CHECK(parse("quarantine_mb=lots", &o, buf, sizeof buf) == 1 && strstr(buf, "0 to 1048576"));
  CHECK(o.quarantine_bytes == 64ull << 20);
  CHECK(parse("stack_depth=0", &o, buf, sizeof buf) == 1 && strstr(buf, "1 to 256"));
  CHECK(parse("poison_bytes=-2", &o, buf, sizeof buf) == 1 && strstr(buf, "-1 (the whole block)"));
  CHECK(parse("poison_bytes=all", &o, buf, sizeof buf) == 1 && lines(buf) == 1);
  CHECK(o.poison_bytes == 256);
  CHECK(parse("stack_depth=99999999999999999999", &o, buf, sizeof buf) == 1);
  CHECK(parse("max_reports=-2", &o, buf, sizeof buf) == 1);
  CHECK(parse("log_format=xml", &o, buf, sizeof buf) == 1 && strstr(buf, "text, json"));
  CHECK(parse("verbosity=", &o, buf, sizeof buf) == 1);
  CHECK(parse("mode", &o, buf, sizeof buf) == 1 && strstr(buf, "has no value"));
  CHECK(parse("log_path=", &o, buf, sizeof buf) == 1);
  /* several errors: one line each, good keys still applied */
  CHECK(parse("a=1:mode=neutralize:b=2", &o, buf, sizeof buf) == 2 && lines(buf) == 2);
  CHECK(o.mode == CG_MODE_NEUTRALIZE);
}

static void test_long_and_odd_input(void) {
  struct cg_options o;
  char buf[8192], big[3000];
  for (size_t i = 0; i < sizeof big - 1; i++) big[i] = 'k';
  big[sizeof big - 1] = 0;
  CHECK(parse(big, &o, buf, sizeof buf) == 1 && lines(buf) == 1);
  char path[600] = "log_path=";
  for (int i = 9; i < 599; i++) path[i] = 'p';
  path[599] = 0;
  CHECK(parse(path, &o, buf, sizeof buf) == 1); /* too long a path is refused */
  CHECK(cg_streq(o.log_path, "stderr"));
  CHECK(parse(":::", &o, buf, sizeof buf) == 0);
  CHECK(parse("=1", &o, buf, sizeof buf) == 1);
}

int main(void) {
  RUN(test_defaults);
  RUN(test_all_keys);
  RUN(test_report_keys);
  RUN(test_errors_name_the_problem);
  RUN(test_long_and_odd_input);
  return UNIT_END();
}
