/* Pointer classifier: every class it reports, on real memory. */
#define _GNU_SOURCE
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "unit.h"

static char global_buf[64] = "writable global";
static const char *literal = "a string literal";

static void test_stack(void) {
  char local[32];
  struct cg_ptr_info info;
  cg_classify((uintptr_t)local + 4, &info);
  CHECK(info.cls == CG_PTR_STACK);
  CHECK(strcmp(cg_ptr_class_name(info.cls), "stack") == 0);
}

static void test_global_and_readonly(void) {
  struct cg_ptr_info info;
  cg_classify((uintptr_t)global_buf, &info);
  CHECK(info.cls == CG_PTR_GLOBAL);
  CHECK(strstr(info.module, "test_classify") != NULL);
  cg_classify((uintptr_t)literal, &info);
  CHECK(info.cls == CG_PTR_READONLY);
  CHECK(strstr(info.module, "test_classify") != NULL);
  cg_classify((uintptr_t)&test_stack, &info); /* code is read-only too */
  CHECK(info.cls == CG_PTR_READONLY);
}

static int find_loader(struct dl_phdr_info *i, size_t n, void *arg) {
  (void)n;
  if (i->dlpi_name && strstr(i->dlpi_name, "ld-linux")) {
    for (int k = 0; k < i->dlpi_phnum; k++)
      if (i->dlpi_phdr[k].p_type == PT_LOAD && (i->dlpi_phdr[k].p_flags & PF_W)) {
        *(uintptr_t *)arg = i->dlpi_addr + i->dlpi_phdr[k].p_vaddr;
        return 1;
      }
  }
  return 0;
}

static void test_loader_memory_is_not_ours(void) {
  uintptr_t p = 0;
  dl_iterate_phdr(find_loader, &p);
  CHECK(p != 0);
  struct cg_ptr_info info;
  cg_classify(p + 16, &info);
  CHECK(info.cls == CG_PTR_LOADER);
}

static void test_heap_interior(void) {
  char *block = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(block != MAP_FAILED);
  uintptr_t b = (uintptr_t)block + 256;
  CHECK(shadow_insert(b, cg_meta(CG_ST_LIVE, 3, 32)));
  struct cg_ptr_info info;
  cg_classify(b + 8, &info);
  CHECK(info.cls == CG_PTR_INTERIOR);
  CHECK(info.block == b && info.block_size == 32);
  cg_classify(b + 32, &info); /* one past the end: not inside */
  CHECK(info.cls != CG_PTR_INTERIOR);
  uint64_t m;
  cg_entry *e = shadow_find(b, &m);
  CHECK(e && shadow_update(e, b, m, cg_meta_with_state(m, CG_ST_QUARANTINED)));
  cg_classify(b + 31, &info);
  CHECK(info.cls == CG_PTR_FREED_INTERIOR);
  e = shadow_find(b, &m);
  CHECK(e && shadow_erase(e, b, m));
  cg_classify(b + 8, &info); /* an anonymous page nobody tracks */
  CHECK(info.cls == CG_PTR_UNKNOWN);
  munmap(block, 4096);
}

static void test_go_range_needs_a_go_binary(void) {
  /* Go's arena hint address, mapped by a C program: not Go memory here */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  SKIP("the sanitizers' shadow owns that address range");
#endif
  void *p = mmap((void *)0xc000000000ull, 4096, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) SKIP("could not map the Go arena hint address");
  struct cg_ptr_info info;
  cg_classify((uintptr_t)p + 8, &info);
  CHECK(info.cls == CG_PTR_UNKNOWN);
  munmap(p, 4096);
}

int main(void) {
  RUN(test_stack);
  RUN(test_global_and_readonly);
  RUN(test_loader_memory_is_not_ours);
  RUN(test_heap_interior);
  RUN(test_go_range_needs_a_go_binary);
  return UNIT_END();
}
