/* In-process names from a module's .symtab: a static function of this very
 * test, found by address, with the right offset; misses stay misses. */
#define _GNU_SOURCE
#include <link.h>
#include <unistd.h>

#include "internal.h"
#include "unit.h"

static __attribute__((noinline)) int a_static_function(int x) { return x * 3 + 1; }
static int (*volatile keep)(int) = a_static_function;

static int first(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  *(uintptr_t *)arg = info->dlpi_addr;
  return 1;
}

static void test_static_function_by_address(void) {
  char exe[512];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  CHECK(n > 0);
  if (n <= 0) return;
  exe[n] = 0;
  uintptr_t bias = 0, off = 99;
  dl_iterate_phdr(first, &bias);
  char name[128];
  uintptr_t fn = (uintptr_t)keep;
  CHECK(cg_symtab_name(exe, fn + 3 - bias, name, sizeof name, &off));
  CHECK(cg_streq(name, "a_static_function") && off == 3);
  /* twice: the module stays mapped, same answer */
  CHECK(cg_symtab_name(exe, fn - bias, name, sizeof name, &off) && off == 0);
  CHECK(!cg_symtab_name("/nonexistent/module.so", 0x1000, name, sizeof name, &off));
  CHECK(!cg_symtab_name(exe, 1, name, sizeof name, &off)); /* below every function */
}

int main(void) {
  RUN(test_static_function_by_address);
  return UNIT_END();
}
