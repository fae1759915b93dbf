/* Memory-map facts: mapping protections from the maps snapshot, the
 * thread-stack test, and which frame owns a stack buffer. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "unit.h"

#define NOINLINE __attribute__((noinline))

static char global_buf[64] = "writable global";
static const char *literal = "a string literal";

/* ---- cg_mem_prot --------------------------------------------------------- */

static void test_literal_is_readonly(void) {
  int p = cg_mem_prot((uintptr_t)literal, false);
  CHECK(p >= 0 && (p & PROT_READ) && !(p & PROT_WRITE));
  p = cg_mem_prot((uintptr_t)literal + 3, true);
  CHECK(p >= 0 && (p & PROT_READ) && !(p & PROT_WRITE));
  p = cg_mem_prot((uintptr_t)&test_literal_is_readonly, false); /* code */
  CHECK(p >= 0 && (p & PROT_EXEC) && !(p & PROT_WRITE));
}

static void test_global_is_writable(void) {
  CHECK(cg_mem_prot((uintptr_t)global_buf, false) == (PROT_READ | PROT_WRITE));
  CHECK(cg_mem_prot((uintptr_t)global_buf + 63, true) == (PROT_READ | PROT_WRITE));
  int local = 0;
  CHECK(cg_mem_prot((uintptr_t)&local, false) == (PROT_READ | PROT_WRITE));
}

static void test_mprotect_seen_by_fresh_lookup(void) {
  char *m = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED);
  uintptr_t a = (uintptr_t)m + 4096 + 10;
  CHECK(cg_mem_prot(a, true) == PROT_READ);
  CHECK(cg_mem_prot(a, false) == PROT_READ);
  CHECK(mprotect(m + 4096, 4096, PROT_READ | PROT_WRITE) == 0);
  CHECK(cg_mem_prot(a, true) == (PROT_READ | PROT_WRITE));
  CHECK(cg_mem_prot(a, false) == (PROT_READ | PROT_WRITE)); /* the snapshot moved on */
  CHECK(cg_mem_prot(a - 4096, false) == PROT_READ);          /* its neighbours did not */
  CHECK(cg_mem_prot(a + 4096, false) == PROT_READ);
  CHECK(mprotect(m + 4096, 4096, PROT_NONE) == 0);
  int stale = cg_mem_prot(a, false); /* may be stale: only fresh answers count */
  CHECK(stale == (PROT_READ | PROT_WRITE) || stale == 0);
  CHECK(cg_mem_prot(a, true) == 0);  /* mapped, no access */
  CHECK(munmap(m, 3 * 4096) == 0);
  CHECK(cg_mem_prot(a, true) == -1);
}

/* After cg_maps_lost_write (what the mmap/mprotect wrappers call), a
 * plain lookup no longer trusts the snapshot that said "writable". */
static void test_lost_write_makes_snapshot_stale(void) {
  char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED);
  if (m == MAP_FAILED) return;
  CHECK(cg_mem_prot((uintptr_t)m, true) == (PROT_READ | PROT_WRITE));
  CHECK(cg_mem_prot((uintptr_t)m, false) == (PROT_READ | PROT_WRITE));
  CHECK(mprotect(m, 4096, PROT_READ) == 0);
  cg_maps_lost_write();
  CHECK(cg_mem_prot((uintptr_t)m + 100, false) == PROT_READ);
  munmap(m, 4096);
}

static void test_unmapped_is_minus_one(void) {
  CHECK(cg_mem_prot(0x1000, true) == -1); /* below mmap_min_addr */
  CHECK(cg_mem_prot(0x1000, false) == -1);
  CHECK(cg_mem_prot(0, false) == -1);
  CHECK(cg_mem_prot(~(uintptr_t)0 - 4096, true) == -1);
}

static void test_new_mapping_found_after_miss(void) {
  cg_mem_prot((uintptr_t)global_buf, true); /* a re-read just now */
  char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED);
  usleep(30 * 1000); /* past the re-read gap */
  CHECK(cg_mem_prot((uintptr_t)m, false) == PROT_READ); /* miss -> re-read */
  munmap(m, 4096);
}

static double cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Unmapped-looking addresses must not cost a re-read per call: on average a
 * miss must cost well under a re-read (the limit allows one per 10 ms).
 * Thread CPU time on both sides, so a loaded machine does not matter. */
static void test_misses_are_rate_limited(void) {
  double reread = cpu_ns();
  for (int i = 0; i < 20; i++) cg_mem_prot((uintptr_t)global_buf, true);
  reread = (cpu_ns() - reread) / 20;
  long n = unit_scaled(200000), sum = 0;
  double miss = cpu_ns();
  for (long i = 0; i < n; i++) sum += cg_mem_prot(0x10000 + (uintptr_t)(i & 0xffff), false);
  miss = (cpu_ns() - miss) / (double)n;
  CHECK(sum == -n);
  CHECK(miss * 20 < reread);
}

static void test_errno_is_kept(void) {
  errno = 1234;
  cg_mem_prot((uintptr_t)literal, true);
  CHECK(errno == 1234);
  usleep(30 * 1000);
  errno = 4321;
  cg_mem_prot(0x10000, false); /* miss with a re-read */
  CHECK(errno == 4321);
}

/* Readers never see a wrong answer while the maps change and another
 * thread keeps forcing re-reads (run under TSan too).  Mappings that never
 * change must always be answered right; a thread's new stack and the page
 * whose protection flips may be answered stale, and then a fresh lookup
 * must be right (the caller's contract). */
static _Atomic int refresh_stop;
static char *churn_page;

static void *refresher(void *arg) {
  (void)arg;
  while (!atomic_load(&refresh_stop)) {
    void *m = mmap(NULL, 4096 * 2, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cg_mem_prot((uintptr_t)m, true);
    mprotect(churn_page, 4096, PROT_READ | PROT_WRITE);
    cg_mem_prot((uintptr_t)churn_page, true);
    mprotect(churn_page, 4096, PROT_READ);
    munmap(m, 4096 * 2);
  }
  return NULL;
}

struct reader_result {
  long lookups, wrong, unknown, stale;
};

static void *reader(void *arg) {
  struct reader_result *r = arg;
  long n = unit_scaled(300000);
  int local = 0;
  for (long i = 0; i < n; i++) {
    int lp = cg_mem_prot((uintptr_t)literal, false);
    int gp = cg_mem_prot((uintptr_t)global_buf + (i & 63), false);
    int sp = cg_mem_prot((uintptr_t)&local, false);
    int cp = cg_mem_prot((uintptr_t)churn_page + 100, false);
    r->lookups += 4;
    r->unknown += (lp < 0) + (gp < 0);
    r->wrong += (lp >= 0 && lp != PROT_READ) + (gp >= 0 && gp != (PROT_READ | PROT_WRITE));
    if (sp != (PROT_READ | PROT_WRITE)) {
      r->stale++;
      r->wrong += cg_mem_prot((uintptr_t)&local, true) != (PROT_READ | PROT_WRITE);
    }
    if (cp != PROT_READ && cp != (PROT_READ | PROT_WRITE)) {
      r->stale++;
      cp = cg_mem_prot((uintptr_t)churn_page + 100, true);
      r->wrong += cp != PROT_READ && cp != (PROT_READ | PROT_WRITE);
    }
  }
  return NULL;
}

static void test_lookups_during_refreshes(void) {
  churn_page = mmap(NULL, 4096 * 3, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(churn_page != MAP_FAILED);
  churn_page += 4096;
  cg_mem_prot((uintptr_t)churn_page, true);
  atomic_store(&refresh_stop, 0);
  pthread_t w, r[4];
  struct reader_result res[4] = {{0}};
  CHECK(pthread_create(&w, NULL, refresher, NULL) == 0);
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&r[i], NULL, reader, &res[i]) == 0);
  long lookups = 0, wrong = 0, unknown = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(r[i], NULL);
    lookups += res[i].lookups, wrong += res[i].wrong, unknown += res[i].unknown;
  }
  atomic_store(&refresh_stop, 1);
  pthread_join(w, NULL);
  CHECK(wrong == 0);
  CHECK(unknown * 1000 < lookups); /* gave up on a snapshot changing under it: rare */
  munmap(churn_page - 4096, 4096 * 3);
}

static void test_fork_child_can_refresh(void) {
  pid_t pid = fork();
  if (pid == 0) {
    char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    _exit(cg_mem_prot((uintptr_t)m, true) == PROT_READ &&
                  cg_mem_prot((uintptr_t)global_buf, true) == (PROT_READ | PROT_WRITE)
              ? 0
              : 1);
  }
  int st = 0;
  CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- cg_on_thread_stack -------------------------------------------------- */

struct stack_answers {
  bool own_local, other_local, global, heap;
  uintptr_t other;
};

static void *stack_thread(void *arg) {
  struct stack_answers *s = arg;
  char local[32];
  local[0] = 1;
  s->own_local = cg_on_thread_stack((uintptr_t)local + 5);
  s->other_local = cg_on_thread_stack(s->other);
  s->global = cg_on_thread_stack((uintptr_t)global_buf);
  char *h = malloc(16);
  s->heap = cg_on_thread_stack((uintptr_t)h);
  free(h);
  __asm__ volatile("" : : "r"(local) : "memory");
  return NULL;
}

static void test_on_thread_stack(void) {
  char local[32];
  local[0] = 1;
  CHECK(cg_on_thread_stack((uintptr_t)local));
  CHECK(cg_on_thread_stack((uintptr_t)local + 31));
  CHECK(!cg_on_thread_stack((uintptr_t)global_buf));
  CHECK(!cg_on_thread_stack((uintptr_t)literal));
  char *h = malloc(16);
  CHECK(!cg_on_thread_stack((uintptr_t)h));
  free(h);
  struct stack_answers s = {.other = (uintptr_t)local};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, stack_thread, &s) == 0);
  pthread_join(t, NULL);
  CHECK(s.own_local);
  CHECK(!s.other_local); /* the main thread's stack is not the thread's */
  CHECK(!s.global);
  CHECK(!s.heap);
  __asm__ volatile("" : : "r"(local) : "memory");
}

/* ---- cg_stack_frame_limit ------------------------------------------------ */

/* What a wrapper does: depth raised around the call. */
struct probe {
  uintptr_t a, slot;
  bool ok;
};

NOINLINE static void probe(struct probe *p) {
  cg_tls.depth++;
  p->ok = cg_stack_frame_limit(p->a, &p->slot);
  cg_tls.depth--;
  __asm__ volatile("" : : : "memory");
}

/* The owner's view: its buffer, its return address, what was found and
 * what the slot held while the owner was still running. */
struct owner {
  uintptr_t buf, ra, in_slot, fp;
  struct probe p;
};

static void read_slot(struct owner *o) {
  o->in_slot = o->p.ok ? *(const uintptr_t *)o->p.slot : 0;
}

/* The slot must hold the owner's return address and lie above the buffer. */
static bool slot_is_owners(const struct owner *o, size_t buf_len) {
  return o->p.ok && o->p.slot >= o->buf + buf_len && o->in_slot == o->ra;
}

NOINLINE static void mid2(struct probe *p) {
  probe(p);
  __asm__ volatile("" : : : "memory");
}
NOINLINE static void mid1(struct probe *p, int depth) {
  if (depth > 1) mid2(p);
  else probe(p);
  __asm__ volatile("" : : : "memory");
}

NOINLINE static void owner_direct(struct owner *o) {
  char buf[16];
  o->buf = (uintptr_t)buf;
  o->ra = (uintptr_t)__builtin_return_address(0);
  o->p.a = (uintptr_t)buf + 4;
  probe(&o->p);
  read_slot(o);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

NOINLINE static void owner_up(struct owner *o, int depth) {
  char buf[16];
  o->buf = (uintptr_t)buf;
  o->ra = (uintptr_t)__builtin_return_address(0);
  o->p.a = (uintptr_t)buf;
  mid1(&o->p, depth);
  read_slot(o);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

/* __builtin_frame_address forces a frame pointer: the CFA rule is rbp + 16 */
NOINLINE static void owner_fp(struct owner *o) {
  char buf[16];
  o->fp = (uintptr_t)__builtin_frame_address(0);
  o->buf = (uintptr_t)buf;
  o->ra = (uintptr_t)__builtin_return_address(0);
  o->p.a = (uintptr_t)buf;
  mid1(&o->p, 2);
  read_slot(o);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

NOINLINE static void owner_vla(struct owner *o, int len) {
  char buf[len]; /* CFA from rbp: the frame size is not fixed */
  o->buf = (uintptr_t)buf;
  o->ra = (uintptr_t)__builtin_return_address(0);
  o->p.a = (uintptr_t)buf + 1;
  mid1(&o->p, 2);
  read_slot(o);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

static void test_frame_of_caller(void) {
  struct owner o = {0};
  owner_direct(&o);
  CHECK(slot_is_owners(&o, 16));
  /* a write [a, a + n) reaches the slot iff a + n > slot */
  uintptr_t fits = o.p.slot - o.p.a;
  CHECK(fits >= 12);             /* the 12 bytes left of buf fit */
  CHECK(!(o.p.a + fits > o.p.slot));
  CHECK(o.p.a + fits + 1 > o.p.slot);
  CHECK(o.p.a + 256 > o.p.slot); /* strcpy of a long string into buf[16] */
}

static void test_frame_two_and_three_up(void) {
  struct owner o = {0};
  owner_up(&o, 1);
  CHECK(slot_is_owners(&o, 16));
  struct owner o3 = {0};
  owner_up(&o3, 2);
  CHECK(slot_is_owners(&o3, 16));
  CHECK(o3.p.slot - o3.p.a >= 16 && o3.p.a + 16 <= o3.p.slot); /* buf[16] itself fits */
}

static void test_frame_with_frame_pointer_and_vla(void) {
  struct owner o = {0};
  owner_fp(&o);
  CHECK(slot_is_owners(&o, 16));
  CHECK(o.p.slot == o.fp + 8);
  for (int len = 1; len < 300; len += 37) {
    struct owner v = {0};
    owner_vla(&v, len);
    CHECK(slot_is_owners(&v, (size_t)len));
  }
}

/* A frame whose CFA is a DWARF expression (rbx + 16): the walk must go
 * through libunwind.  expr_frame_call(fn, arg) calls fn(arg, frame) where
 * frame points at its 64 bytes of locals; its CFA is frame + 80. */
__asm__(".text\n"
        ".globl expr_frame_call\n"
        ".hidden expr_frame_call\n"
        ".type expr_frame_call, @function\n"
        "expr_frame_call:\n"
        ".cfi_startproc\n"
        "  push %rbx\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset rbx, -16\n"
        "  mov %rsp, %rbx\n"
        ".cfi_escape 0x0f, 0x02, 0x73, 0x10\n" /* def_cfa_expression: breg3 (rbx) + 16 */
        "  sub $64, %rsp\n"
        "  mov %rdi, %rax\n"
        "  mov %rsi, %rdi\n"
        "  mov %rsp, %rsi\n"
        "  call *%rax\n"
        "  mov %rbx, %rsp\n"
        ".cfi_def_cfa rsp, 16\n"
        "  pop %rbx\n"
        ".cfi_def_cfa_offset 8\n"
        "  ret\n"
        ".cfi_endproc\n"
        ".size expr_frame_call, .-expr_frame_call\n");
void expr_frame_call(void (*fn)(void *, char *), void *arg);

struct expr_case {
  struct owner o;
  struct probe in_expr_frame;
  uintptr_t frame;
};

NOINLINE static void expr_cb(void *arg, char *frame) {
  struct expr_case *e = arg;
  e->frame = (uintptr_t)frame;
  e->in_expr_frame.a = (uintptr_t)frame + 8;
  probe(&e->in_expr_frame);
  mid1(&e->o.p, 1);
}

NOINLINE static void owner_above_expr(struct expr_case *e) {
  char buf[16];
  e->o.buf = (uintptr_t)buf;
  e->o.ra = (uintptr_t)__builtin_return_address(0);
  e->o.p.a = (uintptr_t)buf;
  expr_frame_call(expr_cb, e);
  read_slot(&e->o);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

static void test_frame_beyond_expression_cfa(void) {
  struct expr_case e = {0};
  owner_above_expr(&e);
  CHECK(slot_is_owners(&e.o, 16));
  CHECK(e.in_expr_frame.ok && e.in_expr_frame.slot == e.frame + 72);
}

static void test_not_owned(void) {
  struct probe p = {.a = (uintptr_t)global_buf};
  probe(&p);
  CHECK(!p.ok);
  char *h = malloc(32);
  p.a = (uintptr_t)h;
  probe(&p);
  CHECK(!p.ok);
  free(h);
  /* the environment strings lie on the main stack, above every frame */
  if (environ && environ[0] && cg_on_thread_stack((uintptr_t)environ[0])) {
    p.a = (uintptr_t)environ[0];
    probe(&p);
    CHECK(!p.ok);
  }
}

static void *frame_thread(void *arg) {
  long *bad = arg;
  for (long i = 0; i < unit_scaled(20000); i++) {
    struct owner o = {0};
    owner_up(&o, 1 + (int)(i & 1));
    *bad += !slot_is_owners(&o, 16);
  }
  return NULL;
}

static void test_frames_in_threads(void) {
  pthread_t t[4];
  long bad[4] = {0};
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, frame_thread, &bad[i]) == 0);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CHECK(bad[i] == 0);
  }
}

/* In a signal handler: its own buffer is judged; a buffer of the
 * interrupted code lies past the signal frame and is not. */
static struct owner sig_own;
static struct probe sig_interrupted;

static void on_signal(int sig) {
  (void)sig;
  char buf[16];
  sig_own.buf = (uintptr_t)buf;
  sig_own.ra = (uintptr_t)__builtin_return_address(0);
  sig_own.p.a = (uintptr_t)buf;
  probe(&sig_own.p);
  read_slot(&sig_own);
  probe(&sig_interrupted);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

static void test_signal_frames(void) {
  char buf[16];
  struct sigaction sa = {.sa_handler = on_signal}, old;
  sigaction(SIGUSR1, &sa, &old);
  sig_interrupted = (struct probe){.a = (uintptr_t)buf};
  raise(SIGUSR1);
  sigaction(SIGUSR1, &old, NULL);
  CHECK(slot_is_owners(&sig_own, 16));
#ifndef __SANITIZE_THREAD__ /* TSan runs handlers later, from its own frames */
  CHECK(!sig_interrupted.ok);
#endif
  __asm__ volatile("" : : "r"(buf) : "memory");
}

int main(void) {
  RUN(test_literal_is_readonly);
  RUN(test_global_is_writable);
  RUN(test_mprotect_seen_by_fresh_lookup);
  RUN(test_lost_write_makes_snapshot_stale);
  RUN(test_unmapped_is_minus_one);
  RUN(test_new_mapping_found_after_miss);
  RUN(test_misses_are_rate_limited);
  RUN(test_errno_is_kept);
  RUN(test_lookups_during_refreshes);
  RUN(test_fork_child_can_refresh);
  RUN(test_on_thread_stack);
  RUN(test_frame_of_caller);
  RUN(test_frame_two_and_three_up);
  RUN(test_frame_with_frame_pointer_and_vla);
  RUN(test_frame_beyond_expression_cfa);
  RUN(test_not_owned);
  RUN(test_frames_in_threads);
  RUN(test_signal_frames);
  return UNIT_END();
}
