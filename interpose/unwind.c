/* Stack capture for reports, with libunwind through the C frames and the
 * frame-pointer chain through the Go ones; names from symbolize.c.  Report
 * path only: libunwind allocates and calls string functions, which the
 * re-entrancy guard (cg_tls.depth) lets through unchecked. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <link.h>
#include <libunwind.h>
#include <sys/mman.h>
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

/* Module and exported name of pc (dladdr: no malloc); *bias: the module's
 * load bias, to look pc up in its file's symbol table. */
static void describe(uintptr_t pc, struct cg_frame *f, uintptr_t *bias, bool names) {
  Dl_info di;
  struct link_map *map = NULL;
  f->pc = pc;
  f->function[0] = 0;
  f->offset = 0;
  f->module = "<unknown>";
  f->module_offset = pc;
  *bias = 0;
  if (!dladdr1((void *)pc, &di, (void **)&map, RTLD_DL_LINKMAP)) return;
  /* the link map's name is "" for the main program (dladdr gives argv[0]) */
  f->module = cg_module_name(map ? map->l_name : di.dli_fname);
  f->module_offset = pc - (uintptr_t)di.dli_fbase;
  *bias = map ? map->l_addr : (uintptr_t)di.dli_fbase;
  if (names && di.dli_sname && di.dli_saddr) {
    size_t i = 0;
    for (; di.dli_sname[i] && i + 1 < sizeof f->function; i++) f->function[i] = di.dli_sname[i];
    f->function[i] = 0;
    f->offset = pc - (uintptr_t)di.dli_saddr;
  }
}

void cg_describe_pc(uintptr_t pc, struct cg_frame *f) {
  uintptr_t bias;
  describe(pc, f, &bias, cg_opt.symbolize);
}


/* ---- the shim's own code ----------------------------------------------- */

struct text_range {
  uintptr_t addr, lo, len;
};

static int find_text(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct text_range *t = arg;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && t->addr - lo < ph->p_memsz) {
      t->lo = lo, t->len = ph->p_memsz;
      return 1;
    }
  }
  return 0;
}

bool cg_text_of(uintptr_t addr, uintptr_t *lo, uintptr_t *len) {
  struct text_range t = {addr, 0, 0};
  dl_iterate_phdr(find_text, &t);
  *lo = t.lo, *len = t.len;
  return t.len != 0;
}

static uintptr_t shim_text_lo, shim_text_len;

bool cg_pc_in_shim(uintptr_t pc) {
  if (cg_unlikely(!__atomic_load_n(&shim_text_len, __ATOMIC_ACQUIRE))) {
    uintptr_t lo, len;
    cg_text_of((uintptr_t)&cg_pc_in_shim, &lo, &len);
    shim_text_lo = lo;
    __atomic_store_n(&shim_text_len, len, __ATOMIC_RELEASE);
  }
  return pc - shim_text_lo < shim_text_len;
}

/* ---- Go frames past the cgo boundary ------------------------------------ */

/* The main program's code, when it is a Go binary (its PT_NOTE "Go"). */
static uintptr_t go_text_lo, go_text_hi;
static int go_known; /* 0 not looked, 1 looked */

static int find_go_text(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size, (void)arg;
  if (cg_phdr_is_go(info))
    for (int i = 0; i < info->dlpi_phnum; i++) {
      const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
        go_text_lo = info->dlpi_addr + ph->p_vaddr;
        go_text_hi = go_text_lo + ph->p_memsz;
      }
    }
  return 1; /* the first entry is the main program */
}

static bool in_go_text(uintptr_t pc) {
  if (!go_known) {
    dl_iterate_phdr(find_go_text, NULL);
    go_known = 1;
  }
  return pc - go_text_lo < go_text_hi - go_text_lo;
}

/* A word of a goroutine stack, if mapped readable. */
static bool read_word(uintptr_t a, uintptr_t *v) {
  if (a & 7 || a < 4096) return false;
  int prot = cg_mem_prot(a, false);
  if (prot < 0 || !(prot & PROT_READ)) prot = cg_mem_prot(a, true);
  if (prot < 0 || !(prot & PROT_READ)) return false;
  *v = *(const uintptr_t *)a;
  return true;
}

/* Names a pc from its module's .symtab (static C functions, every Go
 * function), else its exported name; no malloc either way.  symbolize=0:
 * module+offset only, for scripts/cgoguard-symbolize to resolve later. */
static void name_pc(uintptr_t pc, struct cg_frame *f, bool names) {
  uintptr_t bias, off;
  describe(pc, f, &bias, names);
  char name[sizeof f->function];
  if (names && f->module[0] == '/' &&
      cg_symtab_name(f->module, pc - bias, name, sizeof name, &off)) {
    cg_copy(f->function, name, sizeof name);
    f->offset = off;
  }
}

/* libunwind stops where C was entered from Go (runtime.asmcgocall, which
 * has no CFI).  Go on amd64 keeps frame pointers, and asmcgocall leaves RBP
 * alone: the RBP libunwind recovered for that frame is runtime.cgocall's
 * frame pointer on the goroutine's stack.  Walk that chain: [bp+8] is a
 * return address into the caller, [bp] the caller's frame pointer.  Only
 * the frame-pointer convention of the Go ABI is relied on, no runtime
 * structure offsets.  Every word is checked readable first, the chain must
 * go up the stack, and the walk stops at the first pc outside Go code. */
static int go_pcs(uintptr_t bp, uintptr_t *pcs, int n, int max) {
  for (int steps = 0; n < max && steps < 1024; steps++) {
    uintptr_t pc, next;
    if (!read_word(bp + 8, &pc) || !read_word(bp, &next) || !in_go_text(pc)) break;
    pcs[n++] = pc;
    if (next <= bp || next - bp > (64u << 20)) break;
    bp = next;
  }
  return n;
}

int cg_unwind_pcs(uintptr_t *pcs, int max) {
  unw_context_t ctx;
  unw_cursor_t cur;
  int n = 0;
  if (max <= 0 || unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0) return 0;
  bool skipping = true; /* drop the shim's own frames at the top */
  unw_word_t ip = 0, bp = 0;
  do {
    if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    if (skipping && cg_tls.fault_pc) {
      /* the handler's frames and the signal trampoline: the stack starts
       * at the faulting instruction */
      if (ip != cg_tls.fault_pc) continue;
      skipping = false;
    }
    if (skipping && cg_pc_in_shim(ip)) continue;
    skipping = false;
    pcs[n++] = ip;
    if (unw_get_reg(&cur, UNW_X86_64_RBP, &bp) != 0) bp = 0;
  } while (n < max && unw_step(&cur) > 0);
  if (n == 0 && cg_tls.fault_pc) pcs[n++] = cg_tls.fault_pc; /* unwinding failed */
  if (n && n < max && bp && in_go_text(ip)) n = go_pcs(bp, pcs, n, max);
  return n;
}

void cg_describe_frame(uintptr_t pc, struct cg_frame *f) { name_pc(pc, f, cg_opt.symbolize); }
void cg_describe_named(uintptr_t pc, struct cg_frame *f) { name_pc(pc, f, true); }

/* ---- whole allocation and free stacks (alloc_stacks=1) ------------------- */

/* The depot id of the current stack (C frames by the cached CFA rules,
 * then Go's frame-pointer chain), the shim's own frames left out. */
uint32_t cg_stack_site(uintptr_t ret) {
  uintptr_t pcs[256 + 16], bp;
  int max = cg_opt.stack_depth, n = cg_fast_backtrace(pcs, max + 16, &bp);
  int skip = 0;
  while (skip < n && cg_pc_in_shim(pcs[skip])) skip++;
  if (skip == n) return cg_site_here(ret); /* nothing walkable past the shim */
  if (bp && n < max + 16 && in_go_text(pcs[n - 1])) {
    cg_tls.depth++;
    n = go_pcs(bp, pcs, n, max + skip);
    cg_tls.depth--;
  }
  return depot_put(pcs + skip, n - skip < max ? n - skip : max);
}
