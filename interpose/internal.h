/* cgoguard internal header: the one header every file of the shim shares.
 *
 * Rules that hold everywhere below:
 *  - nothing here calls the interposed malloc family or the string functions
 *    on a hot path; memory comes from jemalloc's non-standard API or mmap;
 *  - slow paths that may call into libc or libunwind (which allocate and
 *    call strcpy) run with cg_tls.depth raised; while it is raised no
 *    report is made (a bad call found there is just neutralised), so the
 *    shim never reports from inside its own reporting;
 *  - reports are formatted into a static buffer and written with write(2).
 */
#ifndef CG_INTERNAL_H
#define CG_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "../include/cgoguard.h"

#define CG_EXPORT __attribute__((visibility("default")))
#define cg_likely(x) __builtin_expect(!!(x), 1)
#define cg_unlikely(x) __builtin_expect(!!(x), 0)
#define CG_NOINLINE __attribute__((noinline))
#define CG_COLD __attribute__((cold, noinline))
#define CG_HOT inline __attribute__((always_inline)) /* hot path: no call */

/* ---- per-thread state (initial-exec TLS: no allocation on access) ------- */

struct cg_thread;
struct cg_tls {
  int depth;          /* >0: inside the shim's own slow path, hooks pass through */
  int tid;            /* cached gettid(); 0 until first use */
  int live_delta;     /* batched contribution to the live-block count */
  int used_delta;     /* batched contribution to the current level's fill */
  unsigned used_gen;  /* table generation used_delta was counted against */
  unsigned inserts;   /* table inserts by this thread, to pace growth checks */
  int exiting;        /* thread-exit destructors ran: take no new record */
  uintptr_t fault_pc; /* reporting a fault: the stack starts at this pc */
  int in_quarantine;  /* inside the quarantine (batch or lock): a signal handler's free must not nest */
  int in_jemalloc;    /* inside a jemalloc call (a signal handler's must not re-enter it) */
  int in_table;       /* inside shadow-table work others may wait for (shadow.c) */
  int in_lock;        /* holding a lock taken by cg_lock_enter */
  int in_fork;        /* between the shim's fork prepare and parent/child handlers */
  struct cg_thread *thread; /* registry record: quarantine batch, tid */
};
extern __thread struct cg_tls cg_tls __attribute__((tls_model("initial-exec")));

/* The in_* marks are read by a signal handler of the same thread: a
 * compiler barrier keeps a mark set before the work it covers and cleared
 * after it, also where that work is inlined (the shim is built with
 * -flto).  No instruction. */
#define CG_MARK(field) ((void)(cg_tls.field++), atomic_signal_fence(memory_order_seq_cst))
#define CG_UNMARK(field) (atomic_signal_fence(memory_order_seq_cst), (void)(cg_tls.field--))

int cg_gettid(void);

/* ---- options (options.c) ------------------------------------------------ */

enum { CG_MODE_ABORT, CG_MODE_NEUTRALIZE };
enum { CG_FORMAT_TEXT, CG_FORMAT_JSON };

struct cg_options {
  int mode;
  int log_format;
  char log_path[512];     /* "stderr" or a path with %p */
  size_t quarantine_bytes;
  int stack_depth;
  long max_reports;       /* <0: unlimited */
  int verbosity;
  int dedup;              /* neutralize: report a signature once, then count */
  int leak_report;        /* at exit, report blocks never freed */
  int leak_exitcode;      /* nonzero: exit status when leaks were reported */
  int error_exitcode;     /* nonzero: exit status when other errors were (neutralize) */
  char stats_path[512];   /* "" or a file for Prometheus counters (%p: pid) */
  int alloc_stacks;       /* 1: whole allocation and free stacks */
  long poison_bytes;      /* freed bytes filled with 0xf5 per block; -1: all */
  int symbolize;          /* 1: function names in-process (no malloc) */
  int explain_faults;     /* 1: SIGSEGV/SIGBUS on a tracked block: report, hand on */
  char suppressions[512]; /* "" or a file of kind:pattern rules (suppress.c) */
  long guard_sample;      /* 0 off; N: about one small block in N guarded (guard.c) */
};
extern struct cg_options cg_opt;

/* Parses `s` (CGOGUARD_OPTIONS syntax) into `o`, starting from the defaults.
 * Each error is written as one line to fd `errfd`; returns the error count.
 * Pure: no allocation, no global state, so unit tests and fuzzers call it. */
int cg_options_parse(const char *s, struct cg_options *o, int errfd);
void cg_options_defaults(struct cg_options *o);

/* ---- raw memory and text helpers (runtime.c) ---------------------------- */

void *cg_os_alloc(size_t bytes);        /* zeroed mmap; NULL on failure */
void cg_os_free(void *p, size_t bytes);
void cg_fill(void *dst, int byte, size_t n);
void cg_copy(void *dst, const void *src, size_t n);
size_t cg_strlen(const char *s);
int cg_streq(const char *a, const char *b);
int cg_strneq(const char *a, const char *b, size_t n);

/* A tiny spin lock for rare slow paths (batch hand-off, reporting). */
typedef struct { _Atomic int v; } cg_lock;
void cg_lock_acquire(cg_lock *l);
bool cg_lock_try(cg_lock *l); /* takes it if free; never waits */
void cg_lock_release(cg_lock *l);
/* Blocks every asynchronous signal on this thread (the old mask in *old,
 * for pthread_sigmask(SIG_SETMASK, old, NULL)): for the few places a
 * signal handler of this thread would wait for the thread itself. */
void cg_block_signals(sigset_t *old);
/* A lock a signal handler may want while it interrupted its own thread
 * holding it (a reservation's set-up, the guarded pool): taken unless this
 * thread holds one already, then false without waiting (the caller does
 * without: one lost sample or slot, a failed allocation). */
bool cg_lock_enter(cg_lock *l);
void cg_lock_leave(cg_lock *l);

/* ---- thread registry (runtime.c) ---------------------------------------- */

struct qbatch;
struct cg_thread {
  _Atomic int in_use;
  int tid;
  struct qbatch *_Atomic batch;   /* this thread's local quarantine batch */
  _Atomic uintptr_t inserting;    /* table view this thread inserts into */
  _Atomic uint64_t allocs;        /* blocks this thread allocated (stats) */
} __attribute__((aligned(64)));   /* written on every insert: no false sharing */
#define CG_MAX_THREADS 8192
struct cg_thread *cg_thread_register(void); /* NULL when the registry is full */
/* This thread's record, registered on first use. */
static inline struct cg_thread *cg_thread_self(void) {
  struct cg_thread *t = cg_tls.thread;
  return cg_likely(t != NULL) ? t : cg_thread_register();
}
struct cg_thread *cg_thread_at(int i);   /* for report-time scans */
int cg_threads_seen(void);               /* records ever used (high-water mark) */
void cg_thread_registered(struct cg_thread *t); /* init.c: exit hook */
/* Allocation counts: a thread's own record, or a shared counter without
 * one; allocations made inside the shim are not the program's. */
static inline void cg_count_alloc(void) {
  extern _Atomic uint64_t cg_allocs_unowned;
  struct cg_thread *t = cg_tls.thread;
  if (cg_tls.depth) return; /* the shim's own (libunwind's, while reporting) */
  if (cg_likely(t != NULL))
    atomic_store_explicit(&t->allocs, atomic_load_explicit(&t->allocs, memory_order_relaxed) + 1,
                          memory_order_relaxed);
  else
    atomic_fetch_add_explicit(&cg_allocs_unowned, 1, memory_order_relaxed);
}
void cg_thread_retire_counts(struct cg_thread *t); /* at thread exit */
uint64_t cg_allocations(void);

/* ---- shadow table (shadow.c) -------------------------------------------- */

/* One live (or quarantined) block: 16 bytes, updated with one 16-byte CAS.
 * key: block address (0 = empty slot, 1 = tombstone).
 * meta: state | site id | requested size, see below. */
typedef struct cg_entry {
  _Atomic uint64_t key;
  _Atomic uint64_t meta;
} __attribute__((aligned(16))) cg_entry;

#define CG_KEY_EMPTY 0ull
#define CG_KEY_TOMB 1ull

#define CG_ST_LIVE 1ull
#define CG_ST_QUARANTINED 2ull
#define CG_ST_MASK 3ull
#define CG_FROZEN 4ull            /* being moved to a newer level */
#define CG_SITE_SHIFT 3
#define CG_SITE_BITS 24
/* The requested size names the block's jemalloc size class (malloc-aligned,
 * never resized in place): free can hand it back with sdallocx, which
 * skips jemalloc's lookup of the block. */
#define CG_SIZED (1ull << (CG_SITE_SHIFT + CG_SITE_BITS))
#define CG_SIZE_SHIFT (CG_SITE_SHIFT + CG_SITE_BITS + 1)
#define CG_SIZE_BITS (64 - CG_SIZE_SHIFT)
#define CG_SIZE_HUGE ((1ull << CG_SIZE_BITS) - 1) /* real size: ask jemalloc */

static inline uint64_t cg_meta(uint64_t state, uint32_t site, uint64_t size) {
  if (size > CG_SIZE_HUGE) size = CG_SIZE_HUGE;
  return state | ((uint64_t)(site & ((1u << CG_SITE_BITS) - 1)) << CG_SITE_SHIFT) |
         (size << CG_SIZE_SHIFT);
}
static inline uint64_t cg_meta_state(uint64_t m) { return m & CG_ST_MASK; }
static inline uint32_t cg_meta_site(uint64_t m) {
  return (uint32_t)((m >> CG_SITE_SHIFT) & ((1u << CG_SITE_BITS) - 1));
}
static inline uint64_t cg_meta_size(uint64_t m) { return m >> CG_SIZE_SHIFT; }
static inline uint64_t cg_meta_with_state(uint64_t m, uint64_t st) {
  return (m & ~(CG_ST_MASK | CG_FROZEN)) | st;
}

/* Inserts a new block (p must not be in the table); returns its entry
 * (which a growth may move later), NULL when out of memory. */
cg_entry *shadow_insert(uintptr_t p, uint64_t meta);
/* Finds p; on success stores its meta (never frozen) and returns the entry. */
cg_entry *shadow_find(uintptr_t p, uint64_t *meta);
/* Starts loading p's home slot into the cache (batched work ahead). */
void shadow_prefetch(uintptr_t p);
/* About `more` entries will be inserted soon (the quarantine filling up). */
void shadow_expect(uint64_t more);
/* 16-byte CAS of an entry found by shadow_find: {p, old} -> {p, new}. */
bool shadow_update(cg_entry *e, uintptr_t p, uint64_t old, uint64_t new_meta);
/* Removes the entry ({p, old} -> tombstone).  false if it changed. */
bool shadow_erase(cg_entry *e, uintptr_t p, uint64_t old);
/* Erases p's quarantined entry (hint: where it was when freed, or NULL);
 * returns its meta, 0 if p was not quarantined. */
uint64_t shadow_release(cg_entry *hint, uintptr_t p);
/* Calls fn for every entry (report time only; racy snapshot). */
void shadow_for_each(void (*fn)(uintptr_t key, uint64_t meta, void *arg), void *arg);
/* Bytes of table memory mapped now. */
size_t shadow_bytes(void);
void shadow_flush_thread_counts(void);
void shadow_atfork_prepare(void);
void shadow_atfork_parent(void);
void shadow_atfork_child(void);

/* Requested size of a tracked block (huge sizes live in jemalloc). */
uint64_t cg_huge_size(uintptr_t p);
static inline uint64_t cg_block_size(uintptr_t p, uint64_t meta) {
  uint64_t n = cg_meta_size(meta);
  return cg_likely(n != CG_SIZE_HUGE) ? n : cg_huge_size(p);
}

/* ---- block starts (heapmap.c) ------------------------------------------- */

/* A tracked block (live or quarantined) found from any address in it. */
struct cg_block {
  uintptr_t start;
  uint64_t size;  /* requested size */
  uint64_t meta;
  cg_entry *entry; /* its table entry, to revalidate a cached answer */
};
/* The last two live blocks this thread allocated or its string calls
 * touched (a copy's source and destination; C.CString's block right after
 * its malloc): string checks and free look here before the table.  Only
 * ever read as a copy and revalidated against the entry (string.c). */
extern __thread struct cg_block cg_recent[2] __attribute__((tls_model("initial-exec")));
static inline void cg_recent_note(const struct cg_block *b) {
  cg_recent[1] = cg_recent[0];
  cg_recent[0] = *b;
}
void heapmap_add(uintptr_t p, uint64_t size);
void heapmap_remove(uintptr_t p);
/* false: the bitmap's reservation was refused; only block starts are found. */
bool heapmap_ready(void);
/* The tracked block whose extent holds a: inside its requested size, or in
 * the slack of its jemalloc size class (then a - start >= size).  Lock-free;
 * no table scan. */
bool cg_heap_block(uintptr_t a, struct cg_block *b);

/* ---- site/stack depot (depot.c) ----------------------------------------- */

/* Interns a stack of `n` return addresses; returns a nonzero id, or 0 when
 * the depot is full.  Lock-free, never calls malloc. */
uint32_t depot_put(const uintptr_t *pcs, int n);
/* Copies up to `max` frames of stack `id` into pcs; returns the count. */
int depot_get(uint32_t id, uintptr_t *pcs, int max);

/* ---- quarantine (quarantine.c) ------------------------------------------ */

struct qent {
  uintptr_t ptr;
  cg_entry *entry;    /* where its table entry was when it was freed */
  uint64_t size;      /* requested size: the byte budget, what to prefetch */
  uint32_t free_site; /* depot id */
  int32_t free_tid;
};

/* Holds a freed block (already marked quarantined in the table). */
void quarantine_push(uintptr_t p, cg_entry *e, uint64_t size, uint32_t free_site);
/* Looks for p in every batch (report time): fills *out, returns true. */
bool quarantine_find(uintptr_t p, struct qent *out);
void quarantine_thread_exit(struct cg_thread *t);
void quarantine_atfork_prepare(void);
void quarantine_atfork_parent(void);
void quarantine_atfork_child(void);

/* ---- allocator backend (alloc.c) ---------------------------------------- */

/* The constructor's part: jemalloc set up, the signal-handler heap reserved. */
void cg_alloc_init(void);
/* The real extent of tracked block s of requested size n (past n: its
 * size class's slack, still its own memory). */
uint64_t cg_block_extent(uintptr_t s, uint64_t n);
/* Returns a quarantined block to jemalloc after erasing its table entry. */
void cg_release_block(uintptr_t p, cg_entry *hint);
uint32_t cg_site_here(uintptr_t caller_pc);
/* alloc_stacks=1: the whole stack (unwind.c); else the caller's address.
 * The shim's own allocations (depth raised) always take the cheap one. */
uint32_t cg_stack_site(uintptr_t caller_pc);
static inline uint32_t cg_site(uintptr_t ret) {
  return cg_unlikely(cg_opt.alloc_stacks) && !cg_tls.depth ? cg_stack_site(ret)
                                                            : cg_site_here(ret);
}
/* strdup's allocation: a tracked block of n + 1 bytes holding s[0..n) and a NUL. */
char *cg_strdup_at(const char *s, size_t n, uintptr_t ret);

/* ---- string checks (string.c), used by the stdio wrappers --------------- */

/* Resolve the real libc functions: from the constructor only, since
 * dlsym resets the program's dlerror() state. */
void cg_string_init(void);
void cg_stdio_init(void);
/* A wrapper passes its call straight through inside the shim's own slow
 * paths and when jemalloc's code is the caller. */
extern uintptr_t cg_jemalloc_text, cg_jemalloc_text_len;
static inline bool cg_pass_through(uintptr_t caller) {
  return cg_unlikely(cg_tls.depth != 0 || caller - cg_jemalloc_text < cg_jemalloc_text_len);
}
/* Checked length of the string s (argument arg of fn), clamped to its
 * block; *st says whether the call may go on as is, was reported and
 * clamped (neutralize), or must be skipped (NULL). */
enum { CG_STR_FINE, CG_STR_CLAMPED, CG_STR_SKIP };
size_t cg_check_str(const char *fn, int arg, const char *s, int *st);
size_t cg_check_strn(const char *fn, int arg, const char *s, size_t max, int *st);
/* The real libc function `name` (dlsym RTLD_NEXT, guarded); aborts if none. */
void *cg_real_symbol(const char *name);
/* Checks a write of n bytes at p; returns how many may be written. */
uint64_t cg_check_write(const char *fn, int arg, void *p, size_t n);
/* Room for a write at p (SIZE_MAX: end unknown; 0: reported).  *stack:
 * the room ends at a saved return address on the stack. */
uint64_t cg_check_write_room(const char *fn, int arg, void *p, bool *stack);

/* ---- pointer classification (classify.c) -------------------------------- */

enum cg_ptr_class {
  CG_PTR_UNKNOWN,
  CG_PTR_INTERIOR,  /* inside a live heap block, not its start */
  CG_PTR_FREED_INTERIOR, /* inside a quarantined block */
  CG_PTR_STACK,
  CG_PTR_GLOBAL,    /* writable data of a loaded module */
  CG_PTR_READONLY,  /* read-only segment of a loaded module (literal, code) */
  CG_PTR_GO,        /* Go-managed memory: heap or goroutine stack */
  CG_PTR_LOADER,    /* the dynamic loader's own memory: never reported */
};

struct cg_ptr_info {
  int cls;
  uintptr_t block;      /* containing block (interior classes) */
  uint64_t block_size;
  uint64_t block_meta;
  char module[256];     /* owning module (global/readonly) */
  uintptr_t module_base;
};
void cg_classify(uintptr_t p, struct cg_ptr_info *info);
const char *cg_ptr_class_name(int cls);
struct dl_phdr_info;
/* A module built by Go (a PT_NOTE named "Go"). */
bool cg_phdr_is_go(struct dl_phdr_info *info);
/* Finds the block whose [start, start+size) contains p (report time). */
bool cg_find_containing_block(uintptr_t p, uintptr_t *start, uint64_t *meta);

/* ---- unwinding (unwind.c) ----------------------------------------------- */

struct cg_frame {
  uintptr_t pc;
  char function[128];   /* empty when unknown */
  uintptr_t offset;     /* pc - function start */
  const char *module;   /* points into a static module table */
  uintptr_t module_offset;
};
/* Captures the current stack as return addresses, skipping the shim's own
 * frames: libunwind through the C frames, then the goroutine's
 * frame-pointer chain where C was entered from Go. */
int cg_unwind_pcs(uintptr_t *pcs, int max);
/* pc is in the shim's own code. */
bool cg_pc_in_shim(uintptr_t pc);
/* The executable segment of the module that holds addr. */
bool cg_text_of(uintptr_t addr, uintptr_t *lo, uintptr_t *len);
/* Function (from symbol tables, Go's included) and module of a pc. */
void cg_describe_frame(uintptr_t pc, struct cg_frame *f);
/* symbolize.c: the function holding addr (pc minus load bias) in the
 * .symtab of the module file at path; no malloc. */
bool cg_symtab_name(const char *path, uintptr_t addr, char *out, size_t cap, uintptr_t *off);
/* Fills function/module for a bare pc (stored sites). */
void cg_describe_pc(uintptr_t pc, struct cg_frame *f);
/* cg_describe_frame with function names even when symbolize=0. */
void cg_describe_named(uintptr_t pc, struct cg_frame *f);
/* A module path for dladdr/dl_iterate_phdr names ("" is the main program). */
const char *cg_module_name(const char *name);

/* ---- printf format walking (format.c) ----------------------------------- */

/* One %s argument of a printf-family call.  `slot` is where the argument
 * lives in the va_list's save areas (x86-64: register save area or overflow
 * area), so a neutralising caller can replace the pointer before the real
 * call reads it; NULL when unknown.  precision < 0: none given. */
struct cg_fmt_str {
  const char *s;
  long precision;
  const char **slot;
  int index;            /* 1-based argument number */
};
typedef void (*cg_fmt_str_fn)(const struct cg_fmt_str *arg, void *ctx);
/* Walks `fmt` with a copy of the caller's argument list, calling fn for each
 * narrow %s argument (not %ls/%S).  Handles flags, widths and precisions
 * (also '*' and '*N$'), length modifiers and positional arguments (%N$).
 * Returns the number of %s arguments seen, or -1 when the format is one it
 * cannot walk safely (then no callback was made).  No malloc, no libc
 * string calls. */
int cg_format_strings(const char *fmt, va_list ap, cg_fmt_str_fn fn, void *ctx);

/* ---- memory map facts (memmap.c) ---------------------------------------- */

/* Protection of the mapping holding address a: PROT_* bits (0: mapped with
 * no access), or -1 when no mapping holds it.  Answers from a snapshot of
 * /proc/self/maps (re-read at most every 10 ms on a miss); `fresh` forces a
 * re-read, which a caller does before it reports a read-only write (no
 * false positives when the program changed protections with mprotect).
 * Lock-free for readers, never calls malloc. */
int cg_mem_prot(uintptr_t a, bool fresh);
/* mmap.c: memory just lost write permission; snapshots before this are stale. */
void cg_maps_lost_write(void);

/* For an address on the calling thread's stack: the address of the saved
 * return address of the frame that owns `a` (the innermost frame whose
 * [sp, cfa) holds it), found with the unwinder.  A write that reaches that
 * slot is a stack-buffer-overflow.  false when `a` is not on this thread's
 * stack, or no frame owns it, or unwinding failed (then nothing is judged).
 * Call with cg_tls.depth raised (libunwind allocates). */
bool cg_stack_frame_limit(uintptr_t a, uintptr_t *ret_slot);
/* Cheap test: is `a` between this thread's stack pointer and its stack top? */
bool cg_on_thread_stack(uintptr_t a);
/* Return addresses of the caller's stack by the cached CFA rules; stops at
 * the first frame they do not model and leaves its rbp in *last_bp. */
int cg_fast_backtrace(uintptr_t *pcs, int max, uintptr_t *last_bp);

/* ---- reports (report.c) ------------------------------------------------- */

enum { CG_ACT_ABORT, CG_ACT_SKIPPED, CG_ACT_CLAMPED, CG_ACT_CONTINUED, CG_ACT_SIGNAL };
enum { CG_ACC_NONE, CG_ACC_READ, CG_ACC_WRITE };

struct cg_report {
  int kind;               /* enum cgoguard_kind */
  const char *func;       /* the interposed call: "free", "realloc", ... */
  uintptr_t addr;         /* the address the call was given */
  uint64_t size;          /* size of the block involved, when known */
  int action;
  /* the block involved (double free, interior, use after free) */
  bool has_block;
  uintptr_t block;
  uint32_t alloc_site;
  bool has_free;
  uint32_t free_site;
  int free_tid;
  const struct cg_ptr_info *ptr; /* invalid-free classification */
  /* bad accesses (string and memory calls) */
  int access;             /* CG_ACC_READ / CG_ACC_WRITE */
  uint64_t access_size;   /* bytes the call would touch; 0: up to a NUL */
  int arg;                /* which argument (1-based) */
  uintptr_t limit;        /* stack-buffer-overflow: the return address slot */
  uint64_t signature;     /* set by cg_report: kind + top frames, module-relative */
  uint64_t leak_blocks;   /* leak: how many blocks (size: their bytes) */
  const char *detail;     /* optional extra sentence */
  bool fault;             /* from the fault handler: an instruction, not a call */
  bool written_earlier;   /* a write past the end found later (at free) */
};

/* Writes one report (if under max_reports), counts it, and aborts in
 * mode=abort.  Returns in mode=neutralize.  Caller holds no locks. */
void cg_report(struct cg_report *r);
bool cg_neutralizing(void);
void cg_log_open(void);
void cg_log_line(const char *s, size_t n); /* one preformatted line */
extern _Atomic uint64_t cg_error_counts[CGOGUARD_KIND_COUNT];
void cg_report_atfork_prepare(void);
void cg_report_atfork_parent(void);
void cg_report_atfork_child(void);
/* At exit: how often each signature reported once was seen. */
void cg_report_repeats(void);
/* One leak report; false when a suppression matched (nothing written). */
bool cg_report_leak(uintptr_t example, uint32_t site, uint64_t blocks, uint64_t bytes);
/* At exit: how often each suppression that matched did. */
void cg_report_suppressions(void);
extern _Atomic int cg_aborting; /* a report is aborting the process */

/* ---- the signal-handler heap (sigheap.c) -------------------------------- */

#define CG_SIGHEAP_BYTES ((uintptr_t)8 << 20)
extern uintptr_t cg_sigheap; /* its start once mapped; before, no address tests true */
static inline bool cg_sigheap_has(uintptr_t p) {
  return p - __atomic_load_n(&cg_sigheap, __ATOMIC_RELAXED) < CG_SIGHEAP_BYTES;
}
void cg_sigheap_init(void);
void *cg_sigheap_alloc(size_t n, size_t align); /* NULL when used up */

/* ---- guarded sampling (guard.c) ----------------------------------------- */

#define CG_GUARD_SLOTS 4096u
#define CG_GUARD_POOL_BYTES ((uintptr_t)CG_GUARD_SLOTS * 8192)
extern uintptr_t cg_guard_pool; /* its start once mapped; before, no address tests true */
/* p is in the guarded pool: one load and a compare, for every free */
static inline bool cg_guarded(uintptr_t p) {
  return p - __atomic_load_n(&cg_guard_pool, __ATOMIC_RELAXED) < CG_GUARD_POOL_BYTES;
}
bool cg_guard_pick(void);           /* this allocation is a sampled one */
void *cg_guard_alloc(size_t n);     /* a guarded block, or NULL (not possible) */
uint64_t cg_guard_extent(uintptr_t p); /* bytes from p to its guard page */
bool cg_guard_tail_broken(uintptr_t p, uint64_t size, uintptr_t *first);
void cg_guard_freed(uintptr_t p);   /* free: the page becomes inaccessible */
void cg_guard_release(uintptr_t p); /* the quarantine let it go: slot reused */
bool cg_guard_pool_low(void);       /* few free slots: skip the quarantine */
bool cg_guard_block(uintptr_t a, struct cg_block *b); /* the sampled block of a fault */
uint32_t cg_guard_slot_state(uintptr_t a, uintptr_t *block); /* generation, block */
int cg_guard_recover(uintptr_t a, uint32_t gen); /* neutralize: 1 opened, 0 retry, -1 no */
void cg_guard_atfork_prepare(void);
void cg_guard_atfork_parent(void);
void cg_guard_atfork_child(void);

/* ---- suppressions (suppress.c) ----------------------------------------- */

#define CG_SUPP_MAX_RULES 256
#define CG_SUPP_MAX_BYTES (64 << 10)
#define CG_SUPP_ANY_KIND (-1) /* "*:pattern" */
struct cg_supp_rule {
  int kind;            /* enum cgoguard_kind or CG_SUPP_ANY_KIND */
  int line;            /* in the file, for the summary */
  const char *pattern; /* ASan template: '*', leading '^', trailing '$' */
  _Atomic uint64_t hits;
};
/* Parses a suppressions file's text (s[len] must be writable: lines are
 * cut in place) into at most max rules; one error line per bad line. */
int cg_supp_parse(char *s, size_t len, const char *file, struct cg_supp_rule *out, int max,
                  int errfd, int *errors);
bool cg_supp_match(const char *pattern, const char *s);
/* The first rule for kind naming a function or module of pcs, or NULL. */
struct cg_supp_rule *cg_supp_find(struct cg_supp_rule *rules, int n, int kind,
                                  const uintptr_t *pcs, int npcs);
void cg_suppressions_load(void);  /* constructor: reads cg_opt.suppressions */
bool cg_suppressions_active(void);
/* Is this error (kind, stack) suppressed?  Counts it if so.  Report lock held. */
bool cg_suppressed(int kind, const uintptr_t *pcs, int n);
/* Rules that matched at least once, in file order. */
int cg_suppressions_used(const struct cg_supp_rule **out, int max);
extern _Atomic uint64_t cg_suppressed_counts[CGOGUARD_KIND_COUNT];

/* ---- exit (exit.c, leak.c) ---------------------------------------------- */

/* Writes the leak reports (leak.c); returns how many. */
int cg_leak_report(void);
/* Everything due at exit, once: repeat counts, leaks, stats.  Returns the
 * exit status to use (leak_exitcode when leaks were reported). */
int cg_exit_work(int status);
/* Go programs leave through runtime.exit (exit_group), past every C
 * destructor: hooks it (init.c calls this from the constructor). */
void cg_exit_hook_install(void);

/* ---- stats (stats.c) ----------------------------------------------------- */

/* signals.c: SIGSEGV/SIGBUS explained (explain_faults), SIGUSR2 (stats);
 * the program's own handlers for them are kept and called after. */
void cg_signals_init(void);
void cg_stats_write(void);  /* at exit and on SIGUSR2 */

#endif
