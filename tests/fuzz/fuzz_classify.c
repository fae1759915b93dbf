/* libFuzzer target: the pointer classifier, cg_classify().
 *
 * cg_classify() runs at report time on the pointer a program gave to free;
 * it looks the pointer up in the block table and the block-start bitmap,
 * walks the loaded modules and reads /proc/self/maps.  It must never fault
 * and must never dereference the pointer.  To make a dereference visible,
 * the tracked "heap" blocks live in a PROT_NONE mapping (and some in
 * address space nobody mapped): any read of them is a SIGSEGV.
 *
 * Base state (made once): a PROT_NONE arena with tracked blocks of many
 * sizes, live and quarantined, and three blocks at unmapped addresses (one
 * with a size past the table's size field, CG_SIZE_HUGE).  Each input is a
 * list of 10-byte commands: op, anchor, and a signed 64-bit offset:
 *   op % 4 == 0..2: classify anchor + offset and check the answer;
 *   op % 4 == 3:    track a new block there (16-byte aligned, its size from
 *                   the op's high bits), if it overlaps nothing; it is
 *                   removed again at the end of the input, so every input
 *                   starts from the same table (stale start bits aside,
 *                   which the bitmap tolerates by design).
 * Anchors: 0 (absolute), the arena, one of its blocks, this frame's stack
 * buffer, a global, a string literal, code, the loader's data, a malloc'd
 * block, Go's first arena hint, the top of user space, the unmapped blocks.
 *
 * Checked for every classified address p:
 *  - cls is a known class, cg_ptr_class_name() is not "unknown" unless cls
 *    is, and module[] is NUL-terminated;
 *  - interior / freed-interior exactly when p is strictly inside a tracked
 *    block (start < p < start + size), with that block's start, size and
 *    state; never otherwise;
 *  - global / readonly / loader name a module; the global and the literal
 *    get global and readonly; this frame's stack buffer is stack;
 *  - sallocx() is only ever asked about a tracked block's start. */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define REQUIRE(cond)                                                               \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "fuzz_classify: invariant failed: %s (p=%#lx cls=%d)\n", #cond, \
              (unsigned long)cur_p, cur_cls);                                       \
      abort();                                                                      \
    }                                                                               \
  } while (0)

static uintptr_t cur_p;
static int cur_cls = -1;

#define ARENA_BYTES (8u << 20)
#define MAX_BLOCKS 4096

struct blk {
  uintptr_t start;
  uint64_t size;  /* requested size */
  uint64_t usable; /* what "jemalloc" would say: size rounded up to 16 */
  bool live;
};
static struct blk blocks[MAX_BLOCKS];
static int nblocks, nbase;
static uintptr_t arena;

static const struct blk *block_at(uintptr_t s) {
  for (int i = 0; i < nblocks; i++)
    if (blocks[i].start == s) return &blocks[i];
  return NULL;
}

/* jemalloc's usable size, for tracked block starts only (anything else
 * would be undefined behaviour in jemalloc). */
size_t sallocx(const void *p, int flags) {
  (void)flags;
  const struct blk *b = block_at((uintptr_t)p);
  REQUIRE(b != NULL && "sallocx on an address that is not a tracked block start");
  return b->usable;
}

static bool overlaps(uintptr_t s, uint64_t usable) {
  for (int i = 0; i < nblocks; i++)
    if (s < blocks[i].start + blocks[i].usable && blocks[i].start < s + usable) return true;
  return false;
}

static bool track(uintptr_t s, uint64_t size, bool live) {
  uint64_t usable = size ? (size + 15) & ~15ull : 16;
  if (nblocks == MAX_BLOCKS || s == 0 || (s & 15) || s >> 47 || usable < size ||
      (1ull << 47) - s < usable || overlaps(s, usable))
    return false;
  if (!shadow_insert(s, cg_meta(live ? CG_ST_LIVE : CG_ST_QUARANTINED, 7, size))) return false;
  heapmap_add(s, usable);
  blocks[nblocks++] = (struct blk){s, size, usable, live};
  return true;
}

static void untrack_to(int n) {
  while (nblocks > n) {
    struct blk *b = &blocks[--nblocks];
    uint64_t m;
    cg_entry *e = shadow_find(b->start, &m);
    REQUIRE(e != NULL);
    REQUIRE(shadow_erase(e, b->start, m));
    heapmap_remove(b->start);
  }
}

static char global_buf[256] = "a writable global";
static const char *const literal = "a string literal in .rodata, long enough to aim into";
static uintptr_t loader_data, malloced;

static int find_loader(struct dl_phdr_info *i, size_t n, void *arg) {
  (void)n, (void)arg;
  if (i->dlpi_name && strstr(i->dlpi_name, "ld-linux"))
    for (int k = 0; k < i->dlpi_phnum; k++)
      if (i->dlpi_phdr[k].p_type == PT_LOAD && (i->dlpi_phdr[k].p_flags & PF_W))
        loader_data = i->dlpi_addr + i->dlpi_phdr[k].p_vaddr;
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  void *a = mmap(NULL, ARENA_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (a == MAP_FAILED) abort();
  arena = (uintptr_t)a;
  /* blocks of many sizes, live and quarantined, packed and spread */
  static const uint64_t sizes[] = {0, 1, 7, 8, 15, 16, 17, 24, 31, 32, 48, 100, 255, 256,
                                   1000, 4095, 4096, 4097, 20000, 65536, 100000, 1 << 20};
  uintptr_t at = arena + 4096;
  for (unsigned r = 0; r < 3; r++)
    for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
      uint64_t size = sizes[(i * 7 + r * 5) % (sizeof sizes / sizeof *sizes)];
      if (!track(at, size, (i + r) % 3 != 0)) abort();
      at += (size ? (size + 15) & ~15ull : 16) + (i % 4 == 0 ? 0 : 16 * (i % 5) + 4096 * (r == 1));
      if (at > arena + ARENA_BYTES - (2u << 20)) break;
    }
  /* blocks where nothing is mapped (never touched by a correct classifier) */
  if (!track(0x100000000000ull, 4096, true) || !track(0x100000001000ull, 64, false) ||
      !track(0x300000000000ull, (1ull << 37) + 4096, true))
    abort();
  nbase = nblocks;
  dl_iterate_phdr(find_loader, NULL);
  malloced = (uintptr_t)malloc(64);
  return 0;
}

static void check(uintptr_t p, uintptr_t stack_lo, uintptr_t stack_hi) {
  struct cg_ptr_info info;
  memset(&info, 0x5a, sizeof info);
  cur_p = p;
  cur_cls = -1;
  cg_classify(p, &info);
  cur_cls = info.cls;
#ifdef FUZZ_TRACE
  fprintf(stderr, "classify %#lx -> %s %s\n", (unsigned long)p, cg_ptr_class_name(info.cls),
          info.cls == CG_PTR_UNKNOWN ? "" : info.module);
#endif
  REQUIRE(info.cls >= CG_PTR_UNKNOWN && info.cls <= CG_PTR_LOADER);
  REQUIRE((strcmp(cg_ptr_class_name(info.cls), "unknown") == 0) == (info.cls == CG_PTR_UNKNOWN));
  REQUIRE(memchr(info.module, 0, sizeof info.module) != NULL);

  /* a size past the table's size field is jemalloc's usable size */
  const struct blk *in = NULL;
  for (int i = 0; i < nblocks; i++) {
    uint64_t n = blocks[i].size >= CG_SIZE_HUGE ? blocks[i].usable : blocks[i].size;
    if (p > blocks[i].start && p - blocks[i].start < n) in = &blocks[i];
  }
  if (in) {
    REQUIRE(info.cls == (in->live ? CG_PTR_INTERIOR : CG_PTR_FREED_INTERIOR));
    REQUIRE(info.block == in->start);
    REQUIRE(info.block_size == (in->size > CG_SIZE_HUGE ? CG_SIZE_HUGE : in->size));
    REQUIRE(cg_meta_state(info.block_meta) == (in->live ? CG_ST_LIVE : CG_ST_QUARANTINED));
  } else {
    REQUIRE(info.cls != CG_PTR_INTERIOR && info.cls != CG_PTR_FREED_INTERIOR);
  }
  if (info.cls == CG_PTR_GLOBAL || info.cls == CG_PTR_READONLY || info.cls == CG_PTR_LOADER)
    REQUIRE(info.module[0] != 0);
  if (in) return; /* an input may track a block over them */
  if (p >= (uintptr_t)global_buf && p < (uintptr_t)global_buf + sizeof global_buf)
    REQUIRE(info.cls == CG_PTR_GLOBAL);
  if (p >= (uintptr_t)literal && p <= (uintptr_t)literal + strlen(literal))
    REQUIRE(info.cls == CG_PTR_READONLY);
  if (p >= stack_lo && p < stack_hi) REQUIRE(info.cls == CG_PTR_STACK);
}

static uintptr_t anchor(unsigned a, uintptr_t stack_buf) {
  switch (a % 14) {
  case 0: return 0;
  case 1: return arena;
  case 2: case 3: case 4: return blocks[(a / 14) % nblocks].start;
  case 5: return stack_buf;
  case 6: return (uintptr_t)global_buf;
  case 7: return (uintptr_t)literal;
  case 8: return (uintptr_t)&check;
  case 9: return loader_data;
  case 10: return malloced;
  case 11: return 0xc000000000ull;
  case 12: return 1ull << 47;
  default: return 0x100000000000ull;
  }
}

/* The buffer a stack pointer would point into: on the real stack (ASan's
 * fake stacks would put an instrumented local on the heap). */
__attribute__((no_sanitize("address"), noinline)) static void run(const uint8_t *data,
                                                                   size_t size) {
  volatile char stack_buf[256];
  stack_buf[0] = 0;
  uintptr_t lo = (uintptr_t)stack_buf, hi = lo + sizeof stack_buf;
  for (size_t i = 0; i + 10 <= size; i += 10) {
    uint8_t op = data[i];
    int64_t off;
    memcpy(&off, data + i + 2, sizeof off);
    if (op % 4 != 3) off >>= (op % 4) * 20; /* small offsets are likelier */
    uintptr_t p = anchor(data[i + 1], lo) + (uintptr_t)off;
    if (op % 4 == 3)
      track(p & ~15ull, (uint64_t)(op >> 2) * (op & 0x80 ? 4099 : 3), op & 0x40);
    else
      check(p, lo, hi);
  }
  untrack_to(nbase);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run(data, size);
  return 0;
}
