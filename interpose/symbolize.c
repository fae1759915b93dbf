/* Function names for report frames from the modules' own symbol tables
 * (.symtab: static C functions and every Go function; dladdr only knows the
 * exported ones), without malloc: each module file is mapped read-only the
 * first time one of its frames is named, and its symbols are scanned in
 * place.  Report path only (a scan is linear in the module's symbols). */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MODULES 128

struct module {
  char path[256];
  bool tried;
  const ElfW(Sym) *syms;
  size_t nsyms;
  const char *strs;
  size_t strsz;
};

static struct module modules[MODULES];
static int nmodules;
static cg_lock lock;

static void copy_path(char *dst, size_t cap, const char *src) {
  size_t n = 0;
  while (src[n] && n + 1 < cap) dst[n] = src[n], n++;
  dst[n] = 0;
}

/* Maps the file and finds its .symtab (kept mapped for later frames). */
static void load(struct module *m) {
  m->tried = true;
  int fd = open(m->path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0) return;
  if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(ElfW(Ehdr))) {
    close(fd);
    return;
  }
  size_t size = (size_t)st.st_size;
  const unsigned char *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (base == MAP_FAILED) return;
  const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)(const void *)base;
  bool ok = eh->e_ident[EI_MAG0] == ELFMAG0 && eh->e_ident[EI_MAG1] == ELFMAG1 &&
            eh->e_ident[EI_MAG2] == ELFMAG2 && eh->e_ident[EI_MAG3] == ELFMAG3 &&
            eh->e_ident[EI_CLASS] == ELFCLASS64 &&
            eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) <= size;
  const ElfW(Shdr) *sh = ok ? (const ElfW(Shdr) *)(const void *)(base + eh->e_shoff) : NULL;
  for (int i = 0; ok && i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
    const ElfW(Shdr) *str = &sh[sh[i].sh_link];
    if (sh[i].sh_offset + sh[i].sh_size > size || str->sh_offset + str->sh_size > size) break;
    m->syms = (const ElfW(Sym) *)(const void *)(base + sh[i].sh_offset);
    m->nsyms = sh[i].sh_size / sizeof(ElfW(Sym));
    m->strs = (const char *)base + str->sh_offset;
    m->strsz = str->sh_size;
    return;
  }
  munmap((void *)base, size);
}

static struct module *module_of(const char *path) {
  for (int i = 0; i < nmodules; i++)
    if (cg_streq(modules[i].path, path)) return &modules[i];
  if (nmodules == MODULES) return NULL;
  struct module *m = &modules[nmodules++];
  copy_path(m->path, sizeof m->path, path);
  return m;
}

/* The function holding `addr` (a pc minus the module's load bias) in the
 * .symtab of the module file at `path`: its name into out, the offset. */
bool cg_symtab_name(const char *path, uintptr_t addr, char *out, size_t cap, uintptr_t *off) {
  bool found = false;
  cg_lock_acquire(&lock);
  struct module *m = module_of(path);
  if (m && !m->tried) load(m);
  if (m && m->syms) {
    const ElfW(Sym) *best = NULL;
    for (size_t i = 0; i < m->nsyms; i++) {
      const ElfW(Sym) *s = &m->syms[i];
      if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
          s->st_name >= m->strsz || s->st_value > addr)
        continue;
      if (addr - s->st_value < s->st_size) { /* inside it: the answer */
        best = s;
        break;
      }
      if (s->st_size == 0 && (!best || s->st_value > best->st_value)) best = s; /* sizeless asm */
    }
    if (best) {
      copy_path(out, cap, m->strs + best->st_name);
      *off = addr - best->st_value;
      found = true;
    }
  }
  cg_lock_release(&lock);
  return found;
}
