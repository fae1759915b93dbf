/* Stack capture for reports, with libunwind.  Report path only: libunwind
 * allocates and calls string functions, which the re-entrancy guard
 * (cg_tls.depth) lets through unchecked. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <link.h>
#include <libunwind.h>
#include <unistd.h>

#include "internal.h"

static char exe_path[512];

/* The main program's dladdr name is "": use the real path instead. */
const char *cg_module_name(const char *dli_fname) {
  if (dli_fname && *dli_fname) return dli_fname;
  if (!exe_path[0]) {
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    if (n <= 0) return "<main>";
    exe_path[n] = 0;
  }
  return exe_path;
}

void cg_describe_pc(uintptr_t pc, struct cg_frame *f) {
  Dl_info di;
  struct link_map *map = NULL;
  f->pc = pc;
  f->function[0] = 0;
  f->offset = 0;
  f->module = "<unknown>";
  f->module_offset = pc;
  if (!dladdr1((void *)pc, &di, (void **)&map, RTLD_DL_LINKMAP)) return;
  /* the link map's name is "" for the main program (dladdr gives argv[0]) */
  f->module = cg_module_name(map ? map->l_name : di.dli_fname);
  f->module_offset = pc - (uintptr_t)di.dli_fbase;
  if (di.dli_sname && di.dli_saddr) {
    size_t i = 0;
    for (; di.dli_sname[i] && i + 1 < sizeof f->function; i++) f->function[i] = di.dli_sname[i];
    f->function[i] = 0;
    f->offset = pc - (uintptr_t)di.dli_saddr;
  }
}

static bool in_shim(uintptr_t pc) {
  static uintptr_t base;
  Dl_info di;
  if (!base && dladdr((void *)&in_shim, &di)) base = (uintptr_t)di.dli_fbase;
  return dladdr((void *)pc, &di) && (uintptr_t)di.dli_fbase == base;
}

int cg_unwind(struct cg_frame *frames, int max) {
  unw_context_t ctx;
  unw_cursor_t cur;
  int n = 0;
  if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0) return 0;
  bool skipping = true; /* drop the shim's own frames at the top */
  do {
    unw_word_t ip, off;
    if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    if (skipping && in_shim(ip)) continue;
    skipping = false;
    struct cg_frame *f = &frames[n];
    cg_describe_pc(ip, f);
    if (unw_get_proc_name(&cur, f->function, sizeof f->function, &off) == 0)
      f->offset = off;
    else if (!f->function[0])
      f->offset = 0;
    n++;
  } while (n < max && unw_step(&cur) > 0);
  return n;
}
