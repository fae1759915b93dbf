/* Robustness cases for tests/integration/robust.sh, one per argv[1]: what a
 * long-running service does to an allocator (fork, exec, threads by the
 * thousand, dlopen/dlclose, signals, unwritable logs, out of memory, closed
 * descriptors).  Each case prints what it saw on stdout, one fact a line,
 * and "survived" at its end; the script checks them.
 *
 * Built with -O0 -fno-builtin: every call reaches libc (and the shim). */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgoguard.h" /* weak: the counters when the shim is loaded */

extern char **environ;
static const char *self_path;

/* Opaque to the optimiser: the bugs below must really happen. */
static void *volatile launder_slot;
static void *launder(void *p) {
  launder_slot = p;
  return launder_slot;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

static uint64_t count(int kind) { return cgoguard_error_count ? cgoguard_error_count(kind) : 0; }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One double free, at a site of its own. */
static __attribute__((noinline)) void double_free(size_t n) {
  char *p = malloc(n);
  memset(p, 'd', n);
  free(p);
  free(launder(p));
}

/* A little of everything the malloc family has, and string calls on it. */
static unsigned churn(unsigned seed, int rounds) {
  char *keep[16] = {0};
  for (int i = 0; i < rounds; i++) {
    seed = seed * 1103515245u + 12345u;
    int k = (seed >> 8) % 16;
    size_t n = 1 + (seed >> 12) % 600;
    switch ((seed >> 4) % 5) {
    case 0: free(keep[k]); keep[k] = malloc(n); memset(keep[k], 'a', n - 1); keep[k][n - 1] = 0; break;
    case 1: free(keep[k]); keep[k] = calloc(1, n); break;
    case 2: if (keep[k]) { keep[k] = realloc(keep[k], n); keep[k][n - 1] = 0; } break;
    case 3: if (keep[k]) { char *d = strdup(keep[k]); if (strlen(d) != strlen(keep[k])) abort(); free(d); } break;
    default: free(keep[k]); keep[k] = NULL; break;
    }
  }
  for (int k = 0; k < 16; k++) free(keep[k]);
  return seed;
}

/* ---- fork ---------------------------------------------------------------- */

static atomic_int stop_workers;
static void *worker(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop_workers)) seed = churn(seed, 1000);
  return NULL;
}
static pthread_t workers[4];
static void start_workers(void) {
  for (int i = 0; i < 4; i++) pthread_create(&workers[i], NULL, worker, (void *)(uintptr_t)(i + 1));
}
static void stop_all_workers(void) {
  atomic_store(&stop_workers, 1);
  for (int i = 0; i < 4; i++) pthread_join(workers[i], NULL);
}

static void *child_thread(void *arg) {
  (void)arg;
  churn(7, 2000);
  return NULL;
}

/* fork while four threads allocate (so the shim's locks may be held at the
 * fork); each child allocates, starts a thread, frees twice, exits. */
static int case_fork(int n, bool do_exec) {
  start_workers();
  int ok = 0;
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) { say("fork failed: %s", strerror(errno)); break; }
    if (pid == 0) {
      if (do_exec) {
        churn(3, 200); /* between fork and exec, as shells and runtimes do */
        char *args[] = {(char *)self_path, "child-work", NULL};
        execv(self_path, args);
        _exit(127);
      }
      churn(11, 20000);
      pthread_t t;
      pthread_create(&t, NULL, child_thread, NULL);
      pthread_join(t, NULL);
      double_free(40);
      if (count(CGOGUARD_DOUBLE_FREE) != 1 && cgoguard_error_count) _exit(3);
      exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) { say("waitpid failed"); break; }
    say("child=%d status=%d", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
  }
  stop_all_workers();
  say("children ok %d of %d", ok, n);
  double_free(56);
  say("parent=%d", (int)getpid());
  return 0;
}

/* The exec'd child of fork-exec: allocates, one double free, exits. */
static int case_child_work(void) {
  churn(5, 20000);
  double_free(72);
  return 0;
}

/* ---- exec of non-Go children ---------------------------------------------- */

static int run_wait(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs argv with stdout into buf; returns the exit status. */
static int capture(char *const argv[], char *buf, size_t cap, bool spawn) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid;
  if (spawn) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) return -1;
    posix_spawn_file_actions_destroy(&fa);
  } else {
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      execv(argv[0], argv);
      _exit(127);
    }
  }
  close(fds[1]);
  size_t n = 0;
  ssize_t r;
  while (n + 1 < cap && (r = read(fds[0], buf + n, cap - 1 - n)) > 0) n += (size_t)r;
  buf[n] = 0;
  char sink[4096];
  while (read(fds[0], sink, sizeof sink) > 0) {}
  close(fds[0]);
  return run_wait(pid);
}

static int case_exec(void) {
  static char buf[1 << 20];
  char *p = strdup("allocated before the children");
  char *t[] = {"/bin/true", NULL};
  char *e[] = {"/usr/bin/env", NULL};
  char *m[] = {"/bin/cat", "/proc/self/maps", NULL};
  say("true status=%d", capture(t, buf, sizeof buf, false));
  int st = capture(e, buf, sizeof buf, false);
  say("env status=%d", st);
  say("env LD_PRELOAD %s", strstr(buf, "LD_PRELOAD=") && strstr(buf, "libcgoguard") ? "inherited" : "missing");
  say("env CGOGUARD_OPTIONS %s", strstr(buf, "CGOGUARD_OPTIONS=") ? "inherited" : "missing");
  st = capture(m, buf, sizeof buf, false);
  say("cat maps status=%d shim %s", st, strstr(buf, "libcgoguard") ? "loaded" : "not loaded");
  st = capture(e, buf, sizeof buf, true);
  say("spawned env status=%d LD_PRELOAD %s", st, strstr(buf, "libcgoguard") ? "inherited" : "missing");
  say("system status=%d", WEXITSTATUS(system("/bin/true && /usr/bin/env >/dev/null")));
  say("string intact %s", strcmp(p, "allocated before the children") == 0 ? "yes" : "no");
  free(p);
  say("survived");
  fflush(stdout);
  /* and the process itself becomes /usr/bin/env after allocating */
  for (int i = 0; i < 1000; i++) free(malloc((size_t)i + 1));
  execv(e[0], e);
  say("execv failed: %s", strerror(errno));
  return 1;
}

/* ---- threads by the thousand ---------------------------------------------- */

static atomic_int detached_left;
static void *thread_body(void *arg) {
  unsigned i = (unsigned)(uintptr_t)arg;
  char *p = malloc(32 + i % 300);
  char *s = strdup("a thread's string");
  memcpy(p, s, strlen(s) + 1);
  free(s);
  free(p);
  void *q = calloc(4, 100);
  free(q);
  return NULL;
}
static void *detached_body(void *arg) {
  thread_body(arg);
  atomic_fetch_sub(&detached_left, 1);
  return NULL;
}
static void *double_free_body(void *arg) {
  (void)arg;
  double_free(88);
  return NULL;
}

/* `batches` batches of n threads (at most 256 alive at once), every
 * thread mallocs and frees; then half as many detached ones; then a fresh
 * thread frees twice.  With more threads in all than the shim has
 * registry records (8192), the last one only gets a record (and a
 * quarantine, so the second free is a double-free and not an unknown
 * pointer) if exited threads gave theirs back. */
static int case_threads(int n, int batches) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 << 10);
  long total = 0;
  for (int b = 0; b < batches; b++) {
    double t0 = now();
    pthread_t ts[256];
    int started = 0, failed = 0;
    for (int i = 0; i < n;) {
      int k = 0;
      for (; k < 256 && i < n; i++) {
        if (pthread_create(&ts[k], &attr, thread_body, (void *)(uintptr_t)i) == 0) k++;
        else failed++;
      }
      for (int j = 0; j < k; j++) pthread_join(ts[j], NULL);
      started += k;
    }
    total += started;
    say("batch %d: %d threads started and joined, %d failed, %.2fs", b + 1, started, failed, now() - t0);
  }
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int dfail = 0;
  for (int i = 0; i < n / 2;) { /* waves of 200, each waited for */
    int k = 0;
    atomic_store(&detached_left, 200);
    for (; k < 200 && i < n / 2; k++, i++) {
      pthread_t t;
      if (pthread_create(&t, &attr, detached_body, (void *)(uintptr_t)i) != 0) {
        atomic_fetch_sub(&detached_left, 1);
        dfail++;
      }
    }
    atomic_fetch_sub(&detached_left, 200 - k);
    while (atomic_load(&detached_left) > 0) usleep(200);
  }
  usleep(100000); /* detached threads run their TLS destructors after the count */
  total += n / 2 - dfail;
  say("detached: %d threads, %d failed", n / 2 - dfail, dfail);
  pthread_t t;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_JOINABLE);
  pthread_create(&t, &attr, double_free_body, NULL);
  pthread_join(t, NULL);
  say("threads in all %ld", total + 1);
  say("double-free count %llu invalid-free count %llu", (unsigned long long)count(CGOGUARD_DOUBLE_FREE),
      (unsigned long long)count(CGOGUARD_INVALID_FREE));
  say("survived");
  return 0;
}

/* ---- dlopen / dlclose -------------------------------------------------------- */

typedef char *(*make_fn)(const char *, int);
typedef void *(*take_fn)(void);

/* The library allocates in its constructor and in lib_make; the main
 * program takes the blocks (the pointers, never code), unloads the library,
 * then reads and frees them: their allocation sites are in unmapped code. */
static int case_dl(const char *lib, int rounds) {
  char *kept[64];
  int nkept = 0;
  void *last_ctor = NULL;
  for (int r = 0; r < rounds; r++) {
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) { say("dlopen: %s", dlerror()); return 1; }
    make_fn make = (make_fn)dlsym(h, "lib_make");
    take_fn take = (take_fn)dlsym(h, "lib_take_ctor_block");
    if (!make || !take) { say("dlsym failed"); return 1; }
    char *s = make("round", r);
    void *c = take();
    if (dlclose(h) != 0) { say("dlclose: %s", dlerror()); return 1; }
    /* the library is gone: use and free what it allocated */
    if (strlen(s) < 5 || strncmp(s, "round", 5) != 0) { say("bad string from the library"); return 1; }
    if (nkept < 64) kept[nkept++] = s;
    else free(s);
    if (r == rounds - 1) last_ctor = c;
    else free(c);
  }
  for (int i = 0; i < nkept; i++) free(kept[i]);
  say("rounds %d", rounds);
  /* a double free of a block whose allocation site was in the unloaded
   * library: the report names an unmapped site and must not crash */
  free(last_ctor);
  free(launder(last_ctor));
  say("double-free count %llu", (unsigned long long)count(CGOGUARD_DOUBLE_FREE));
  /* and a leak whose allocation site is unmapped, for leak_report=1 */
  void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  make_fn make = (make_fn)dlsym(h, "lib_make");
  launder(make("leaked", 1));
  dlclose(h);
  say("survived");
  return 0;
}

/* ---- signals arriving inside malloc ------------------------------------------ */

static volatile sig_atomic_t nsig;
static char *sig_heap_string;
static __thread char sig_tls[256]; /* SIGALRM lands on any thread, several at once */

static void handler_quiet(int sig) {
  (void)sig;
  nsig++;
}

/* Only async-signal-safe calls: POSIX.1-2008 TC2 lists memcpy, memset,
 * strlen, strcpy ... among them; their arguments here are a live heap
 * string (read only), a stack buffer and a thread-local buffer. */
static void handler_strings(int sig) {
  (void)sig;
  int saved = errno;
  char local[128];
  size_t n = strlen(sig_heap_string);
  memcpy(local, sig_heap_string, n + 1);
  memset(sig_tls, 'g', sizeof sig_tls - 1);
  strcpy(sig_tls, local);
  if (strcmp(sig_tls, sig_heap_string) != 0) abort();
  nsig++;
  errno = saved;
}

/* Not async-signal-safe (glibc's malloc is not either): malloc in the
 * handler, while the main loop is in malloc. */
static void handler_malloc(int sig) {
  (void)sig;
  int saved = errno;
  char *p = malloc(48);
  if (p) p[0] = 1;
  free(p);
  nsig++;
  errno = saved;
}

/* Large blocks (jemalloc's extents and their locks, realloc in place by
 * xallocx) on both sides: the handler mallocs one and grows one that the
 * main loop left for it, while the main loop grows its own by realloc. */
static _Atomic(void *) sig_slot;
static void handler_large(int sig) {
  (void)sig;
  int saved = errno;
  free(malloc((1 << 20) + 4096));
  void *b = atomic_exchange(&sig_slot, NULL);
  if (b) {
    void *r = realloc(b, (1 << 20) + (512 << 10));
    free(r ? r : b);
  }
  nsig++;
  errno = saved;
}

/* A bug in the handler, reported, while the interrupted threads free in a
 * loop (their quarantine flushes hold the quarantine's lock now and then):
 *   double-free     a double free
 *   use-after-free  strlen of a freed string
 *   fork-report     a heap overflow in every 50th handler, while the main
 *                   thread forks in a loop (fork() holds the report lock
 *                   and waits for the quarantine's)
 * The report must not wait for the thread it interrupted. */
enum { BUG_DOUBLE_FREE, BUG_USE_AFTER_FREE, BUG_OVERFLOW_SOMETIMES };
static int handler_bug_kind;
static void handler_bug(int sig) {
  (void)sig;
  int saved = errno;
  char *p = malloc(48);
  if (p && handler_bug_kind == BUG_OVERFLOW_SOMETIMES && nsig % 50 == 0)
    strcpy(launder(p), "longer than forty-eight bytes, by a few bytes or so");
  free(p);
  if (handler_bug_kind == BUG_DOUBLE_FREE) {
    free(launder(p));
  } else if (handler_bug_kind == BUG_USE_AFTER_FREE) {
    volatile size_t n = strlen(launder(p));
    (void)n;
  }
  nsig++;
  errno = saved;
}

static unsigned large_rounds(unsigned seed, int rounds) {
  for (int n = 0; n < rounds; n++) {
    char *p = malloc(1 << 20);
    for (int i = 1; p && i <= 8; i++) {
      char *q = realloc(p, (1 << 20) + i * (64 << 10));
      if (!q) break;
      p = q;
      p[(1 << 20) - 1] = (char)i;
    }
    free(p);
    void *none = NULL, *fresh = malloc(1 << 20);
    if (!atomic_compare_exchange_strong(&sig_slot, &none, fresh)) free(fresh);
  }
  return seed;
}

/* fork() in a loop: handlers land while fork holds the allocators' locks. */
static unsigned fork_rounds(unsigned seed, int rounds) {
  for (int n = 0; n < rounds; n++) {
    seed = churn(seed, 20);
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, NULL, 0);
  }
  return seed;
}

static void *signal_worker(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop_workers)) seed = churn(seed, 500);
  return NULL;
}

static int case_signals(const char *kind, double seconds) {
  handler_bug_kind = strcmp(kind, "double-free") == 0      ? BUG_DOUBLE_FREE
                     : strcmp(kind, "use-after-free") == 0 ? BUG_USE_AFTER_FREE
                     : strcmp(kind, "fork-report") == 0    ? BUG_OVERFLOW_SOMETIMES
                                                           : -1;
  void (*h)(int) = handler_bug_kind >= 0              ? handler_bug
                   : strcmp(kind, "quiet") == 0       ? handler_quiet
                   : strcmp(kind, "strings") == 0     ? handler_strings
                   : strcmp(kind, "large") == 0       ? handler_large
                                                      : handler_malloc;
  /* a report in every handler takes far longer than 50 us: one every 2 ms
   * leaves the program time to run */
  bool reports = handler_bug_kind == BUG_DOUBLE_FREE || handler_bug_kind == BUG_USE_AFTER_FREE;
  /* handler_malloc or the sometimes-overflowing handler, main loop forking */
  bool forks = strcmp(kind, "fork") == 0 || handler_bug_kind == BUG_OVERFLOW_SOMETIMES;
  unsigned (*work)(unsigned, int) = h == handler_large ? large_rounds : forks ? fork_rounds : churn;
  sig_heap_string = strdup("a live heap string the handler reads");
  struct sigaction sa = {0};
  sa.sa_handler = h;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, signal_worker, (void *)(uintptr_t)(i + 9));
  long us = reports ? 2000 : 50; /* every 50 us: the kernel delivers what it can */
  struct itimerval it = {{0, us}, {0, us}};
  setitimer(ITIMER_REAL, &it, NULL);
  double end = now() + seconds;
  unsigned seed = 1;
  long rounds = 0;
  while (now() < end) seed = work(seed, h == handler_large ? 4 : forks ? 2 : 200), rounds++;
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  atomic_store(&stop_workers, 1);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  say("signals %ld rounds %ld", (long)nsig, rounds);
  free(sig_heap_string);
  free(atomic_exchange(&sig_slot, NULL));
  say("survived");
  return 0;
}

/* ---- reports that cannot be written ----------------------------------------- */

/* n double frees at one site (dedup=0 reports each), then the counts. */
static int case_doubles(int n) {
  double t0 = now();
  for (int i = 0; i < n; i++) double_free(24);
  say("doubles %d in %.2fs", n, now() - t0);
  say("double-free count %llu", (unsigned long long)count(CGOGUARD_DOUBLE_FREE));
  say("survived");
  return 0;
}

/* t threads, each n double frees at once (max_reports under contention). */
static int par_n;
static void *par_body(void *arg) {
  (void)arg;
  for (int i = 0; i < par_n; i++) double_free(24);
  return NULL;
}
static int case_par_doubles(int t, int n) {
  pthread_t ts[64];
  par_n = n;
  if (t > 64) t = 64;
  for (int i = 0; i < t; i++) pthread_create(&ts[i], NULL, par_body, NULL);
  for (int i = 0; i < t; i++) pthread_join(ts[i], NULL);
  say("double-free count %llu", (unsigned long long)count(CGOGUARD_DOUBLE_FREE));
  say("survived");
  return 0;
}

/* Runs argv[2...] with stderr a pipe nobody reads (a log shipper that
 * died): the write end is fd 2 from the start, the read end is closed. */
static int case_broken_stderr(char **argv) {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  close(fds[0]);
  dup2(fds[1], 2);
  close(fds[1]);
  execv(argv[0], argv);
  return 127;
}

/* ---- closed descriptors -------------------------------------------------------- */

/* close(2), then a double free: the report still reaches the original
 * stderr (the shim keeps its own descriptor for it). */
static int case_close_stderr(void) {
  close(2);
  double_free(32);
  say("double-free count %llu", (unsigned long long)count(CGOGUARD_DOUBLE_FREE));
  say("survived");
  return 0;
}

/* A daemon closes every descriptor but 0-2, then opens its data files: one
 * of them gets the number the shim kept for its log.  A report must not
 * land in the program's own file. */
static int case_close_all(const char *dir) {
  for (int fd = 3; fd < 4096; fd++) close(fd);
  int fds[300], n = 0;
  char path[4096];
  for (; n < 300; n++) {
    snprintf(path, sizeof path, "%s/data.%d", dir, n);
    fds[n] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (fds[n] < 0) break;
  }
  say("opened %d data files, last fd %d", n, n ? fds[n - 1] : -1);
  double_free(48);
  int dirty = 0;
  for (int i = 0; i < n; i++) {
    struct stat st;
    if (fstat(fds[i], &st) == 0 && st.st_size > 0) {
      say("data file %d (fd %d) has %lld bytes", i, fds[i], (long long)st.st_size);
      dirty++;
    }
    close(fds[i]);
  }
  say("dirty data files %d", dirty);
  say("double-free count %llu", (unsigned long long)count(CGOGUARD_DOUBLE_FREE));
  say("survived");
  return 0;
}

/* ---- out of memory ------------------------------------------------------------- */

/* Sizes past the 47-bit address space (256 TiB): no allocator can return
 * them, whatever its overcommit policy (jemalloc maps with MAP_NORESERVE,
 * so 1 TiB can succeed without a ulimit). */
static int case_oom(bool fill) {
  static void *blocks[1 << 16];
  size_t n = 0;
  int err = 0;
  for (; fill && n < sizeof blocks / sizeof *blocks; n++) {
    errno = 0;
    blocks[n] = malloc(1 << 20);
    if (!blocks[n]) { err = errno; break; }
    memset(blocks[n], 1, 4096);
  }
  if (fill)
    say("malloc: %zu MiB, then %s errno=%s", n, n < sizeof blocks / sizeof *blocks ? "NULL" : "no NULL",
      err == ENOMEM ? "ENOMEM" : strerror(err));
  errno = 0;
  void *p = calloc(1 << 24, 1 << 24);
  say("calloc 256 TiB: %s errno=%s", p ? "a block" : "NULL", errno == ENOMEM ? "ENOMEM" : strerror(errno));
  errno = 0;
  p = calloc(SIZE_MAX / 2, 4);
  say("calloc overflow: %s errno=%s", p ? "a block" : "NULL", errno == ENOMEM ? "ENOMEM" : strerror(errno));
  errno = 0;
  p = malloc(SIZE_MAX - 64);
  say("malloc SIZE_MAX: %s errno=%s", p ? "a block" : "NULL", errno == ENOMEM ? "ENOMEM" : strerror(errno));
  char *s = malloc(32);
  strcpy(s, "kept across a failed realloc");
  errno = 0;
  char *r = realloc(s, (size_t)1 << 48);
  say("realloc 256 TiB: %s errno=%s old block %s", r ? "a block" : "NULL",
      errno == ENOMEM ? "ENOMEM" : strerror(errno),
      !r && strcmp(s, "kept across a failed realloc") == 0 ? "intact" : "changed");
  free(r ? r : s);
  void *al = NULL;
  int rc = posix_memalign(&al, 4096, (size_t)1 << 48);
  say("posix_memalign 256 TiB: %s", rc == ENOMEM ? "ENOMEM" : strerror(rc));
  errno = 0;
  p = aligned_alloc(64, (size_t)1 << 48);
  say("aligned_alloc 256 TiB: %s errno=%s", p ? "a block" : "NULL", errno == ENOMEM ? "ENOMEM" : strerror(errno));
  for (size_t i = 0; i < n; i++) free(blocks[i]);
  /* memory is back: allocations work again (1 MiB, the size freed: under
   * RLIMIT_AS jemalloc keeps the address space it had and may not find a
   * larger contiguous range in it, with or without the shim) */
  char *t = malloc(100);
  strcpy(t, "works after OOM");
  void *big = malloc(1 << 20);
  say("after freeing: %s, 1 MiB %s", t, big ? "ok" : "NULL");
  free(big);
  free(t);
  say("invalid-free count %llu double-free count %llu", (unsigned long long)count(CGOGUARD_INVALID_FREE),
      (unsigned long long)count(CGOGUARD_DOUBLE_FREE));
  say("survived");
  return 0;
}

int main(int argc, char **argv) {
  self_path = argv[0];
  if (argc < 2) {
    fprintf(stderr, "usage: robust CASE [ARG]\n");
    return 2;
  }
  const char *c = argv[1];
  int n = argc > 2 ? atoi(argv[2]) : 0;
  if (!strcmp(c, "fork")) return case_fork(n ? n : 50, false);
  if (!strcmp(c, "fork-exec")) return case_fork(n ? n : 50, true);
  if (!strcmp(c, "child-work")) return case_child_work();
  if (!strcmp(c, "exec")) return case_exec();
  if (!strcmp(c, "threads")) return case_threads(n ? n : 5000, argc > 3 ? atoi(argv[3]) : 2);
  if (!strcmp(c, "dl")) return case_dl(argv[2], argc > 3 ? atoi(argv[3]) : 200);
  if (!strcmp(c, "signals")) return case_signals(argv[2], argc > 3 ? atof(argv[3]) : 2.0);
  if (!strcmp(c, "doubles")) return case_doubles(n ? n : 1000);
  if (!strcmp(c, "par-doubles")) return case_par_doubles(n ? n : 8, argc > 3 ? atoi(argv[3]) : 100);
  if (!strcmp(c, "close-stderr")) return case_close_stderr();
  if (!strcmp(c, "close-all")) return case_close_all(argv[2]);
  if (!strcmp(c, "oom")) return case_oom(argc < 3 || strcmp(argv[2], "nofill") != 0);
  if (!strcmp(c, "broken-stderr")) return case_broken_stderr(argv + 2);
  fprintf(stderr, "unknown case %s\n", c);
  return 2;
}
