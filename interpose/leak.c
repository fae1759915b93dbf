/* The leak report (leak_report=1): at exit, the blocks still live, grouped
 * by allocation site (a whole stack with alloc_stacks=1), largest first,
 * one `leak` report per site.
 *
 * Blocks that a correct program leaves allocated on purpose are left out:
 * those allocated by the dynamic loader (thread TLS), by libc, libstdc++,
 * libunwind or jemalloc for themselves, and by the Go runtime's own cgo
 * plumbing (x_cgo_* / _cgo_* functions other than the _Cfunc_ wrappers that
 * user calls such as C.CString and C.malloc go through).  No reachability
 * analysis: a block still pointed to from a global is reported too. */
#include "internal.h"

#define GROUPS (1u << 16) /* distinct sites; more are folded into the last */

struct group {
  uint32_t site;
  uint32_t blocks;
  uint64_t bytes;
  uintptr_t example;
};

static struct group *groups;

static void count_block(uintptr_t key, uint64_t meta, void *arg) {
  (void)arg;
  if (cg_meta_state(meta) != CG_ST_LIVE) return;
  uint32_t site = cg_meta_site(meta);
  uint64_t size = cg_block_size(key, meta);
  for (uint32_t i = site * 2654435761u, probes = 0; probes < GROUPS; i++, probes++) {
    struct group *g = &groups[i & (GROUPS - 1)];
    if (g->blocks && g->site != site) continue;
    if (!g->blocks) g->site = site, g->example = key;
    g->blocks++;
    g->bytes += size;
    return;
  }
}

static bool has(const char *s, const char *part) {
  for (size_t n = cg_strlen(part); *s; s++)
    if (cg_strneq(s, part, n)) return true;
  return false;
}

/* Allocated by a runtime for itself, not by the program's code. */
static bool runtime_owned(uint32_t site) {
  uintptr_t pc;
  if (!site || depot_get(site, &pc, 1) != 1) return false;
  struct cg_frame f;
  cg_describe_frame(pc, &f);
  const char *m = f.module;
  for (const char *c = f.module; *c; c++)
    if (*c == '/') m = c + 1;
  if (cg_strneq(m, "ld-linux", 8) || cg_strneq(m, "libc.so", 7) ||
      cg_strneq(m, "libstdc++.so", 12) || cg_strneq(m, "libunwind", 9) ||
      cg_strneq(m, "libjemalloc", 11) || cg_strneq(m, "libgcc_s", 8))
    return true;
  const char *fn = f.function;
  return (cg_strneq(fn, "x_cgo_", 6) || cg_strneq(fn, "_cgo_", 5)) && !has(fn, "_Cfunc_");
}

int cg_leak_report(void) {
  size_t bytes = sizeof(struct group) * GROUPS;
  cg_tls.depth++;
  if (!groups) groups = cg_os_alloc(bytes);
  int reported = 0;
  if (groups) {
    shadow_for_each(count_block, NULL);
    /* largest first: a selection over the few groups there are */
    for (;;) {
      struct group *best = NULL;
      for (uint32_t i = 0; i < GROUPS; i++) {
        struct group *g = &groups[i];
        if (g->blocks && (!best || g->bytes > best->bytes)) best = g;
      }
      if (!best) break;
      if (!runtime_owned(best->site) &&
          cg_report_leak(best->example, best->site, best->blocks, best->bytes))
        reported++;
      best->blocks = 0;
    }
  }
  cg_tls.depth--;
  return reported;
}
