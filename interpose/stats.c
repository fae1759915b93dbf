/* Counters for programs (cgoguard_get_stats) and for node_exporter's
 * textfile collector (stats_path=FILE, Prometheus text format), written at
 * exit and on SIGUSR2.
 *
 * Block counts come from one pass over the shadow table when asked, so the
 * hot paths pay nothing for them; allocations are counted per thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "internal.h"

static void count_block(uintptr_t key, uint64_t meta, void *arg) {
  struct cgoguard_stats *s = arg;
  uint64_t size = cg_block_size(key, meta);
  if (cg_meta_state(meta) == CG_ST_LIVE) s->live_blocks++, s->live_bytes += size;
  else s->quarantined_blocks++, s->quarantined_bytes += size;
}

CG_EXPORT int cgoguard_get_stats(struct cgoguard_stats *out, size_t size) {
  if (!out || size < sizeof *out) return -1;
  struct cgoguard_stats s = {0};
  s.version = CGOGUARD_STATS_VERSION;
  for (int k = 0; k < CGOGUARD_KIND_COUNT; k++) s.errors[k] = atomic_load(&cg_error_counts[k]);
  shadow_for_each(count_block, &s);
  s.allocations = cg_allocations();
  *out = s;
  return 0;
}

/* ---- the Prometheus file ------------------------------------------------ */

struct text {
  char *buf;
  size_t n, cap;
};

static void add(struct text *t, const char *s) {
  while (*s && t->n < t->cap) t->buf[t->n++] = *s++;
}
static void add_u64(struct text *t, uint64_t v) {
  char d[24];
  int i = 24;
  do d[--i] = (char)('0' + v % 10);
  while (v /= 10);
  for (; i < 24 && t->n < t->cap; i++) t->buf[t->n++] = d[i];
}
static void metric(struct text *t, const char *name, const char *type, const char *help,
                   uint64_t v) {
  add(t, "# HELP "), add(t, name), add(t, " "), add(t, help), add(t, "\n# TYPE "), add(t, name);
  add(t, " "), add(t, type), add(t, "\n"), add(t, name), add(t, " "), add_u64(t, v), add(t, "\n");
}

/* stats_path with %p expanded: "<path>" and "<path>.tmp" for the rename. */
static void stats_file(char *dst, size_t cap, bool tmp) {
  size_t n = 0;
  char pid[24];
  int pl = 0;
  for (int v = getpid(); v; v /= 10) pid[pl++] = (char)('0' + v % 10);
  for (const char *s = cg_opt.stats_path; *s && n + 12 < cap; s++) {
    if (s[0] == '%' && s[1] == 'p') {
      for (int i = pl - 1; i >= 0; i--) dst[n++] = pid[i];
      s++;
    } else {
      dst[n++] = *s;
    }
  }
  if (tmp) dst[n++] = '.', dst[n++] = 't', dst[n++] = 'm', dst[n++] = 'p';
  dst[n] = 0;
}

/* Writes the file whole, then renames it into place: a scraper never
 * reads half of it.  No malloc and no stdio: it runs in a signal handler. */
void cg_stats_write(void) {
  if (!cg_opt.stats_path[0]) return;
  static char buf[8192];
  struct cgoguard_stats s;
  cg_tls.depth++;
  cgoguard_get_stats(&s, sizeof s);
  struct text t = {buf, 0, sizeof buf};
  add(&t, "# HELP cgoguard_errors_total Memory errors detected, by kind (reported or not; "
          "suppressed ones not).\n"
          "# TYPE cgoguard_errors_total counter\n");
  for (int k = 0; k < CGOGUARD_KIND_COUNT; k++) {
    add(&t, "cgoguard_errors_total{kind=\""), add(&t, cgoguard_kind_name(k)), add(&t, "\"} ");
    add_u64(&t, s.errors[k]), add(&t, "\n");
  }
  add(&t, "# HELP cgoguard_suppressed_total Memory errors a suppressions rule matched, by kind.\n"
          "# TYPE cgoguard_suppressed_total counter\n");
  for (int k = 0; k < CGOGUARD_KIND_COUNT; k++) {
    add(&t, "cgoguard_suppressed_total{kind=\""), add(&t, cgoguard_kind_name(k)), add(&t, "\"} ");
    add_u64(&t, atomic_load(&cg_suppressed_counts[k])), add(&t, "\n");
  }
  metric(&t, "cgoguard_live_blocks", "gauge", "Blocks allocated and not freed.", s.live_blocks);
  metric(&t, "cgoguard_live_bytes", "gauge", "Bytes in blocks allocated and not freed.",
         s.live_bytes);
  metric(&t, "cgoguard_quarantine_blocks", "gauge", "Freed blocks held in quarantine.",
         s.quarantined_blocks);
  metric(&t, "cgoguard_quarantine_bytes", "gauge", "Bytes of freed blocks held in quarantine.",
         s.quarantined_bytes);
  metric(&t, "cgoguard_allocations_total", "counter", "Blocks allocated since start.",
         s.allocations);
  char path[600], tmp[600];
  stats_file(path, sizeof path, false);
  stats_file(tmp, sizeof tmp, true);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd >= 0) {
    bool ok = write(fd, buf, t.n) == (ssize_t)t.n;
    ok &= close(fd) == 0;
    if (ok) rename(tmp, path);
    else unlink(tmp);
  }
  cg_tls.depth--;
}
