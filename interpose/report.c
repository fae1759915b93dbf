/* Report formatting and the log.  One report at a time (a lock), formatted
 * into a static buffer with no stdio and no malloc, then written with
 * write(2) before any abort. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

_Atomic uint64_t cg_error_counts[CGOGUARD_KIND_COUNT];
_Atomic int cg_aborting;
static _Atomic long reports_written;
static cg_lock report_lock;

/* The report lock.  A report from a signal handler whose thread holds a
 * lock fork() takes after this one (the quarantine's, the table's growth,
 * a cg_lock_enter lock) must not wait for a fork in progress, which holds
 * this lock and waits for that one: it waits a second at most, then gives
 * up and the report is only counted. */
static bool report_lock_take(void) {
  if (cg_likely(!cg_tls.in_quarantine && !cg_tls.in_lock)) {
    cg_lock_acquire(&report_lock);
    return true;
  }
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (cg_lock_try(&report_lock)) return true;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec > 1) return false;
    sched_yield();
  }
}

static int log_fd = -1;
static int log_pid;

static const char *const kind_names[CGOGUARD_KIND_COUNT] = {
    [CGOGUARD_DOUBLE_FREE] = "double-free",
    [CGOGUARD_INVALID_FREE] = "invalid-free",
    [CGOGUARD_USE_AFTER_FREE] = "use-after-free",
    [CGOGUARD_HEAP_OVERREAD] = "heap-overread",
    [CGOGUARD_HEAP_OVERFLOW] = "heap-overflow",
    [CGOGUARD_READONLY_WRITE] = "readonly-write",
    [CGOGUARD_NULL_POINTER] = "null-pointer",
    [CGOGUARD_LEAK] = "leak",
    [CGOGUARD_STACK_BUFFER_OVERFLOW] = "stack-buffer-overflow",
};
static const char *const action_names[] = {"abort", "skipped", "clamped", "continued", "signal"};

CG_EXPORT const char *cgoguard_kind_name(int kind) {
  return kind >= 0 && kind < CGOGUARD_KIND_COUNT ? kind_names[kind] : NULL;
}

CG_EXPORT uint64_t cgoguard_error_count(int kind) {
  return kind >= 0 && kind < CGOGUARD_KIND_COUNT ? atomic_load(&cg_error_counts[kind]) : 0;
}

bool cg_neutralizing(void) { return cg_opt.mode == CG_MODE_NEUTRALIZE; }

/* ---- a tiny formatter --------------------------------------------------- */

struct out {
  char *buf;
  size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n) {
  for (size_t i = 0; i < n && o->n < o->cap; i++) o->buf[o->n++] = s[i];
}
static void puts_(struct out *o, const char *s) { put(o, s, cg_strlen(s)); }
static void put_dec(struct out *o, int64_t v) {
  char t[24];
  int i = 24;
  uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
  do t[--i] = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0) t[--i] = '-';
  put(o, t + i, (size_t)(24 - i));
}
static void put_hex(struct out *o, uint64_t v) {
  char t[18];
  int i = 18;
  do t[--i] = "0123456789abcdef"[v & 15];
  while (v >>= 4);
  t[--i] = 'x';
  t[--i] = '0';
  put(o, t + i, (size_t)(18 - i));
}
static void put_json_str(struct out *o, const char *s) {
  puts_(o, "\"");
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') put(o, "\\", 1), put(o, s, 1);
    else if (c < 0x20) puts_(o, "\\u00"), put(o, &"0123456789abcdef"[c >> 4], 1),
        put(o, &"0123456789abcdef"[c & 15], 1);
    else put(o, s, 1);
  }
  puts_(o, "\"");
}

/* ---- the log ------------------------------------------------------------ */

/* Expands %p to the pid into dst. */
static void expand_path(char *dst, size_t cap, const char *src) {
  struct out o = {dst, 0, cap - 1};
  for (; *src; src++) {
    if (src[0] == '%' && src[1] == 'p') put_dec(&o, getpid()), src++;
    else put(&o, src, 1);
  }
  dst[o.n] = 0;
}

static void say_stderr(const char *a, const char *b, const char *c) {
  char line[1024];
  struct out o = {line, 0, sizeof line - 1};
  puts_(&o, a), puts_(&o, b), puts_(&o, c), puts_(&o, "\n");
  ssize_t w = write(2, line, o.n);
  (void)w;
}

/* The log's file, to notice a program that closed the shim's descriptor
 * and got the same number back for a file of its own. */
static dev_t log_dev;
static ino_t log_ino;

static void remember_log(void) {
  struct stat st;
  if (fstat(log_fd, &st) == 0) log_dev = st.st_dev, log_ino = st.st_ino;
}

static bool log_is_ours(void) {
  struct stat st;
  return fstat(log_fd, &st) == 0 && st.st_dev == log_dev && st.st_ino == log_ino;
}

/* Opens (or, in a forked child with %p in the path, reopens) the log.
 * stderr is dup'ed so a program that closes fd 2 still gets its reports. */
void cg_log_open(void) {
  if (log_fd >= 0 && log_pid == getpid()) return;
  int had = log_fd;
  log_pid = getpid();
  if (cg_streq(cg_opt.log_path, "stderr")) {
    if (had < 0) log_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
    if (log_fd < 0) log_fd = 2;
  } else {
    char path[600] = {0};
    expand_path(path, sizeof path, cg_opt.log_path);
    bool per_pid = false;
    for (const char *s = cg_opt.log_path; *s; s++) per_pid |= s[0] == '%' && s[1] == 'p';
    if (had >= 0 && !per_pid) return; /* child shares the parent's file */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      say_stderr("cgoguard: cannot open log_path '", path, "'; reports go to stderr");
      fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
      if (fd < 0) fd = 2;
    }
    if (had >= 0 && had != 2) close(had);
    log_fd = fd;
  }
  remember_log();
  if (cg_opt.verbosity >= 1) {
    char line[256];
    struct out o = {line, 0, sizeof line};
    puts_(&o, "==");
    put_dec(&o, getpid());
    puts_(&o, "==cgoguard " CGOGUARD_VERSION ": active, mode=");
    puts_(&o, cg_opt.mode == CG_MODE_ABORT ? "abort" : "neutralize");
    puts_(&o, ", log_format=");
    puts_(&o, cg_opt.log_format == CG_FORMAT_JSON ? "json" : "text");
    puts_(&o, ", quarantine_mb=");
    put_dec(&o, (int64_t)(cg_opt.quarantine_bytes >> 20));
    puts_(&o, "\n");
    cg_log_line(line, o.n);
  }
}

void cg_log_line(const char *s, size_t n) {
  if (log_fd < 0) return;
  if (!log_is_ours()) { /* never write into the program's own file */
    if (log_fd != 2 && fcntl(log_fd, F_GETFD) >= 0 && !cg_streq(cg_opt.log_path, "stderr")) return;
    int fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
    if (fd < 0) return;
    log_fd = fd;
    remember_log();
  }
  /* a closed pipe must not kill the program with SIGPIPE: drop the report */
  sigset_t pipe, old, pending;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE);
  bool broken = false;
  while (n > 0) {
    ssize_t w = write(log_fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) { /* full disk or closed pipe: drop, never hang */
      broken = w < 0 && errno == EPIPE;
      break;
    }
    s += w, n -= (size_t)w;
  }
  if (broken && !was_pending) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe, NULL, &zero); /* the SIGPIPE our write raised */
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- report body -------------------------------------------------------- */

/* current stack, then alloc site, then free site: each up to stack_depth */
static struct cg_frame frames[3 * 256];
static char report_buf[1 << 18];

static void text_frames(struct out *o, const struct cg_frame *f, int n) {
  for (int i = 0; i < n; i++) {
    puts_(o, "    #");
    put_dec(o, i);
    puts_(o, " ");
    put_hex(o, f[i].pc);
    if (f[i].function[0]) {
      puts_(o, " in ");
      puts_(o, f[i].function);
      puts_(o, "+");
      put_hex(o, f[i].offset);
    }
    puts_(o, " (");
    puts_(o, f[i].module);
    puts_(o, "+");
    put_hex(o, f[i].module_offset);
    puts_(o, ")\n");
  }
}

static void json_frames(struct out *o, const struct cg_frame *f, int n) {
  puts_(o, "[");
  for (int i = 0; i < n; i++) {
    puts_(o, i ? ",{\"pc\":\"" : "{\"pc\":\"");
    put_hex(o, f[i].pc);
    puts_(o, "\",\"function\":");
    if (f[i].function[0]) put_json_str(o, f[i].function);
    else puts_(o, "null");
    puts_(o, ",\"offset\":");
    put_dec(o, (int64_t)f[i].offset);
    puts_(o, ",\"module\":");
    put_json_str(o, f[i].module);
    puts_(o, ",\"module_offset\":\"");
    put_hex(o, f[i].module_offset);
    puts_(o, "\"}");
  }
  puts_(o, "]");
}

/* Resolves a depot stack into frames (after the current stack's frames). */
static int site_frames(uint32_t id, struct cg_frame *f, int max) {
  uintptr_t pcs[256];
  int n = depot_get(id, pcs, max < 256 ? max : 256);
  for (int i = 0; i < n; i++) cg_describe_frame(pcs[i], &f[i]);
  return n;
}

/* ---- signatures: the same bug, wherever it runs --------------------------- */

#define SIG_FRAMES 8  /* top frames hashed: cgo calls spend four on plumbing */
#define SIG_SLOTS 4096

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ull;
  return h;
}

/* FNV-1a of the kind and the top frames as module file name + offset in
 * it: independent of load addresses and of the directory the binaries are
 * in, so two pods running the same binaries give the same signature. */
static uint64_t signature(int kind, const uintptr_t *pcs, int n) {
  uint64_t h = fnv(0xcbf29ce484222325ull, kind_names[kind], cg_strlen(kind_names[kind]));
  for (int i = 0; i < n && i < SIG_FRAMES; i++) {
    struct cg_frame f;
    cg_describe_pc(pcs[i], &f);
    const char *base = f.module;
    for (const char *c = f.module; *c; c++)
      if (*c == '/') base = c + 1;
    uint64_t off = f.module_offset;
    h = fnv(fnv(h, base, cg_strlen(base) + 1), &off, sizeof off);
  }
  return h ? h : 1;
}

/* Signatures seen, with how often: open addressing, one CAS to claim. */
static struct {
  _Atomic uint64_t sig;
  _Atomic uint64_t count;
  _Atomic int kind;
} seen[SIG_SLOTS];

/* Counts sig; true the first time (then it is reported). */
static bool first_sighting(uint64_t sig, int kind) {
  for (unsigned i = (unsigned)sig, probes = 0; probes < 64; i++, probes++) {
    __typeof__(seen[0]) *e = &seen[i & (SIG_SLOTS - 1)];
    uint64_t cur = atomic_load(&e->sig);
    if (cur == 0 && atomic_compare_exchange_strong(&e->sig, &cur, sig)) {
      atomic_store(&e->kind, kind);
      atomic_fetch_add(&e->count, 1);
      return true;
    }
    if (cur == sig) {
      atomic_fetch_add(&e->count, 1);
      return false;
    }
  }
  return true; /* table full: report it */
}

static void put_sig(struct out *o, uint64_t sig) {
  char t[16];
  for (int i = 15; i >= 0; i--, sig >>= 4) t[i] = "0123456789abcdef"[sig & 15];
  put(o, t, 16);
}

/* Writes, for each signature seen more than once (neutralize mode reports
 * it once), how many times it was seen.  At exit. */
void cg_report_repeats(void) {
  static char buf[256];
  cg_tls.depth++;
  cg_lock_acquire(&report_lock);
  cg_log_open();
  for (int i = 0; i < SIG_SLOTS; i++) {
    uint64_t sig = atomic_load(&seen[i].sig), n = atomic_load(&seen[i].count);
    if (!sig || n < 2) continue;
    struct out o = {buf, 0, sizeof buf};
    const char *kind = kind_names[atomic_load(&seen[i].kind)];
    if (cg_opt.log_format == CG_FORMAT_JSON) {
      puts_(&o, "{\"summary\":\"repeats\",\"pid\":");
      put_dec(&o, getpid());
      puts_(&o, ",\"kind\":\"");
      puts_(&o, kind);
      puts_(&o, "\",\"signature\":\"");
      put_sig(&o, sig);
      puts_(&o, "\",\"count\":");
      put_dec(&o, (int64_t)n);
      puts_(&o, "}\n");
    } else {
      puts_(&o, "==");
      put_dec(&o, getpid());
      puts_(&o, "==cgoguard: ");
      puts_(&o, kind);
      puts_(&o, " signature ");
      put_sig(&o, sig);
      puts_(&o, " was seen ");
      put_dec(&o, (int64_t)n);
      puts_(&o, " times (reported once)\n");
    }
    cg_log_line(buf, o.n);
  }
  cg_lock_release(&report_lock);
  cg_tls.depth--;
}

static void put_bytes(struct out *o, uint64_t n) {
  put_dec(o, (int64_t)n);
  puts_(o, n == 1 ? " byte" : " bytes");
}

/* Where a bad access is, and how far the call would have gone. */
static void describe_access(struct out *o, const struct cg_report *r) {
  const char *verb = r->access == CG_ACC_WRITE ? "write" : "read";
  if (r->kind == CGOGUARD_NULL_POINTER) {
    puts_(o, "argument ");
    put_dec(o, r->arg);
    puts_(o, " of ");
    puts_(o, r->func);
    puts_(o, " is NULL");
    return;
  }
  put_hex(o, r->addr);
  if (r->detail && !r->has_block) { /* the detail says where the address is */
    puts_(o, " ");
    puts_(o, r->detail);
    return;
  }
  if (r->has_block) {
    uint64_t off = r->addr - r->block;
    bool freed = r->kind == CGOGUARD_USE_AFTER_FREE, before = r->addr < r->block;
    puts_(o, " is ");
    if (before) put_bytes(o, r->block - r->addr), puts_(o, " before the start of a ");
    else if (off < r->size) put_bytes(o, off), puts_(o, " inside a ");
    else put_bytes(o, off - r->size), puts_(o, " past the end of a ");
    puts_(o, freed ? "freed " : "live ");
    put_dec(o, (int64_t)r->size);
    puts_(o, "-byte block at ");
    put_hex(o, r->block);
    if (r->written_earlier) { /* found after the fact, not a call about to run */
      puts_(o, "; a write had reached ");
      put_bytes(o, off + 1 - r->size);
      puts_(o, " past its end");
    } else {
      puts_(o, r->fault ? "; the faulting instruction would " : "; the call would ");
      puts_(o, verb);
      if (r->access_size) {
        puts_(o, " ");
        put_bytes(o, r->access_size);
        if (!freed && !before && off + r->access_size > r->size) {
          puts_(o, ", ");
          put_bytes(o, off + r->access_size - r->size);
          puts_(o, " past its end");
        }
      } else if (freed) {
        puts_(o, " it");
      } else {
        puts_(o, " past its end: no terminating NUL inside the block");
      }
    }
    if (r->detail) puts_(o, "; "), puts_(o, r->detail);
    return;
  }
  if (r->kind == CGOGUARD_STACK_BUFFER_OVERFLOW) {
    puts_(o, " is on the stack; the call would write ");
    put_bytes(o, r->access_size);
    puts_(o, ", over the saved return address at ");
    put_hex(o, r->limit);
    puts_(o, " (");
    put_bytes(o, r->limit - r->addr);
    puts_(o, " from the buffer)");
    return;
  }
  const struct cg_ptr_info *p = r->ptr;
  if (p && p->cls == CG_PTR_READONLY) {
    puts_(o, " is in read-only memory (a literal or code) of ");
    puts_(o, p->module);
    puts_(o, "+");
    put_hex(o, r->addr - p->module_base);
  } else {
    puts_(o, " is in a mapping without write permission");
  }
  puts_(o, r->fault ? "; the faulting instruction writes there" : "; the call would write ");
  if (!r->fault) put_bytes(o, r->access_size);
}

/* The sentence after the header: where the address is. */
static void describe(struct out *o, const struct cg_report *r) {
  if (r->kind == CGOGUARD_LEAK) {
    put_dec(o, (int64_t)r->size);
    puts_(o, r->size == 1 ? " byte in " : " bytes in ");
    put_dec(o, (int64_t)r->leak_blocks);
    puts_(o, r->leak_blocks == 1 ? " block" : " blocks");
    puts_(o, " still allocated at exit, allocated at the same place (one is at ");
    put_hex(o, r->addr);
    puts_(o, ")");
    return;
  }
  if (r->access) {
    describe_access(o, r);
    return;
  }
  put_hex(o, r->addr);
  const struct cg_ptr_info *p = r->ptr;
  if (r->kind == CGOGUARD_DOUBLE_FREE) {
    puts_(o, " is the start of a ");
    put_dec(o, (int64_t)r->size);
    puts_(o, "-byte block that was already freed");
    return;
  }
  if (!p) {
    puts_(o, " is not a live block");
    return;
  }
  switch (p->cls) {
  case CG_PTR_INTERIOR:
  case CG_PTR_FREED_INTERIOR:
    puts_(o, " is ");
    put_dec(o, (int64_t)(r->addr - p->block));
    puts_(o, p->cls == CG_PTR_INTERIOR ? " bytes inside a live " : " bytes inside a freed ");
    put_dec(o, (int64_t)p->block_size);
    puts_(o, "-byte block at ");
    put_hex(o, p->block);
    puts_(o, " (not its start)");
    break;
  case CG_PTR_STACK: puts_(o, " is on a thread's stack"); break;
  case CG_PTR_GLOBAL:
  case CG_PTR_READONLY:
    puts_(o, p->cls == CG_PTR_GLOBAL ? " is in the writable data of "
                                     : " is in read-only memory (a literal or code) of ");
    puts_(o, p->module);
    puts_(o, "+");
    put_hex(o, r->addr - p->module_base);
    break;
  case CG_PTR_GO: puts_(o, " is Go-managed memory (Go heap or goroutine stack)"); break;
  default: puts_(o, " was never returned by the allocator"); break;
  }
}

static void what(struct out *o, const struct cg_report *r) {
  switch (r->kind) {
  case CGOGUARD_LEAK: puts_(o, "never freed"); return;
  case CGOGUARD_DOUBLE_FREE: puts_(o, "second free of a block"); return;
  case CGOGUARD_INVALID_FREE: puts_(o, "free of a pointer the allocator never returned"); return;
  default: break;
  }
  puts_(o, r->access == CG_ACC_WRITE ? "WRITE" : "READ");
  if (r->kind == CGOGUARD_NULL_POINTER) {
    puts_(o, " through a NULL argument");
  } else if (r->action == CG_ACT_SIGNAL && !r->access_size) {
    puts_(o, " that faulted");
  } else if (r->access_size) {
    puts_(o, " of ");
    put_bytes(o, r->access_size);
  } else {
    puts_(o, " up to a NUL");
  }
}

static const char *action_text(int a) {
  switch (a) {
  case CG_ACT_ABORT: return "aborting (mode=abort)";
  case CG_ACT_SKIPPED: return "the call was skipped, continuing (mode=neutralize)";
  case CG_ACT_CLAMPED: return "the call was clamped to the block, continuing (mode=neutralize)";
  case CG_ACT_SIGNAL:
    return "the signal was handed on (to the program's handler, or its default action)";
  default: return "continuing";
  }
}

static bool cgo_plumbing(const char *fn) {
  if (cg_strneq(fn, "runtime.", 8) || cg_strneq(fn, "_cgo_", 5)) return true;
  for (; *fn; fn++)
    if (cg_strneq(fn, "._Cfunc_", 8)) return true;
  return false;
}

/* The frame a SUMMARY names: the first that is the program's own code, not
 * the cgo call machinery (runtime.asmcgocall, main._Cfunc_free, ...). */
static int first_own_frame(int nf) {
  for (int i = 0; i < nf; i++)
    if (frames[i].function[0] && !cgo_plumbing(frames[i].function)) return i;
  return 0;
}

static void format_text(struct out *o, const struct cg_report *r, int nf, int na, int nfr) {
  const char *kind = kind_names[r->kind];
  puts_(o, "=================================================================\n==");
  put_dec(o, getpid());
  puts_(o, "==ERROR: cgoguard: ");
  puts_(o, kind);
  puts_(o, " on address ");
  put_hex(o, r->addr);
  puts_(o, " (");
  what(o, r);
  puts_(o, ") in ");
  puts_(o, r->func);
  puts_(o, " by thread T");
  put_dec(o, cg_gettid());
  puts_(o, "\n");
  text_frames(o, frames, nf);
  puts_(o, "\n");
  describe(o, r);
  puts_(o, "\n");
  if (r->has_block) {
    puts_(o, "block allocated at:\n");
    if (na) text_frames(o, frames + nf, na);
    else puts_(o, "    <unknown>\n");
  }
  if (r->has_free) {
    puts_(o, "block freed by thread T");
    put_dec(o, r->free_tid);
    puts_(o, " at:\n");
    if (nfr) text_frames(o, frames + nf + na, nfr);
    else puts_(o, "    <unknown>\n");
  }
  puts_(o, "action: ");
  puts_(o, action_text(r->action));
  puts_(o, "\nsignature: ");
  put_sig(o, r->signature);
  puts_(o, "\nSUMMARY: cgoguard: ");
  puts_(o, kind);
  if (r->kind == CGOGUARD_LEAK) {
    puts_(o, " of ");
    put_dec(o, (int64_t)r->size);
    puts_(o, " bytes in ");
    put_dec(o, (int64_t)r->leak_blocks);
    puts_(o, r->leak_blocks == 1 ? " block" : " blocks");
    if (na && frames[nf].function[0]) puts_(o, " from "), puts_(o, frames[nf].function);
  }
  if (nf) {
    const struct cg_frame *f = &frames[first_own_frame(nf)];
    puts_(o, " (");
    puts_(o, f->module);
    puts_(o, "+");
    put_hex(o, f->module_offset);
    puts_(o, ")");
    if (f->function[0]) puts_(o, " in "), puts_(o, f->function);
  }
  puts_(o, "\n=================================================================\n");
}

static void format_json(struct out *o, const struct cg_report *r, int nf, int na, int nfr) {
  char desc[512];
  struct out d = {desc, 0, sizeof desc - 1};
  describe(&d, r);
  desc[d.n] = 0;
  puts_(o, "{\"kind\":\"");
  puts_(o, kind_names[r->kind]);
  puts_(o, "\",\"pid\":");
  put_dec(o, getpid());
  puts_(o, ",\"tid\":");
  put_dec(o, cg_gettid());
  puts_(o, ",\"address\":\"");
  put_hex(o, r->addr);
  puts_(o, "\",\"size\":");
  if (r->has_block) put_dec(o, (int64_t)r->size);
  else puts_(o, "null");
  puts_(o, ",\"function\":");
  put_json_str(o, r->func);
  puts_(o, ",\"mode\":\"");
  puts_(o, cg_opt.mode == CG_MODE_ABORT ? "abort" : "neutralize");
  puts_(o, "\",\"action\":\"");
  puts_(o, action_names[r->action]);
  puts_(o, "\",\"signature\":\"");
  put_sig(o, r->signature);
  puts_(o, "\",\"description\":");
  put_json_str(o, desc);
  if (r->ptr) {
    puts_(o, ",\"class\":\"");
    puts_(o, cg_ptr_class_name(r->ptr->cls));
    puts_(o, "\"");
    if (r->ptr->module[0]) puts_(o, ",\"module\":"), put_json_str(o, r->ptr->module);
  }
  if (r->access) {
    puts_(o, ",\"access\":\"");
    puts_(o, r->access == CG_ACC_WRITE ? "write" : "read");
    puts_(o, "\",\"access_size\":");
    if (r->access_size) put_dec(o, (int64_t)r->access_size);
    else puts_(o, "null");
    /* which argument of the call; null for an instruction (a fault) */
    puts_(o, ",\"argument\":");
    if (r->arg > 0) put_dec(o, r->arg);
    else puts_(o, "null");
  }
  if (r->limit) puts_(o, ",\"return_address_slot\":\""), put_hex(o, r->limit), puts_(o, "\"");
  if (r->kind == CGOGUARD_LEAK) puts_(o, ",\"blocks\":"), put_dec(o, (int64_t)r->leak_blocks);
  if (r->has_block) {
    puts_(o, ",\"block\":\"");
    put_hex(o, r->block);
    puts_(o, "\",\"offset\":");
    put_dec(o, (int64_t)(r->addr - r->block));
  }
  puts_(o, ",\"stack\":");
  json_frames(o, frames, nf);
  puts_(o, ",\"alloc_site\":");
  if (r->has_block) puts_(o, "{\"stack\":"), json_frames(o, frames + nf, na), puts_(o, "}");
  else puts_(o, "null");
  puts_(o, ",\"free_site\":");
  if (r->has_free) {
    puts_(o, "{\"tid\":");
    put_dec(o, r->free_tid);
    puts_(o, ",\"stack\":");
    json_frames(o, frames + nf + na, nfr);
    puts_(o, "}");
  } else {
    puts_(o, "null");
  }
  puts_(o, "}\n");
}

/* A known bug the suppressions file names: counted there, not reported. */
static bool suppressed(int kind, const uintptr_t *pcs, int n) {
  if (!cg_suppressions_active() || !report_lock_take()) return false;
  bool s = cg_suppressed(kind, pcs, n);
  cg_lock_release(&report_lock);
  return s;
}

void cg_report(struct cg_report *r) {
  bool abort_now = r->action == CG_ACT_ABORT;
  uintptr_t pcs[256];
  int depth = cg_opt.stack_depth < 256 ? cg_opt.stack_depth : 256;
  cg_tls.depth++;
  int nf = cg_unwind_pcs(pcs, depth);
  /* suppressed: the caller neutralises the call, whatever the mode */
  if (suppressed(r->kind, pcs, nf)) {
    cg_tls.depth--;
    return;
  }
  atomic_fetch_add(&cg_error_counts[r->kind], 1);
  r->signature = signature(r->kind, pcs, nf);
  /* neutralize mode: a bug in a loop is reported once, then counted */
  if (!abort_now && cg_opt.dedup && !first_sighting(r->signature, r->kind)) {
    cg_tls.depth--;
    return;
  }
  if (cg_opt.max_reports >= 0 && atomic_fetch_add(&reports_written, 1) >= cg_opt.max_reports) {
    cg_tls.depth--;
    if (abort_now) abort();
    return;
  }
  if (!report_lock_take()) { /* see report_lock_take: counted above */
    cg_tls.depth--;
    if (abort_now) abort();
    return;
  }
  cg_log_open();
  for (int i = 0; i < nf; i++) cg_describe_frame(pcs[i], &frames[i]);
  int na = r->has_block ? site_frames(r->alloc_site, frames + nf, depth) : 0;
  int nfr = r->has_free ? site_frames(r->free_site, frames + nf + na, depth) : 0;
  struct out o = {report_buf, 0, sizeof report_buf};
  if (cg_opt.log_format == CG_FORMAT_JSON) format_json(&o, r, nf, na, nfr);
  else format_text(&o, r, nf, na, nfr);
  cg_log_line(report_buf, o.n);
  if (abort_now) {
    atomic_store(&cg_aborting, 1); /* no exit-time reports after this one */
    abort(); /* the log is complete: Go prints its traces now */
  }
  cg_lock_release(&report_lock);
  cg_tls.depth--;
}

/* fork() waits for another thread's report in progress (the child gets
 * whole log lines and consistent suppression decisions).  Not when this
 * thread is inside a report itself: a SIGABRT handler that forks after
 * our abort() would wait for itself. */
static bool fork_took_lock;
void cg_report_atfork_prepare(void) {
  fork_took_lock = cg_tls.depth == 0;
  if (fork_took_lock) cg_lock_acquire(&report_lock);
}
void cg_report_atfork_parent(void) {
  if (fork_took_lock) cg_lock_release(&report_lock);
}
void cg_report_atfork_child(void) { cg_lock_release(&report_lock); }

/* One leak report: `blocks` live blocks of `bytes` in all, allocated at
 * `site`; its stack is the allocation stack. */
bool cg_report_leak(uintptr_t example, uint32_t site, uint64_t blocks, uint64_t bytes) {
  struct cg_report r = {
      .kind = CGOGUARD_LEAK, .func = "exit", .addr = example, .size = bytes,
      .action = CG_ACT_CONTINUED, .has_block = true, .block = example, .alloc_site = site,
      .leak_blocks = blocks,
  };
  uintptr_t pcs[256];
  int depth = cg_opt.stack_depth < 256 ? cg_opt.stack_depth : 256;
  int n = depot_get(site, pcs, depth);
  cg_tls.depth++;
  if (suppressed(CGOGUARD_LEAK, pcs, n)) {
    cg_tls.depth--;
    return false;
  }
  atomic_fetch_add(&cg_error_counts[CGOGUARD_LEAK], 1);
  r.signature = signature(CGOGUARD_LEAK, pcs, n);
  cg_lock_acquire(&report_lock);
  cg_log_open();
  /* the current stack is only the exit path: the allocation stack is the
   * one that leads to the bug (JSON "stack" and "alloc_site" both) */
  int na = site_frames(site, frames, depth);
  struct out o = {report_buf, 0, sizeof report_buf};
  if (cg_opt.log_format == CG_FORMAT_JSON) {
    cg_copy(frames + na, frames, sizeof frames[0] * (size_t)na);
    format_json(&o, &r, na, na, 0);
  } else {
    format_text(&o, &r, 0, na, 0);
  }
  cg_log_line(report_buf, o.n);
  cg_lock_release(&report_lock);
  cg_tls.depth--;
  return true;
}

/* s, or its first 200 bytes and "...": a summary line stays whole. */
static const char *cut(const char *s, char *buf, size_t cap) {
  size_t n = cg_strlen(s);
  if (n <= 200 || cap < 204) return s;
  cg_copy(buf, s, 200);
  cg_copy(buf + 200, "...", 4);
  return buf;
}

/* At exit: how often each suppression rule matched (only rules that did). */
void cg_report_suppressions(void) {
  static char buf[1024];
  const struct cg_supp_rule *used[CG_SUPP_MAX_RULES];
  int n = cg_suppressions_used(used, CG_SUPP_MAX_RULES);
  if (!n) return;
  cg_tls.depth++;
  cg_lock_acquire(&report_lock);
  cg_log_open();
  for (int i = 0; i < n; i++) {
    struct out o = {buf, 0, sizeof buf - 2};
    const char *kind = used[i]->kind == CG_SUPP_ANY_KIND ? "*" : kind_names[used[i]->kind];
    uint64_t hits = atomic_load(&used[i]->hits);
    char pat_buf[204], file_buf[204];
    const char *pat = cut(used[i]->pattern, pat_buf, sizeof pat_buf);
    const char *file = cut(cg_opt.suppressions, file_buf, sizeof file_buf);
    if (cg_opt.log_format == CG_FORMAT_JSON) {
      puts_(&o, "{\"summary\":\"suppressions\",\"pid\":");
      put_dec(&o, getpid());
      puts_(&o, ",\"kind\":\"");
      puts_(&o, kind);
      puts_(&o, "\",\"pattern\":");
      put_json_str(&o, pat);
      puts_(&o, ",\"file\":");
      put_json_str(&o, file);
      puts_(&o, ",\"line\":");
      put_dec(&o, used[i]->line);
      puts_(&o, ",\"count\":");
      put_dec(&o, (int64_t)hits);
      puts_(&o, "}");
    } else {
      puts_(&o, "==");
      put_dec(&o, getpid());
      puts_(&o, "==cgoguard: suppression '");
      puts_(&o, kind);
      puts_(&o, ":");
      puts_(&o, pat);
      puts_(&o, "' (");
      puts_(&o, file);
      puts_(&o, ":");
      put_dec(&o, used[i]->line);
      puts_(&o, ") matched ");
      put_dec(&o, (int64_t)hits);
      puts_(&o, hits == 1 ? " time" : " times");
    }
    buf[o.n++] = '\n';
    cg_log_line(buf, o.n);
  }
  cg_lock_release(&report_lock);
  cg_tls.depth--;
}
