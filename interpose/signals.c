/* Signals the shim owns: SIGSEGV and SIGBUS (faults explained), SIGUSR2
 * (stats, when stats_path is set).
 *
 * The shim's handler is installed by the constructor, before any program
 * code.  A handler the program installs later through libc's sigaction —
 * Go's runtime does for every signal in a cgo binary — is kept aside, not
 * installed, and called by the shim's handler when it is done; asking for
 * the current handler gets the program's own back (SIG_DFL at first), so
 * Go never learns of the shim and never forwards a signal back to it.  A
 * handler set with signal() or a raw rt_sigaction replaces the shim's.
 *
 * A fault is explained first — a write into read-only memory, an access
 * past the end of a heap block or into a freed one — as a report, then
 * handed on exactly as it would have been: to the program's handler (Go
 * prints its traceback), or to the default action (the instruction runs
 * again and the process dies by the same signal).  A fault that is not
 * about a tracked block or a read-only mapping writes nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction;

struct owned {
  _Atomic int ours;             /* the shim's handler is installed */
  _Atomic int program_set;      /* the program asked for a handler */
  struct sigaction program;     /* ... this one */
};
static struct owned owned[NSIG];

/* Hands a signal to what the program asked for. */
static void hand_on(int sig, siginfo_t *si, void *uc, bool fault) {
  struct owned *o = &owned[sig];
  if (atomic_load(&o->program_set)) {
    const struct sigaction *p = &o->program;
    if (p->sa_flags & SA_SIGINFO) {
      p->sa_sigaction(sig, si, uc);
      return;
    }
    if (p->sa_handler != SIG_IGN && p->sa_handler != SIG_DFL) {
      p->sa_handler(sig);
      return;
    }
    if (p->sa_handler == SIG_IGN && !fault) return;
  }
  if (!fault) return; /* SIGUSR2's default would kill: the shim took it over */
  /* the default action: uninstall, return, and the faulting instruction
   * runs again and dies by the same signal (a core dump where it would) */
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigemptyset(&dfl.sa_mask);
  real_sigaction(sig, &dfl, NULL);
  atomic_store(&o->ours, 0);
  /* a signal sent with kill/raise has no instruction to run again: send it
   * once more, now to the default action */
  if (si->si_code <= 0) syscall(SYS_tgkill, getpid(), cg_gettid(), sig);
}

/* ---- faults ------------------------------------------------------------- */

static _Atomic int explaining;

/* The live or freed block at a, or the live block whose end is less than a
 * page below a (a run past the end into an unmapped page). */
static bool block_near(uintptr_t a, struct cg_block *b) {
  for (uintptr_t d = 0; d <= 4096 && d <= a; d += 16)
    if (cg_heap_block(a - d, b)) return true;
  return false;
}

/* A fault in a sampled block's slot (guard_sample) that was reported and,
 * in neutralize mode, may be let through: the slot's generation then. */
struct sampled_fault {
  bool reported;
  bool setting_up; /* the slot is being given to a new block: try again */
  uint32_t gen;
};

/* Reports a fault about a tracked block or a read-only mapping.  In a
 * sampled block's slot (sampled) it is always about a block (sf->reported). */
static void explain_fault(int sig, siginfo_t *si, ucontext_t *uc, bool sampled,
                          struct sampled_fault *sf) {
  uintptr_t a = (uintptr_t)si->si_addr;
  /* x86-64 page-fault error code: bit 1 set for a write */
  bool write = sig == SIGSEGV && (uc->uc_mcontext.gregs[REG_ERR] & 2);
  bool recover = sampled && cg_neutralizing();
  uintptr_t slot_block = 0;
  if (sampled) sf->gen = cg_guard_slot_state(a, &slot_block);
  struct cg_report r = {
      .func = "memory access", .addr = a, .action = recover ? CG_ACT_CONTINUED : CG_ACT_SIGNAL,
      .fault = true,
      .access = write ? CG_ACC_WRITE : CG_ACC_READ, .access_size = 1, .arg = 0,
  };
  struct cg_block b;
  struct cg_ptr_info info;
  if (sig == SIGSEGV && si->si_code == SI_KERNEL) {
    /* a general-protection fault has no address; a register holding the
     * freed-block fill says a pointer was read from a freed block */
    const uint64_t poison = 0xf5f5f5f5f5f5f5f5ull;
    bool found = false;
    for (int i = 0; i < NGREG && !found; i++)
      found = i != REG_RIP && (uint64_t)uc->uc_mcontext.gregs[i] == poison;
    if (!found) return;
    r.kind = CGOGUARD_USE_AFTER_FREE, r.addr = (uintptr_t)poison, r.access_size = 0;
    r.detail = "is not a pointer: a pointer read from a freed block (its 0xf5 fill) was "
               "dereferenced";
  } else if (sampled ? cg_guard_block(a, &b) : a >= 4096 && block_near(a, &b)) {
    bool freed = cg_meta_state(b.meta) != CG_ST_LIVE;
    if (!freed && a - b.start < b.size) return; /* inside a live block: not a bounds bug */
    if (recover)
      r.detail = "a sampled block (guard_sample): its page is opened and the access goes on, "
                 "reported once";
    r.kind = freed ? CGOGUARD_USE_AFTER_FREE
                   : write ? CGOGUARD_HEAP_OVERFLOW : CGOGUARD_HEAP_OVERREAD;
    r.has_block = true, r.block = b.start, r.size = b.size, r.alloc_site = cg_meta_site(b.meta);
    if (freed) {
      struct qent q;
      r.has_free = quarantine_find(b.start, &q);
      r.free_site = r.has_free ? q.free_site : 0;
      r.free_tid = r.has_free ? q.free_tid : 0;
    }
  } else if (sampled) {
    /* a slot whose block the quarantine has let go: a pointer kept long
     * after its free (or a slot being set up: explained when it faults
     * again) */
    sf->setting_up = slot_block != 0;
    if (sf->setting_up) return;
    r.kind = CGOGUARD_USE_AFTER_FREE;
    r.detail = "is in the page of a sampled block that was freed and has left the quarantine";
  } else if (write && a >= 4096) {
    int prot = cg_mem_prot(a, true);
    if (prot < 0 || (prot & PROT_WRITE)) return; /* unmapped, or another cause */
    cg_classify(a, &info);
    r.kind = CGOGUARD_READONLY_WRITE, r.ptr = &info;
  } else {
    return;
  }
  sf->reported = sampled; /* (suppressed or counted only: let through all the same) */
  cg_report(&r);
}

static void on_fault(int sig, siginfo_t *si, void *uc) {
  int saved = errno;
  ucontext_t *ctx = uc;
  uintptr_t a = (uintptr_t)si->si_addr;
  bool sampled = sig == SIGSEGV && si->si_code > 0 && si->si_code != SI_KERNEL && cg_guarded(a);
  /* not from inside the shim (its own bug would recurse), once at a time */
  if (!cg_tls.depth && si->si_code > 0 && !cg_pc_in_shim((uintptr_t)ctx->uc_mcontext.gregs[REG_RIP])) {
    if (atomic_exchange(&explaining, 1)) {
      if (sampled) {
        /* another thread is explaining a fault: this one's turn comes when
         * the instruction faults again */
        sched_yield();
        errno = saved;
        return;
      }
    } else {
      cg_tls.fault_pc = (uintptr_t)ctx->uc_mcontext.gregs[REG_RIP];
      struct sampled_fault sf = {false, false, 0};
      explain_fault(sig, si, ctx, sampled, &sf);
      cg_tls.fault_pc = 0;
      atomic_store(&explaining, 0);
      if (sampled && cg_neutralizing()) {
        /* the access runs again, now allowed; or, when the slot changed
         * meanwhile (or was being set up), faults again and is explained
         * anew */
        int r = sf.reported ? cg_guard_recover(a, sf.gen) : sf.setting_up ? 0 : -1;
        if (r >= 0) {
          errno = saved;
          return;
        }
      }
    }
  }
  errno = saved;
  hand_on(sig, si, uc, true);
}

/* ---- SIGUSR2: stats ------------------------------------------------------ */

static void on_sigusr2(int sig, siginfo_t *si, void *uc) {
  int saved = errno;
  cg_stats_write();
  errno = saved;
  hand_on(sig, si, uc, false);
}

/* ---- the interposed sigaction --------------------------------------------- */

CG_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (cg_unlikely(!real_sigaction)) real_sigaction = (sigaction_fn)cg_real_symbol("sigaction");
  if (sig <= 0 || sig >= NSIG || !atomic_load(&owned[sig].ours))
    return real_sigaction(sig, act, old);
  struct owned *o = &owned[sig];
  if (old) {
    if (atomic_load(&o->program_set)) *old = o->program;
    else *old = (struct sigaction){.sa_handler = SIG_DFL};
  }
  if (act) {
    o->program = *act;
    atomic_store(&o->program_set, 1);
  }
  return 0;
}

static void take(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa = {.sa_sigaction = fn, .sa_flags = SA_SIGINFO | SA_ONSTACK | flags};
  sigemptyset(&sa.sa_mask);
  struct sigaction before;
  if (real_sigaction(sig, &sa, &before) != 0) return;
  /* a handler already there (a C library's constructor) becomes the next */
  if (before.sa_handler != SIG_DFL || (before.sa_flags & SA_SIGINFO)) {
    owned[sig].program = before;
    atomic_store(&owned[sig].program_set, 1);
  }
  atomic_store(&owned[sig].ours, 1);
}

void cg_signals_init(void) {
  /* always, from the constructor: a lazy dlsym later would reset the
   * program's dlerror() state */
  if (!real_sigaction) real_sigaction = (sigaction_fn)cg_real_symbol("sigaction");
  if (cg_opt.explain_faults) {
    take(SIGSEGV, on_fault, SA_NODEFER);
    take(SIGBUS, on_fault, SA_NODEFER);
  }
  if (cg_opt.stats_path[0]) take(SIGUSR2, on_sigusr2, SA_RESTART);
}
