/* CGOGUARD_OPTIONS: key=value pairs joined by ':' (ASAN_OPTIONS style).
 * The parser is pure (no allocation, no globals) so it can run before the
 * heap is usable, and be unit-tested and fuzzed on its own. */
#include <unistd.h>

#include "internal.h"

#define CG_OPTIONS_DEFAULT                                                              \
  {                                                                                     \
    .mode = CG_MODE_ABORT, .log_format = CG_FORMAT_TEXT, .log_path = "stderr",          \
    .quarantine_bytes = 64ull << 20, .stack_depth = 32, .max_reports = -1,              \
    .poison_bytes = 256,                                                                \
    .verbosity = 0, .dedup = 1, .leak_report = 0, .leak_exitcode = 0, .symbolize = 1,   \
    .explain_faults = 1,                                                                \
  }

/* Valid before the constructor runs: entry points read it from the start. */
struct cg_options cg_opt = CG_OPTIONS_DEFAULT;

void cg_options_defaults(struct cg_options *o) { *o = (struct cg_options)CG_OPTIONS_DEFAULT; }

/* One error line: "cgoguard: <what> in CGOGUARD_OPTIONS: <accepted>". */
static void say(int fd, const char *a, const char *b, size_t blen, const char *c) {
  char line[600];
  size_t n = 0;
  const char *parts[3] = {a, b, c};
  /* a long item is cut short so the accepted values still fit */
  size_t lens[3] = {cg_strlen(a), blen < 160 ? blen : 160, cg_strlen(c)};
  for (int i = 0; i < 3; i++)
    for (size_t j = 0; j < lens[i] && n < sizeof line - 2; j++) /* one line, whatever the input */
      line[n++] = (unsigned char)parts[i][j] < 0x20 ? '?' : parts[i][j];
  line[n++] = '\n';
  if (fd >= 0) {
    ssize_t w = write(fd, line, n);
    (void)w;
  }
}

/* Parses a decimal in [lo, hi]; false on anything else. */
static bool parse_long(const char *v, size_t n, long lo, long hi, long *out) {
  long x = 0;
  bool neg = false;
  size_t i = 0;
  if (n > 0 && v[0] == '-') neg = true, i = 1;
  if (i == n) return false;
  for (; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') return false;
    if (x > (hi + 9) / 10 + 1) return false; /* far out of range: stop early */
    x = x * 10 + (v[i] - '0');
  }
  if (neg) x = -x;
  if (x < lo || x > hi) return false;
  *out = x;
  return true;
}

static bool is(const char *k, size_t n, const char *name) {
  return cg_strlen(name) == n && cg_strneq(k, name, n);
}

/* Applies one key=value; returns NULL, or the accepted values when the
 * value is bad.  Sets *known to false for an unknown key. */
static const char *apply(struct cg_options *o, const char *key, size_t klen, const char *val,
                         size_t vlen, bool *known) {
  long x;
  *known = true;
  if (is(key, klen, "mode")) {
    if (is(val, vlen, "abort")) o->mode = CG_MODE_ABORT;
    else if (is(val, vlen, "neutralize") || is(val, vlen, "neutralise")) o->mode = CG_MODE_NEUTRALIZE;
    else return "accepted: abort, neutralize (or neutralise); keeping abort";
  } else if (is(key, klen, "log_format")) {
    if (is(val, vlen, "text")) o->log_format = CG_FORMAT_TEXT;
    else if (is(val, vlen, "json")) o->log_format = CG_FORMAT_JSON;
    else return "accepted: text, json; keeping text";
  } else if (is(key, klen, "log_path")) {
    if (vlen == 0 || vlen >= sizeof o->log_path)
      return "accepted: stderr or a path of 1 to 511 bytes (%p becomes the pid)";
    cg_copy(o->log_path, val, vlen);
    o->log_path[vlen] = 0;
  } else if (is(key, klen, "quarantine_mb")) {
    if (!parse_long(val, vlen, 0, 1 << 20, &x)) return "accepted: an integer from 0 to 1048576 (MiB)";
    o->quarantine_bytes = (size_t)x << 20;
  } else if (is(key, klen, "poison_bytes")) {
    if (!parse_long(val, vlen, -1, 1L << 40, &x))
      return "accepted: -1 (the whole block), 0 (none) or a byte count up to 2^40; keeping 256";
    o->poison_bytes = x;
  } else if (is(key, klen, "stack_depth")) {
    if (!parse_long(val, vlen, 1, 256, &x)) return "accepted: an integer from 1 to 256";
    o->stack_depth = (int)x;
  } else if (is(key, klen, "max_reports")) {
    if (!parse_long(val, vlen, -1, 1000000000L, &x))
      return "accepted: -1 (unlimited) or an integer from 0 to 1000000000";
    o->max_reports = x;
  } else if (is(key, klen, "dedup")) {
    if (!parse_long(val, vlen, 0, 1, &x)) return "accepted: 0 or 1; keeping 1";
    o->dedup = (int)x;
  } else if (is(key, klen, "leak_report")) {
    if (!parse_long(val, vlen, 0, 1, &x)) return "accepted: 0 or 1; keeping 0";
    o->leak_report = (int)x;
  } else if (is(key, klen, "leak_exitcode")) {
    if (!parse_long(val, vlen, 0, 255, &x)) return "accepted: an integer from 0 to 255; keeping 0";
    o->leak_exitcode = (int)x;
  } else if (is(key, klen, "error_exitcode")) {
    if (!parse_long(val, vlen, 0, 255, &x)) return "accepted: an integer from 0 to 255; keeping 0";
    o->error_exitcode = (int)x;
  } else if (is(key, klen, "stats_path")) {
    if (vlen >= sizeof o->stats_path)
      return "accepted: a path of up to 511 bytes (%p becomes the pid), or empty for none";
    cg_copy(o->stats_path, val, vlen);
    o->stats_path[vlen] = 0;
  } else if (is(key, klen, "alloc_stacks")) {
    if (!parse_long(val, vlen, 0, 1, &x)) return "accepted: 0 or 1; keeping 0";
    o->alloc_stacks = (int)x;
  } else if (is(key, klen, "symbolize")) {
    if (!parse_long(val, vlen, 0, 1, &x)) return "accepted: 0 or 1; keeping 1";
    o->symbolize = (int)x;
  } else if (is(key, klen, "explain_faults")) {
    if (!parse_long(val, vlen, 0, 1, &x)) return "accepted: 0 or 1; keeping 1";
    o->explain_faults = (int)x;
  } else if (is(key, klen, "guard_sample")) {
    if (!parse_long(val, vlen, 0, 1000000000L, &x))
      return "accepted: 0 (off) or N from 1 to 1000000000 (about one small block in N); keeping 0";
    o->guard_sample = x;
  } else if (is(key, klen, "suppressions")) {
    if (vlen >= sizeof o->suppressions)
      return "accepted: a path of up to 511 bytes, or empty for none";
    cg_copy(o->suppressions, val, vlen);
    o->suppressions[vlen] = 0;
  } else if (is(key, klen, "verbosity")) {
    if (!parse_long(val, vlen, 0, 3, &x)) return "accepted: 0, 1, 2 or 3";
    o->verbosity = (int)x;
  } else {
    *known = false;
  }
  return NULL;
}

int cg_options_parse(const char *s, struct cg_options *o, int errfd) {
  int errors = 0;
  cg_options_defaults(o);
  while (s && *s) {
    const char *item = s;
    size_t len = 0;
    while (item[len] && item[len] != ':') len++;
    s = item[len] ? item + len + 1 : item + len;
    if (len == 0) continue; /* tolerate "a=1::b=2" and a trailing ':' */
    size_t klen = 0;
    while (klen < len && item[klen] != '=') klen++;
    if (klen == len) {
      say(errfd, "cgoguard: option '", item, len,
          "' has no value (CGOGUARD_OPTIONS takes key=value pairs joined by ':'); ignored");
      errors++;
      continue;
    }
    bool known;
    const char *accepted = apply(o, item, klen, item + klen + 1, len - klen - 1, &known);
    if (!known) {
      say(errfd, "cgoguard: unknown option '", item, klen,
          "' in CGOGUARD_OPTIONS; known: mode, log_path, log_format, quarantine_mb, poison_bytes, "
          "stack_depth, alloc_stacks, max_reports, dedup, leak_report, leak_exitcode, error_exitcode, stats_path, "
          "symbolize, explain_faults, guard_sample, suppressions, verbosity; "
          "ignored");
      errors++;
    } else if (accepted) {
      char msg[160] = "': ";
      size_t n = 3;
      for (const char *a = accepted; *a && n + 1 < sizeof msg; a++) msg[n++] = *a;
      msg[n] = 0;
      say(errfd, "cgoguard: bad value in CGOGUARD_OPTIONS '", item, len, msg);
      errors++;
    }
  }
  /* a sampled block's faults need the shim's handler: without it they
   * would kill the program with no report */
  if (o->guard_sample && !o->explain_faults) {
    say(errfd, "cgoguard: guard_sample needs explain_faults=1 (the shim's SIGSEGV handler)", "",
        0, "; guard_sample is off");
    o->guard_sample = 0;
    errors++;
  }
  return errors;
}
