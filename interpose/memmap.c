/* Memory-map facts for the checks on writes outside the heap.
 *
 *  - cg_mem_prot: protection of the mapping holding an address, from a
 *    snapshot of /proc/self/maps kept as a sorted range array.  There are
 *    two buffers, each under a sequence counter: a re-read fills the one
 *    readers are not using, then publishes it, so a lookup is a binary
 *    search over plain loads that never blocks, allocates or sees a torn
 *    array.  A per-thread copy of the last range found answers repeats.
 *  - cg_on_thread_stack: the thread's stack bounds, cached per thread.
 *  - cg_stack_frame_limit: the frame that owns a stack address.  The CFA
 *    rule at each return address is read from the module's .eh_frame once
 *    and cached in one word; frames whose CFA is rsp+k or rbp+k are walked
 *    here with a few loads, anything else (realigned stacks, signal frames,
 *    DWARF expressions) is left to libunwind.  Both read the same CFI, so
 *    the answer is the same; the cache only saves the work.
 *
 * x86-64 Linux only, like the rest of the shim.
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define CG_TLS __attribute__((tls_model("initial-exec")))

/* ---- snapshot of /proc/self/maps ---------------------------------------- */

#define MAP_CAP 65536            /* ranges kept; addresses past them: -1 */
#define PAGE_LOW 4095ull         /* range starts are page aligned: prot lives there */
#define REREAD_GAP_NS 10000000ll /* a miss re-reads at most once per 10 ms */

struct snap {
  _Atomic uint64_t seq;          /* odd while the buffer is rewritten */
  _Atomic uint64_t ro_seen;      /* ro_changes when this re-read began */
  _Atomic uint64_t dl_seen;      /* dlopen/dlclose count then */
  _Atomic uint64_t n;
  _Atomic uint64_t lo[MAP_CAP];  /* start | prot */
  _Atomic uint64_t hi[MAP_CAP];
};

static struct snap *snaps;           /* two, mapped by the first re-read */
static _Atomic uint64_t snap_gen;    /* published: snaps[gen & 1]; 0 = none yet */
static _Atomic uint64_t reads_begun; /* re-reads started, for fresh callers */
static uint64_t published_read;      /* reads_begun value of the published one */
static _Atomic int64_t last_read_ns;
static _Atomic int reread_owner;     /* pid holding the re-read lock; 0 = free */
static char read_buf[32768];         /* under the lock */
/* mmap/mprotect calls that made memory non-writable (the wrappers at the
 * end): a snapshot older than the last one cannot say "writable". */
static _Atomic uint64_t ro_changes;

/* The last range this thread found.  A signal handler's lookup landing in
 * the middle of an update can leave it mixed: that costs a wrong non-fresh
 * answer at worst (a miss or a needless fresh look), never a report. */
static __thread struct {
  uint64_t gen;                      /* snapshot the range came from */
  uintptr_t lo, hi;
  int prot;
  int busy;                          /* set around the lock: a handler must not wait */
} tl_map CG_TLS;

enum { FIND_MISS = -2, FIND_NONE = -3 };

/* Lookup in the published snapshot: prot bits; FIND_MISS when no range
 * holds a; FIND_NONE when there is no snapshot or it kept changing under
 * us (two re-reads during one binary search). */
static int snap_find(uintptr_t a) {
  for (int tries = 0; tries < 4; tries++) {
    uint64_t g = atomic_load_explicit(&snap_gen, memory_order_acquire);
    if (!g) return FIND_NONE;
    struct snap *s = &snaps[g & 1];
    uint64_t q = atomic_load_explicit(&s->seq, memory_order_acquire);
    if (q & 1) continue;
    uint64_t n = atomic_load_explicit(&s->n, memory_order_acquire);
    if (n > MAP_CAP) n = MAP_CAP;
    /* acquire loads: the seq re-check below cannot move above them */
    uint64_t l = 0, r = n;
    while (l < r) {
      uint64_t m = (l + r) / 2;
      if ((atomic_load_explicit(&s->lo[m], memory_order_acquire) & ~PAGE_LOW) <= a) l = m + 1;
      else r = m;
    }
    uint64_t key = l ? atomic_load_explicit(&s->lo[l - 1], memory_order_acquire) : 0;
    uint64_t hi = l ? atomic_load_explicit(&s->hi[l - 1], memory_order_acquire) : 0;
    if (atomic_load_explicit(&s->seq, memory_order_acquire) != q) continue;
    if (a >= hi) return FIND_MISS;
    tl_map.gen = g;
    tl_map.lo = key & ~PAGE_LOW;
    tl_map.hi = hi;
    tl_map.prot = (int)(key & 7);
    return tl_map.prot;
  }
  return FIND_NONE;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The lock word is the holder's pid: a fork child finds its parent's
 * holder gone (another pid) and takes over.  Raw syscalls below: none is a
 * cancellation point, so a cancelled thread never leaves the lock held. */
static bool reread_lock(bool wait) {
  int me = (int)syscall(SYS_getpid);
  for (unsigned spins = 0;; spins++) {
    int cur = atomic_load_explicit(&reread_owner, memory_order_relaxed);
    if (cur != me && atomic_compare_exchange_weak_explicit(&reread_owner, &cur, me,
                                                           memory_order_acquire,
                                                           memory_order_relaxed))
      return true;
    if (!wait) return false;
    if (spins > 64) sched_yield();
    else __builtin_ia32_pause();
  }
}

static void reread_unlock(void) {
  atomic_store_explicit(&reread_owner, 0, memory_order_release);
}

static uintptr_t parse_hex(const char **s, const char *end) {
  uintptr_t x = 0;
  for (; *s < end; (*s)++) {
    char c = **s;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) break;
    x = x << 4 | (uintptr_t)d;
  }
  return x;
}

/* Adds "lo-hi rwxp ..." to s.  Ranges stay sorted and disjoint even when
 * the maps changed between two read() calls; neighbours with the same
 * protection merge (fewer ranges, same answers). */
static void add_line(struct snap *s, uint64_t *n, const char *line, size_t len) {
  const char *p = line, *end = line + len;
  uint64_t lo = parse_hex(&p, end);
  if (p >= end || *p++ != '-') return;
  uint64_t hi = parse_hex(&p, end);
  if (end - p < 4 || *p != ' ' || lo >= hi || (lo & PAGE_LOW)) return;
  uint64_t prot = (p[1] == 'r' ? PROT_READ : 0) | (p[2] == 'w' ? PROT_WRITE : 0) |
                  (p[3] == 'x' ? PROT_EXEC : 0);
  if (*n) {
    uint64_t pk = atomic_load_explicit(&s->lo[*n - 1], memory_order_relaxed);
    uint64_t ph = atomic_load_explicit(&s->hi[*n - 1], memory_order_relaxed);
    if (lo < ph) {
      if (hi <= ph) return;
      lo = ph;
    }
    if (lo == ph && (pk & 7) == prot) {
      atomic_store_explicit(&s->hi[*n - 1], hi, memory_order_release);
      return;
    }
  }
  if (*n == MAP_CAP) return; /* the rest stays unknown */
  atomic_store_explicit(&s->lo[*n], lo | prot, memory_order_release);
  atomic_store_explicit(&s->hi[*n], hi, memory_order_release);
  ++*n;
}

static bool parse_maps(int fd, struct snap *s) {
  char line[64]; /* "lo-hi perms" is at most 38 bytes: the rest is skipped */
  size_t ll = 0;
  uint64_t n = 0;
  for (;;) {
    long r = syscall(SYS_read, fd, read_buf, sizeof read_buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      atomic_store_explicit(&s->n, n, memory_order_release);
      return r == 0 && n > 0;
    }
    for (const char *c = read_buf, *e = read_buf + r; c < e; c++) {
      if (*c != '\n') {
        if (ll < sizeof line) line[ll++] = *c;
        continue;
      }
      add_line(s, &n, line, ll);
      ll = 0;
    }
  }
}

static int dl_count_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  *(uint64_t *)arg = info->dlpi_adds + info->dlpi_subs;
  return 1;
}

/* Libraries loaded and unloaded so far (a new library's literals are a
 * read-only mapping the snapshot does not have). */
static uint64_t dl_count(void) {
  uint64_t n = 0;
  dl_iterate_phdr(dl_count_cb, &n);
  return n;
}

/* Re-reads /proc/self/maps into the buffer readers are not on, then
 * publishes it.  Caller holds the lock, and counted the libraries before
 * taking it (dl_iterate_phdr takes the loader's lock, which a thread in
 * dlopen holds while its constructors call the wrappers: never nest them).
 * false: nothing new published. */
static bool reread(uint64_t dl) {
  if (!snaps && !(snaps = cg_os_alloc(2 * sizeof *snaps))) return false;
  uint64_t id = atomic_fetch_add(&reads_begun, 1) + 1;
  atomic_store_explicit(&last_read_ns, now_ns(), memory_order_relaxed);
  int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  uint64_t g = atomic_load_explicit(&snap_gen, memory_order_relaxed);
  struct snap *s = &snaps[(g + 1) & 1];
  /* | 1: a fork child may find the count odd already */
  uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed) | 1;
  atomic_store_explicit(&s->seq, q, memory_order_relaxed);
  atomic_store_explicit(&s->ro_seen, atomic_load(&ro_changes), memory_order_relaxed);
  atomic_store_explicit(&s->dl_seen, dl, memory_order_relaxed);
  bool ok = parse_maps(fd, s);
  syscall(SYS_close, fd);
  atomic_store_explicit(&s->seq, q + 1, memory_order_release);
  if (!ok) return false;
  published_read = id;
  atomic_store_explicit(&snap_gen, g + 1, memory_order_release);
  return true;
}

/* A re-read for a caller about to report: one that began after this call
 * began is as good as our own (callers reporting at once share it). */
static CG_COLD int prot_fresh(uintptr_t a) {
  if (tl_map.busy) return -1;
  uint64_t entry = atomic_load(&reads_begun);
  int saved = errno;
  uint64_t dl = dl_count();
  tl_map.busy = 1;
  reread_lock(true);
  int p = published_read > entry || reread(dl) ? snap_find(a) : FIND_NONE;
  reread_unlock();
  tl_map.busy = 0;
  errno = saved;
  return p < 0 ? -1 : p;
}

/* No range holds a: the maps may have grown (Go's heap, a new thread's
 * stack, dlopen).  Re-read, but at most once per REREAD_GAP_NS for the
 * whole process, and never wait for another thread's re-read: a program
 * that keeps passing unmapped addresses costs one re-read per 10 ms. */
static CG_COLD int prot_after_miss(uintptr_t a) {
  if (tl_map.busy) return -1;
  uint64_t g = atomic_load_explicit(&snap_gen, memory_order_acquire);
  uint64_t dl = dl_count();
  if (g && atomic_load(&snaps[g & 1].dl_seen) != dl) return prot_fresh(a);
  int64_t last = atomic_load_explicit(&last_read_ns, memory_order_relaxed);
  if (last && now_ns() - last < REREAD_GAP_NS) return -1;
  int saved = errno;
  int p = FIND_NONE;
  tl_map.busy = 1;
  if (reread_lock(false)) {
    last = atomic_load_explicit(&last_read_ns, memory_order_relaxed);
    if ((!last || now_ns() - last >= REREAD_GAP_NS) && reread(dl)) p = snap_find(a);
    reread_unlock();
  }
  tl_map.busy = 0;
  errno = saved;
  return p < 0 ? -1 : p;
}

int cg_mem_prot(uintptr_t a, bool fresh) {
  if (cg_unlikely(fresh)) return prot_fresh(a);
  uint64_t g = atomic_load_explicit(&snap_gen, memory_order_acquire);
  /* memory made read-only since the snapshot: only a new one may answer */
  if (cg_unlikely(g && atomic_load_explicit(&snaps[g & 1].ro_seen, memory_order_relaxed) !=
                           atomic_load_explicit(&ro_changes, memory_order_relaxed)))
    return prot_fresh(a);
  if (cg_likely(g && tl_map.gen == g && a - tl_map.lo < tl_map.hi - tl_map.lo))
    return tl_map.prot;
  int p = snap_find(a);
  if (cg_likely(p >= 0)) return p;
  return p == FIND_MISS || g == 0 ? prot_after_miss(a) : -1;
}

/* ---- the calling thread's stack ----------------------------------------- */

static __thread struct { uintptr_t lo, hi; } tl_stack CG_TLS;

/* pthread_getattr_np allocates (and reads /proc for the main thread, whose
 * lower bound it gives as the most the stack may grow to): once a thread. */
static CG_COLD void stack_bounds(void) {
  uintptr_t lo = 1, hi = 1; /* unknown: an empty range, nothing is on it */
  pthread_attr_t at;
  int saved = errno;
  cg_tls.depth++;
  if (pthread_getattr_np(pthread_self(), &at) == 0) {
    void *addr;
    size_t size;
    if (pthread_attr_getstack(&at, &addr, &size) == 0 && size)
      lo = (uintptr_t)addr, hi = lo + size;
    pthread_attr_destroy(&at);
  }
  cg_tls.depth--;
  errno = saved;
  tl_stack.lo = lo;
  tl_stack.hi = hi;
}

static inline uintptr_t current_sp(void) {
  uintptr_t sp;
  __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
  return sp;
}

/* sp must be on the thread's stack too: on a sigaltstack or a coroutine's
 * stack, [sp, top) would span unrelated memory. */
bool cg_on_thread_stack(uintptr_t a) {
  if (cg_unlikely(!tl_stack.hi)) stack_bounds();
  uintptr_t sp = current_sp();
  return sp >= tl_stack.lo && sp <= a && a < tl_stack.hi;
}

/* ---- DWARF CFI: the CFA rule at a return address ------------------------ */

/* One word per return address, so a reader never sees half an update:
 *   bits 63..29  ip >> 12 (the slot index gives the low 12 bits back)
 *   bits 28..27  kind
 *   bit  26      CFA is rbp + off (else rsp + off)
 *   bits 25..11  off / 8
 *   bits 10..0   n: the caller's rbp is saved at CFA - 8n (0: rbp unchanged)
 * The return address is always at CFA - 8 (checked), the caller's rsp is
 * the CFA.  Entries are never invalidated: an ip on the stack is code that
 * is loaded, and only code unloaded and replaced by other code at the same
 * address could leave a stale entry (libunwind's own cache shares this). */
#define RULE_SLOTS 4096
#define RULE_WALK 1ull   /* rsp/rbp + off: walked here */
#define RULE_UNWIND 2ull /* CFI this code does not model: libunwind */
#define RULE_STOP 3ull   /* no CFI, or the outermost frame: nothing is judged */
#define RULE_KIND(e) (((e) >> 27) & 3)
#define RULE_BP_CFA(e) (((e) >> 26) & 1)
#define RULE_OFF(e) ((((e) >> 11) & 0x7fff) * 8)
#define RULE_BP_SAVE(e) (((e) & 0x7ff) * 8)
#define WALK_MAX 128

static _Atomic uint64_t rule_cache[RULE_SLOTS];

static inline unsigned rule_slot(uintptr_t ip) {
  return (unsigned)((ip ^ (ip >> 12)) & (RULE_SLOTS - 1));
}

struct rd {
  const uint8_t *p, *end;
  bool bad;
};

static uint64_t rd_n(struct rd *r, int bytes) {
  uint64_t v = 0;
  if (r->end - r->p < bytes) {
    r->bad = true;
    return 0;
  }
  for (int i = 0; i < bytes; i++) v |= (uint64_t)r->p[i] << (8 * i);
  r->p += bytes;
  return v;
}

static uint64_t rd_uleb(struct rd *r) {
  uint64_t v = 0;
  for (unsigned shift = 0; r->p < r->end; shift += 7) {
    uint8_t b = *r->p++;
    if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  r->bad = true;
  return 0;
}

static int64_t rd_sleb(struct rd *r) {
  uint64_t v = 0;
  for (unsigned shift = 0; r->p < r->end;) {
    uint8_t b = *r->p++;
    if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) {
      if (shift < 64 && (b & 0x40)) v |= ~0ull << shift;
      return (int64_t)v;
    }
  }
  r->bad = true;
  return 0;
}

/* A DW_EH_PE-encoded pointer.  Indirect ones are refused (only personality
 * routines use them, and the caller skips those with the bit cleared). */
static uint64_t rd_ptr(struct rd *r, uint8_t enc, uintptr_t datarel) {
  uintptr_t here = (uintptr_t)r->p;
  uint64_t v;
  if (enc & 0x80) {
    r->bad = true;
    return 0;
  }
  switch (enc & 0x0f) {
  case 0x00: case 0x04: case 0x0c: v = rd_n(r, 8); break;
  case 0x01: v = rd_uleb(r); break;
  case 0x02: v = rd_n(r, 2); break;
  case 0x03: v = rd_n(r, 4); break;
  case 0x09: v = (uint64_t)rd_sleb(r); break;
  case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_n(r, 2); break;
  case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_n(r, 4); break;
  default: r->bad = true; return 0;
  }
  switch (enc & 0x70) {
  case 0x00: return v;
  case 0x10: return v + here;    /* pcrel */
  case 0x30: /* datarel: only eh_frame_hdr has a data base */
    if (datarel) return v + datarel;
    r->bad = true;
    return 0;
  default: r->bad = true; return 0;
  }
}

/* An entry's length field: the entry runs from after it to *end. */
static bool rd_entry(struct rd *r, const uint8_t **end) {
  uint64_t len = rd_n(r, 4);
  if (len == 0xffffffffu) len = rd_n(r, 8);
  if (r->bad || len == 0 || len > (1u << 30)) return false;
  *end = r->p + len;
  return true;
}

struct cie {
  const uint8_t *insns, *end;
  uint64_t code_align;
  int64_t data_align;
  uint8_t fde_enc;
  bool z, signal;
};

static bool parse_cie(const uint8_t *at, struct cie *c) {
  struct rd r = {at, at + 16, false};
  const uint8_t *end;
  if (!rd_entry(&r, &end)) return false;
  r.end = end;
  if (rd_n(&r, 4) != 0) return false; /* CIE id */
  uint64_t version = rd_n(&r, 1);
  if (version != 1 && version != 3) return false;
  const char *aug = (const char *)r.p;
  while (r.p < r.end && *r.p) r.p++;
  if (r.p++ >= r.end) return false;
  *c = (struct cie){.fde_enc = 0, .z = aug[0] == 'z'};
  c->code_align = rd_uleb(&r);
  c->data_align = rd_sleb(&r);
  uint64_t ra = version == 1 ? rd_n(&r, 1) : rd_uleb(&r);
  if (ra != 16) return false;
  if (c->z) {
    uint64_t alen = rd_uleb(&r);
    if (r.bad || alen > (uint64_t)(r.end - r.p)) return false;
    const uint8_t *aend = r.p + alen;
    for (const char *k = aug + 1; *k && !r.bad; k++) {
      if (*k == 'R') c->fde_enc = (uint8_t)rd_n(&r, 1);
      else if (*k == 'L') rd_n(&r, 1);
      else if (*k == 'P') rd_ptr(&r, (uint8_t)(rd_n(&r, 1) & 0x7f), 0);
      else if (*k == 'S') c->signal = true;
      else if (*k != 'B' && *k != 'G') break; /* unknown: the length skips it */
    }
    r.p = aend;
  } else if (aug[0]) {
    return false; /* "eh" and other pre-'z' augmentations */
  }
  c->insns = r.p;
  c->end = r.end;
  return !r.bad && c->code_align;
}

struct mod_hit {
  uintptr_t pc;
  const uint8_t *hdr;
  bool found;
};

static int find_module(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct mod_hit *m = arg;
  const uint8_t *hdr = NULL;
  bool inside = false;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && m->pc - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
      inside = true;
    else if (ph->p_type == PT_GNU_EH_FRAME)
      hdr = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
  }
  if (!inside) return 0;
  m->hdr = hdr;
  m->found = true;
  return 1;
}

/* The FDE covering pc, through the module's sorted .eh_frame_hdr table. */
static const uint8_t *find_fde(uintptr_t pc) {
  struct mod_hit m = {.pc = pc};
  dl_iterate_phdr(find_module, &m);
  if (!m.hdr || m.hdr[0] != 1 || m.hdr[3] != 0x3b) return NULL; /* datarel sdata4 */
  struct rd r = {m.hdr + 4, m.hdr + 4 + 16, false};
  rd_ptr(&r, m.hdr[1], (uintptr_t)m.hdr);
  uint64_t count = rd_ptr(&r, m.hdr[2], (uintptr_t)m.hdr);
  if (r.bad || !count) return NULL;
  const uint8_t *table = r.p;
  uint64_t l = 0, h = count;
  while (l < h) {
    uint64_t mid = (l + h) / 2;
    struct rd e = {table + mid * 8, table + mid * 8 + 4, false};
    if ((uintptr_t)m.hdr + (uint64_t)(int64_t)(int32_t)rd_n(&e, 4) <= pc) l = mid + 1;
    else h = mid;
  }
  if (!l) return NULL;
  struct rd e = {table + (l - 1) * 8 + 4, table + (l - 1) * 8 + 8, false};
  return m.hdr + (int32_t)rd_n(&e, 4);
}

/* Rules for the registers the walk needs: rbp, rsp, return address. */
enum { R_SAME, R_OFFSET, R_UNDEF, R_OTHER };
struct reg_rule {
  int how;
  int64_t off;
};
struct cfi_row {
  uint64_t cfa_reg;
  int64_t cfa_off;
  bool cfa_expr;
  struct reg_rule r[3];
};

static void set_rule(struct cfi_row *row, uint64_t reg, int how, int64_t off) {
  int i = reg == 6 ? 0 : reg == 7 ? 1 : reg == 16 ? 2 : -1;
  if (i >= 0) row->r[i] = (struct reg_rule){how, off};
}

static void restore_rule(struct cfi_row *row, const struct cfi_row *init, uint64_t reg) {
  int i = reg == 6 ? 0 : reg == 7 ? 1 : reg == 16 ? 2 : -1;
  if (i >= 0) row->r[i] = init->r[i];
}

/* Runs CFA instructions until the row for target is reached.  The CFA is
 * part of what remember/restore_state save, as in libgcc and libunwind. */
static bool run_cfi(const uint8_t *p, const uint8_t *end, const struct cie *c, uintptr_t loc,
                    uintptr_t target, struct cfi_row *row, const struct cfi_row *init) {
  struct cfi_row saved[8];
  int depth = 0;
  struct rd r = {p, end, false};
  while (r.p < r.end && !r.bad) {
    uint8_t op = (uint8_t)rd_n(&r, 1);
    uint64_t reg, delta = 0;
    switch (op >> 6) {
    case 1: delta = op & 0x3f; break;
    case 2: set_rule(row, op & 0x3f, R_OFFSET, (int64_t)rd_uleb(&r) * c->data_align); continue;
    case 3: restore_rule(row, init, op & 0x3f); continue;
    default:
      switch (op) {
      case 0x00: continue; /* nop */
      case 0x01: { /* set_loc */
        uintptr_t to = rd_ptr(&r, c->fde_enc, 0);
        if (to > target) return !r.bad;
        loc = to;
        continue;
      }
      case 0x02: delta = rd_n(&r, 1); break;
      case 0x03: delta = rd_n(&r, 2); break;
      case 0x04: delta = rd_n(&r, 4); break;
      case 0x05: reg = rd_uleb(&r); set_rule(row, reg, R_OFFSET, (int64_t)rd_uleb(&r) * c->data_align); continue;
      case 0x06: restore_rule(row, init, rd_uleb(&r)); continue;
      case 0x07: set_rule(row, rd_uleb(&r), R_UNDEF, 0); continue;
      case 0x08: set_rule(row, rd_uleb(&r), R_SAME, 0); continue;
      case 0x09: reg = rd_uleb(&r); rd_uleb(&r); set_rule(row, reg, R_OTHER, 0); continue;
      case 0x0a: /* remember_state */
        if (depth == 8) return false;
        saved[depth++] = *row;
        continue;
      case 0x0b: /* restore_state */
        if (depth == 0) return false;
        *row = saved[--depth];
        continue;
      case 0x0c: row->cfa_reg = rd_uleb(&r); row->cfa_off = (int64_t)rd_uleb(&r); row->cfa_expr = false; continue;
      case 0x0d: row->cfa_reg = rd_uleb(&r); row->cfa_expr = false; continue;
      case 0x0e: row->cfa_off = (int64_t)rd_uleb(&r); continue;
      case 0x0f: /* def_cfa_expression */
        delta = rd_uleb(&r);
        if (delta > (uint64_t)(r.end - r.p)) return false;
        r.p += delta;
        row->cfa_expr = true;
        continue;
      case 0x10: case 0x16: /* expression, val_expression */
        reg = rd_uleb(&r);
        delta = rd_uleb(&r);
        if (delta > (uint64_t)(r.end - r.p)) return false;
        r.p += delta;
        set_rule(row, reg, R_OTHER, 0);
        continue;
      case 0x11: reg = rd_uleb(&r); set_rule(row, reg, R_OFFSET, rd_sleb(&r) * c->data_align); continue;
      case 0x12: row->cfa_reg = rd_uleb(&r); row->cfa_off = rd_sleb(&r) * c->data_align; row->cfa_expr = false; continue;
      case 0x13: row->cfa_off = rd_sleb(&r) * c->data_align; continue;
      case 0x14: reg = rd_uleb(&r); rd_uleb(&r); set_rule(row, reg, R_OTHER, 0); continue;
      case 0x15: reg = rd_uleb(&r); rd_sleb(&r); set_rule(row, reg, R_OTHER, 0); continue;
      case 0x2e: rd_uleb(&r); continue; /* GNU_args_size */
      case 0x2f: reg = rd_uleb(&r); set_rule(row, reg, R_OFFSET, -(int64_t)rd_uleb(&r) * c->data_align); continue;
      default: return false;
      }
    }
    loc += delta * c->code_align;
    if (loc > target) break;
  }
  return !r.bad;
}

/* The cache word for return address ip (its call is at ip - 1). */
static uint64_t compute_rule(uintptr_t ip) {
  uint64_t tag = (uint64_t)(ip >> 12) << 29;
  uintptr_t pc = ip - 1;
  const uint8_t *fde = find_fde(pc);
  if (!fde) return tag | RULE_STOP << 27;
  struct rd r = {fde, fde + 16, false};
  const uint8_t *end;
  if (!rd_entry(&r, &end)) return tag | RULE_STOP << 27;
  r.end = end;
  const uint8_t *id = r.p;
  uint64_t cie_off = rd_n(&r, 4);
  struct cie c;
  if (r.bad || !cie_off || !parse_cie(id - cie_off, &c)) return tag | RULE_UNWIND << 27;
  uintptr_t begin = rd_ptr(&r, c.fde_enc, 0);
  uintptr_t range = rd_ptr(&r, c.fde_enc & 0x0f, 0);
  if (r.bad || pc - begin >= range) return tag | RULE_STOP << 27; /* a gap in the table */
  if (c.z) {
    uint64_t alen = rd_uleb(&r);
    if (r.bad || alen > (uint64_t)(r.end - r.p)) return tag | RULE_UNWIND << 27;
    r.p += alen;
  }
  struct cfi_row row = {0}, init;
  if (!run_cfi(c.insns, c.end, &c, begin, UINTPTR_MAX, &row, &row)) return tag | RULE_UNWIND << 27;
  init = row;
  if (!run_cfi(r.p, r.end, &c, begin, pc, &row, &init)) return tag | RULE_UNWIND << 27;
  const struct reg_rule *bp = &row.r[0], *sp = &row.r[1], *ra = &row.r[2];
  if (ra->how == R_UNDEF) return tag | RULE_STOP << 27; /* outermost frame */
  if (c.signal || row.cfa_expr || (row.cfa_reg != 7 && row.cfa_reg != 6) ||
      ra->how != R_OFFSET || ra->off != -8 || sp->how != R_SAME || row.cfa_off < 8 ||
      row.cfa_off % 8 || row.cfa_off / 8 > 0x7fff ||
      (bp->how != R_SAME && (bp->how != R_OFFSET || bp->off >= 0 || -bp->off % 8 ||
                             -bp->off / 8 > 0x7ff)))
    return tag | RULE_UNWIND << 27;
  uint64_t n = bp->how == R_OFFSET ? (uint64_t)(-bp->off / 8) : 0;
  return tag | RULE_WALK << 27 | (uint64_t)(row.cfa_reg == 6) << 26 |
         (uint64_t)(row.cfa_off / 8) << 11 | n;
}

static CG_COLD uint64_t rule_miss(uintptr_t ip) {
  if (ip < 4096) return RULE_STOP << 27;  /* no return address */
  if (ip >> 47) return RULE_UNWIND << 27; /* does not fit the tag */
  uint64_t e = compute_rule(ip);
  atomic_store_explicit(&rule_cache[rule_slot(ip)], e, memory_order_relaxed);
  return e;
}

static inline uint64_t frame_rule(uintptr_t ip) {
  uint64_t e = atomic_load_explicit(&rule_cache[rule_slot(ip)], memory_order_relaxed);
  if (cg_likely(e && e >> 29 == ip >> 12)) return e;
  return rule_miss(ip);
}

/* ---- which frame owns a stack address ----------------------------------- */

/* The whole walk with libunwind, for frames the rule cache does not model.
 * Frames without CFI stop it (libunwind would guess from rbp), and so do
 * signal frames (their CFA - 8 is no return address). */
static CG_COLD CG_NOINLINE bool unwind_slow(uintptr_t a, uintptr_t *ret_slot) {
  static _Atomic int policy_set;
  if (!atomic_load_explicit(&policy_set, memory_order_relaxed)) {
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    atomic_store_explicit(&policy_set, 1, memory_order_relaxed);
  }
  int saved = errno;
  bool found = false;
  unw_context_t uc;
  unw_cursor_t c;
  unw_word_t sp, cfa, ip;
  if (unw_getcontext(&uc) == 0 && unw_init_local(&c, &uc) == 0 &&
      unw_get_reg(&c, UNW_REG_SP, &sp) == 0) {
    for (int i = 0; i < WALK_MAX; i++) {
      if (unw_get_reg(&c, UNW_REG_IP, &ip) != 0 || RULE_KIND(frame_rule(ip)) == RULE_STOP)
        break;
      bool sig = unw_is_signal_frame(&c) > 0;
      if (unw_step(&c) <= 0 || unw_get_reg(&c, UNW_REG_SP, &cfa) != 0) break;
      if (cfa <= sp || cfa > tl_stack.hi || sig) break;
      if (a < cfa) {
        found = a >= sp;
        if (found) *ret_slot = cfa - 8;
        break;
      }
      sp = cfa;
    }
  }
  errno = saved;
  return found;
}

/* Starts at our caller: with our frame pointer forced, rbp + 16 is our CFA
 * (the caller's rsp), above it the return address, at rbp the caller's rbp. */
CG_NOINLINE bool cg_stack_frame_limit(uintptr_t a, uintptr_t *ret_slot) {
  if (!cg_on_thread_stack(a)) return false;
  const uintptr_t *fp = __builtin_frame_address(0);
  uintptr_t sp = (uintptr_t)(fp + 2), ip = fp[1], bp = fp[0], top = tl_stack.hi;
  if (a < sp) return false; /* in our own frame: not the caller's memory */
  for (int i = 0; i < WALK_MAX; i++) {
    uint64_t e = frame_rule(ip);
    if (cg_unlikely(RULE_KIND(e) != RULE_WALK))
      return RULE_KIND(e) == RULE_UNWIND && unwind_slow(a, ret_slot);
    uintptr_t cfa = (RULE_BP_CFA(e) ? bp : sp) + RULE_OFF(e);
    if (cfa <= sp || cfa > top) return false;
    if (a < cfa) {
      *ret_slot = cfa - 8;
      return true;
    }
    uintptr_t save = RULE_BP_SAVE(e);
    if (save) {
      if (save > cfa - sp) return false;
      bp = *(const uintptr_t *)(cfa - save);
    }
    ip = *(const uintptr_t *)(cfa - 8);
    sp = cfa;
  }
  return false;
}

/* Return addresses of our caller's stack, walked with the same cached CFA
 * rules (tens of nanoseconds for a whole stack, where libunwind takes
 * microseconds): the allocation and free stacks of alloc_stacks=1.  Stops
 * at the first frame the rules do not model (for a cgo call: at
 * runtime.asmcgocall, which has no CFI) and leaves there the frame's rbp,
 * from which the goroutine's frame-pointer chain goes on. */
CG_NOINLINE int cg_fast_backtrace(uintptr_t *pcs, int max, uintptr_t *last_bp) {
  const uintptr_t *fp = __builtin_frame_address(0);
  uintptr_t sp = (uintptr_t)(fp + 2), ip = fp[1], bp = fp[0];
  if (!tl_stack.hi) stack_bounds();
  uintptr_t top = tl_stack.hi;
  int n = 0;
  *last_bp = 0;
  while (n < max) {
    pcs[n++] = ip;
    uint64_t e = frame_rule(ip);
    if (RULE_KIND(e) != RULE_WALK) {
      *last_bp = bp;
      break;
    }
    uintptr_t cfa = (RULE_BP_CFA(e) ? bp : sp) + RULE_OFF(e);
    if (cfa <= sp || cfa > top) break;
    uintptr_t save = RULE_BP_SAVE(e);
    if (save) {
      if (save > cfa - sp) break;
      bp = *(const uintptr_t *)(cfa - save);
    }
    ip = *(const uintptr_t *)(cfa - 8);
    sp = cfa;
  }
  return n;
}

/* ---- calls that take write permission away (mmap.c) -------------------- */

void cg_maps_lost_write(void) { atomic_fetch_add(&ro_changes, 1); }
