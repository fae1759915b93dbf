/* Pointer classification: what a pointer that is not a live block start
 * points into.  Report-time only, so it may read /proc and walk modules;
 * it still never allocates (fixed buffers, raw read(2)). */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include "internal.h"

const char *cg_ptr_class_name(int cls) {
  static const char *const names[] = {
      [CG_PTR_UNKNOWN] = "unknown",   [CG_PTR_INTERIOR] = "interior",
      [CG_PTR_FREED_INTERIOR] = "freed-interior", [CG_PTR_STACK] = "stack",
      [CG_PTR_GLOBAL] = "global",     [CG_PTR_READONLY] = "readonly",
      [CG_PTR_GO] = "go",             [CG_PTR_LOADER] = "loader",
  };
  return cls >= 0 && cls <= CG_PTR_LOADER ? names[cls] : "unknown";
}

/* ---- heap blocks -------------------------------------------------------- */

struct containing {
  uintptr_t p, start;
  uint64_t meta;
  bool found;
};

static void check_block(uintptr_t key, uint64_t meta, void *arg) {
  struct containing *c = arg;
  uint64_t size = cg_meta_size(meta);
  if (c->p > key && c->p < key + (size ? size : 1) && (!c->found || key > c->start))
    c->start = key, c->meta = meta, c->found = true;
}

/* The block-start bitmap answers at once; a scan of the table (report
 * time only) covers the case where its reservation was refused. */
bool cg_find_containing_block(uintptr_t p, uintptr_t *start, uint64_t *meta) {
  struct cg_block b;
  if (cg_heap_block(p, &b) && p > b.start && p - b.start < b.size) {
    *start = b.start, *meta = b.meta;
    return true;
  }
  struct containing c = {.p = p};
  shadow_for_each(check_block, &c);
  if (c.found) *start = c.start, *meta = c.meta;
  return c.found;
}

/* ---- loaded modules ----------------------------------------------------- */

struct module_hit {
  uintptr_t p;
  int cls;
  bool main_is_go;
  bool first;
  char name[256];
  uintptr_t base;
};

static void copy_name(char *dst, size_t cap, const char *src) {
  size_t n = 0;
  while (src && src[n] && n + 1 < cap) dst[n] = src[n], n++;
  dst[n] = 0;
}

bool cg_phdr_is_go(struct dl_phdr_info *info) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const unsigned char *n = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
    const unsigned char *end = n + ph->p_memsz;
    while (n + sizeof(ElfW(Nhdr)) <= end) {
      const ElfW(Nhdr) *h = (const ElfW(Nhdr) *)(const void *)n;
      const char *name = (const char *)(h + 1);
      /* Go's linker writes the name "Go\0\0" with n_namesz 4 */
      if ((h->n_namesz == 3 || h->n_namesz == 4) && name[0] == 'G' && name[1] == 'o' && !name[2])
        return true;
      n += sizeof *h + ((h->n_namesz + 3) & ~3u) + ((h->n_descsz + 3) & ~3u);
    }
  }
  return false;
}

static bool is_loader(const char *path) {
  for (const char *s = path; *s; s++)
    if (cg_strneq(s, "/ld-linux", 9)) return true;
  return false;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct module_hit *m = arg;
  if (m->first) {
    m->first = false;
    m->main_is_go = cg_phdr_is_go(info);
  }
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (m->p < lo || m->p >= hi) continue;
    const char *name = info->dlpi_name;
    name = cg_module_name(name);
    copy_name(m->name, sizeof m->name, name);
    m->base = info->dlpi_addr;
    /* the loader's own data (its early minimal-malloc arena) is not ours */
    m->cls = is_loader(m->name)                 ? CG_PTR_LOADER
             : (ph->p_flags & PF_W)       ? CG_PTR_GLOBAL
                                          : CG_PTR_READONLY;
    return 1;
  }
  return 0;
}

/* ---- /proc/self/maps ---------------------------------------------------- */

static uintptr_t parse_hex(const char **s) {
  uintptr_t x = 0;
  for (;; (*s)++) {
    char c = **s;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return x;
    x = x << 4 | (uintptr_t)d;
  }
}

/* Finds the mapping holding p: its bounds and whether it is the main
 * stack, or an anonymous mapping. */
static bool find_mapping(uintptr_t p, uintptr_t *lo, uintptr_t *hi, bool *is_stack,
                         bool *anon) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096], line[512];
  size_t ll = 0;
  bool found = false;
  ssize_t n;
  while (!found && (n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n && !found; i++) {
      if (buf[i] != '\n') {
        if (ll + 1 < sizeof line) line[ll++] = buf[i];
        continue;
      }
      line[ll] = 0;
      ll = 0;
      const char *s = line;
      uintptr_t a = parse_hex(&s);
      if (*s != '-') continue;
      s++;
      uintptr_t b = parse_hex(&s);
      if (p < a || p >= b) continue;
      /* fields: perms offset dev inode path */
      int field = 0;
      const char *path = "";
      for (const char *q = s; *q; q++)
        if (*q == ' ' && q[1] != ' ' && ++field == 5) {
          path = q + 1;
          break;
        }
      *lo = a, *hi = b;
      *is_stack = cg_strneq(path, "[stack", 6);
      *anon = *path == 0;
      found = true;
    }
  }
  close(fd);
  return found;
}

/* Go (1.x, linux/amd64) places its heap, goroutine stacks included, at
 * arena hints 0x00c000000000, 0x01c000000000, ..., growing upward. */
static bool in_go_arena_range(uintptr_t p) {
  return p < (1ull << 47) && ((p >> 32) & 0xff) >= 0xc0;
}

void cg_classify(uintptr_t p, struct cg_ptr_info *info) {
  *info = (struct cg_ptr_info){.cls = CG_PTR_UNKNOWN};
  uintptr_t start;
  uint64_t meta;
  if (cg_find_containing_block(p, &start, &meta)) {
    info->cls = cg_meta_state(meta) == CG_ST_LIVE ? CG_PTR_INTERIOR : CG_PTR_FREED_INTERIOR;
    info->block = start;
    info->block_size = cg_meta_size(meta);
    info->block_meta = meta;
    return;
  }
  struct module_hit m = {.p = p, .first = true};
  dl_iterate_phdr(module_cb, &m);
  if (m.name[0]) {
    info->cls = m.cls;
    copy_name(info->module, sizeof info->module, m.name);
    info->module_base = m.base;
    return;
  }
  uintptr_t lo, hi, sp = (uintptr_t)__builtin_frame_address(0);
  bool is_stack, anon;
  if (find_mapping(p, &lo, &hi, &is_stack, &anon)) {
    if (is_stack || (sp >= lo && sp < hi)) info->cls = CG_PTR_STACK;
    else if (anon && m.main_is_go && in_go_arena_range(p)) info->cls = CG_PTR_GO;
  }
}
