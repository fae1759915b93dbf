/* What happens at exit: repeat counts, the leak report, stats.
 *
 * A C program gets there through exit() and the shim's destructor.  A Go
 * program never does: it leaves through runtime.exit, an exit_group system
 * call, past every atexit handler and destructor.  So in a Go binary the
 * constructor (single-threaded, before any Go code runs) redirects
 * runtime.exit to the shim: it finds the function in the binary's symbol
 * table, checks that its code is exactly the 12 bytes Go has always
 * emitted for it on linux/amd64 (load the code argument, exit_group,
 * return) and replaces them with a jump of the same size.  Anything else
 * and nothing is patched: the exit-time reports are then just not written
 * for that program (one line says so at verbosity>=1). */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static _Atomic int exit_done;

/* Errors other than leaks detected (and not suppressed) since start. */
static bool errors_found(void) {
  for (int k = 0; k < CGOGUARD_KIND_COUNT; k++)
    if (k != CGOGUARD_LEAK && atomic_load(&cg_error_counts[k])) return true;
  return false;
}

int cg_exit_work(int status) {
  if (atomic_exchange(&exit_done, 1) || atomic_load(&cg_aborting)) return status;
  cg_report_repeats();
  if (cg_opt.leak_report && cg_leak_report() > 0 && cg_opt.leak_exitcode)
    status = cg_opt.leak_exitcode;
  if (cg_opt.error_exitcode && errors_found()) status = cg_opt.error_exitcode;
  cg_report_suppressions(); /* after the leak report, which may match some */
  cg_stats_write();
  return status;
}

/* ---- Go: runtime.exit -------------------------------------------------- */

/* mov 0x8(%rsp),%edi; mov $231,%eax; syscall; ret */
static const unsigned char go_exit_code[12] = {0x8b, 0x7c, 0x24, 0x08, 0xb8, 0xe7,
                                               0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3};

/* Used from the assembly below, hence not static, and marked used: the
 * link-time optimiser does not read the assembly. */
char *cg_exit_stack_top __attribute__((used));
int cg_go_exit_busy __attribute__((used));
_Noreturn void cg_go_exit(int code) __attribute__((used));
void cg_go_exit_entry(void);

/* Entered by a jump from runtime.exit, on a goroutine's (small) stack with
 * the exit code at 8(%rsp): the first thread here moves to the shim's own
 * stack and never returns; any other waits for the process to end. */
__asm__(".pushsection .text\n"
        ".type cg_go_exit_entry,@function\n"
        "cg_go_exit_entry:\n"
        "  movl 8(%rsp), %edi\n"
        "  movl $1, %eax\n"
        "  xchgl %eax, cg_go_exit_busy(%rip)\n"
        "  testl %eax, %eax\n"
        "  jnz 2f\n"
        "  movq cg_exit_stack_top(%rip), %rsp\n"
        "  call cg_go_exit\n"
        "2:\n"
        "  movl $24, %eax\n" /* sched_yield until the exit_group lands */
        "  syscall\n"
        "  jmp 2b\n"
        ".size cg_go_exit_entry, .-cg_go_exit_entry\n"
        ".popsection\n");

_Noreturn void cg_go_exit(int code) {
  sigset_t all;
  sigfillset(&all);
  /* Go's signals (preemption, profiling) must not land in shim code */
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof(uint64_t));
  code = cg_exit_work(code);
  for (;;) syscall(SYS_exit_group, code);
}

struct elf_view {
  const unsigned char *base;
  size_t size;
};

/* The address of symbol `name` in the main program's .symtab, 0 if none. */
static uintptr_t symtab_lookup(const struct elf_view *v, const char *name, uintptr_t load) {
  const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)(const void *)v->base;
  if (v->size < sizeof *eh || eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > v->size)
    return 0;
  const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(const void *)(v->base + eh->e_shoff);
  for (int i = 0; i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
    const ElfW(Shdr) *str = &sh[sh[i].sh_link];
    if (sh[i].sh_offset + sh[i].sh_size > v->size || str->sh_offset + str->sh_size > v->size)
      return 0;
    const ElfW(Sym) *sym = (const ElfW(Sym) *)(const void *)(v->base + sh[i].sh_offset);
    const char *names = (const char *)v->base + str->sh_offset;
    for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++) {
      if (sym[k].st_name >= str->sh_size || ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC) continue;
      if (cg_strneq(names + sym[k].st_name, name, cg_strlen(name) + 1))
        return (eh->e_type == ET_DYN ? load : 0) + sym[k].st_value;
    }
  }
  return 0;
}

static int main_program(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  *(struct dl_phdr_info *)arg = *info;
  return 1;
}

/* Why the hook could not be installed, or NULL. */
static const char *patch_go_exit(void) {
  struct dl_phdr_info main_info;
  dl_iterate_phdr(main_program, &main_info);
  if (!cg_phdr_is_go(&main_info)) return NULL; /* not Go: the destructor does it */
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    return "cannot read /proc/self/exe";
  }
  struct elf_view v = {mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0),
                       (size_t)st.st_size};
  close(fd);
  if (v.base == MAP_FAILED) return "cannot map /proc/self/exe";
  uintptr_t fn = symtab_lookup(&v, "runtime.exit.abi0", main_info.dlpi_addr);
  if (!fn) fn = symtab_lookup(&v, "runtime.exit", main_info.dlpi_addr);
  munmap((void *)v.base, v.size);
  if (!fn) return "runtime.exit not found in the symbol table (stripped binary?)";
  unsigned char *code = (unsigned char *)fn;
  for (int i = 0; i < 12; i++)
    if (code[i] != go_exit_code[i]) return "runtime.exit is not the code this shim knows";
  cg_exit_stack_top = cg_os_alloc(1 << 20);
  if (!cg_exit_stack_top) return "no memory for the exit stack";
  cg_exit_stack_top += (1 << 20) - 64;
  uintptr_t page = fn & ~(uintptr_t)4095, end = (fn + 12 + 4095) & ~(uintptr_t)4095;
  if (mprotect((void *)page, end - page, PROT_READ | PROT_WRITE | PROT_EXEC) != 0)
    return "cannot make runtime.exit writable";
  uintptr_t to = (uintptr_t)&cg_go_exit_entry;
  unsigned char jump[12] = {0x48, 0xb8}; /* movabs $to, %rax; jmp *%rax */
  for (int i = 0; i < 8; i++) jump[2 + i] = (unsigned char)(to >> (8 * i));
  jump[10] = 0xff, jump[11] = 0xe0;
  for (int i = 0; i < 12; i++) code[i] = jump[i];
  mprotect((void *)page, end - page, PROT_READ | PROT_EXEC);
  return NULL;
}

void cg_exit_hook_install(void) {
  const char *why = patch_go_exit();
  /* said whenever an option that needs the exit hook is on */
  if (why && (cg_opt.leak_report || cg_opt.leak_exitcode || cg_opt.error_exitcode ||
              cg_opt.suppressions[0] || cg_opt.stats_path[0] || cg_opt.verbosity >= 1)) {
    char line[384];
    size_t n = 0;
    for (const char *p = "cgoguard: exit-time work (leak report, leak_exitcode, error_exitcode, "
                         "suppression and repeat counts, stats file) is off for this Go program "
                         "(go test strips it: add -ldflags=-s=false): ";
         *p && n < 300; p++)
      line[n++] = *p;
    for (const char *p = why; *p && n < 382; p++) line[n++] = *p;
    line[n++] = '\n';
    cg_log_line(line, n);
  }
}
