/* The memory-map calls, interposed to tell memmap.c when memory loses
 * write permission (a new read-only mapping, an mprotect), so a write
 * into it is reported as readonly-write even between two snapshots of
 * /proc/self/maps.
 *
 * Raw system calls, as glibc's own wrappers are: they work before the
 * constructor (jemalloc maps memory from its first malloc) and set errno
 * the same way.  Not part of the unit-test build: there they would hide
 * mmap from the sanitizers' own interceptors. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static inline void note_prot(long r, int prot) {
  if (r != -1 && !(prot & PROT_WRITE)) cg_maps_lost_write();
}

CG_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
  note_prot(r, prot);
  return (void *)r;
}

CG_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return mmap(addr, len, prot, flags, fd, off);
}

CG_EXPORT int mprotect(void *addr, size_t len, int prot) {
  long r = syscall(SYS_mprotect, addr, len, prot);
  note_prot(r, prot);
  return (int)r;
}

CG_EXPORT int pkey_mprotect(void *addr, size_t len, int prot, int pkey) {
  long r = syscall(SYS_pkey_mprotect, addr, len, prot, pkey);
  note_prot(r, prot);
  return (int)r;
}
