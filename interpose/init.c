/* Start-up, thread exit and fork.  The constructor runs after the first
 * allocations (libstdc++ allocates before it), so it only reads the options
 * and opens the log; everything else is initialised lazily by its owner. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

static pthread_key_t thread_key;
static _Atomic int thread_key_ready;

/* Threads get a record lazily; its destructor flushes the record's
 * quarantine batch when the thread exits. */
static void thread_exit(void *arg) {
  struct cg_thread *t = arg;
  quarantine_thread_exit(t);
  shadow_flush_thread_counts();
  cg_thread_retire_counts(t);
  cg_tls.thread = NULL;
  cg_tls.exiting = 1;
  atomic_store(&t->in_use, 0);
}

void cg_thread_registered(struct cg_thread *t) {
  /* pthread_setspecific may calloc a second-level block: guard it. */
  if (!atomic_load(&thread_key_ready)) return;
  cg_tls.depth++;
  pthread_setspecific(thread_key, t);
  cg_tls.depth--;
}

/* fork() keeps only the calling thread: free the locks others may have
 * held (taken in prepare where they protect data) and their records. */
static __thread sigset_t fork_mask;
static void atfork_prepare(void) {
  /* Until the parent's or the child's handler, this thread holds the
   * shim's locks, and jemalloc (its handler runs after this one) all of
   * its own: no signal handler runs on it meanwhile (one that allocates
   * would wait for them).  Fork handlers of the program still allocate
   * from jemalloc as without the shim. */
  cg_block_signals(&fork_mask);
  cg_report_atfork_prepare(); /* first: no report path takes it after the others */
  quarantine_atfork_prepare();
  shadow_atfork_prepare();
  cg_guard_atfork_prepare();
  /* Fork handlers registered before these (by a library's constructor,
   * which runs before a preloaded library's) run while the locks above are
   * held, and may malloc and free: their frees go straight back to
   * jemalloc, unquarantined, and their mallocs skip the guarded pool,
   * instead of waiting for this thread (quarantine_push, cg_lock_enter) */
  CG_MARK(in_fork);
  CG_MARK(in_lock);
}
static void atfork_parent(void) {
  CG_UNMARK(in_lock);
  CG_UNMARK(in_fork);
  cg_guard_atfork_parent();
  shadow_atfork_parent();
  quarantine_atfork_parent();
  cg_report_atfork_parent();
  pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}
static void atfork_child(void) {
  CG_UNMARK(in_lock);
  CG_UNMARK(in_fork);
  cg_guard_atfork_child();
  quarantine_atfork_child();
  shadow_atfork_child();
  cg_report_atfork_child();
  pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
  cg_tls.tid = 0;
  if (cg_tls.thread) cg_tls.thread->tid = cg_gettid();
  /* Only this thread exists now: release every other record. */
  struct cg_thread *t;
  for (int i = 0; (t = cg_thread_at(i)); i++) {
    if (t == cg_tls.thread || !atomic_load(&t->in_use)) continue;
    quarantine_thread_exit(t);
    cg_thread_retire_counts(t);
    atomic_store(&t->inserting, 0);
    atomic_store(&t->in_use, 0);
  }
}

/* ---- start-up ----------------------------------------------------------- */

__attribute__((constructor(101))) static void cg_constructor(void) {
  cg_tls.depth++;
  const char *env = getenv("CGOGUARD_OPTIONS");
  struct cg_options o;
  cg_options_parse(env ? env : "", &o, 2);
  cg_opt = o;
  cg_alloc_init(); /* before pthread_atfork below: see atfork_prepare */
  cg_log_open();
  cg_suppressions_load();
  cg_string_init();
  cg_stdio_init();
  if (pthread_key_create(&thread_key, thread_exit) == 0) {
    atomic_store(&thread_key_ready, 1);
    if (cg_tls.thread) pthread_setspecific(thread_key, cg_tls.thread);
  }
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  cg_exit_hook_install();
  cg_signals_init();
  cg_tls.depth--;
}

/* A C program's exit (a Go program's goes through the runtime.exit hook).
 * With leak_exitcode and leaks, the exit status becomes that code; stdio
 * is flushed first, as exit() would have. */
__attribute__((destructor(101))) static void cg_destructor(void) {
  int status = cg_exit_work(0);
  if (status != 0) {
    fflush(NULL);
    _exit(status);
  }
}
