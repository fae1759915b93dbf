/* stdio calls that read a string argument (puts, fputs, the %s arguments
 * of the printf family) or write into a caller's buffer (sprintf,
 * snprintf and their v- and _FORTIFY_SOURCE forms).
 *
 * %s arguments are found by walking the format (format.c) and checked like
 * any string read.  A NULL %s is not judged: glibc defines it to print
 * "(null)".  In mode=neutralize a bad %s argument is swapped, in the
 * argument list itself, for a terminated copy of what its block holds.
 *
 * A destination with a known end (a heap block, or a stack buffer bounded
 * by its frame's saved return address) is formatted with vsnprintf bounded
 * to that end: one formatting pass, and nothing past the end is written
 * even in mode=abort; the report follows when the output did not fit. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>

#include "internal.h"

typedef int (*vfprintf_fn)(FILE *, const char *, va_list);
typedef int (*vdprintf_fn)(int, const char *, va_list);
typedef int (*vsnprintf_fn)(char *, size_t, const char *, va_list);
typedef int (*vsprintf_fn)(char *, const char *, va_list);
typedef int (*vasprintf_fn)(char **, const char *, va_list);
typedef int (*vfprintf_chk_fn)(FILE *, int, const char *, va_list);
typedef int (*vdprintf_chk_fn)(int, int, const char *, va_list);
typedef int (*vsnprintf_chk_fn)(char *, size_t, int, size_t, const char *, va_list);
typedef int (*vsprintf_chk_fn)(char *, int, size_t, const char *, va_list);
typedef int (*vasprintf_chk_fn)(char **, int, const char *, va_list);
typedef int (*fputs_fn)(const char *, FILE *);
typedef int (*puts_fn)(const char *);

/* Resolved by the constructor: a lazy dlsym later would reset the
 * program's dlerror() state (a dlerror string it is about to print would
 * be freed under it). */
#define STDIO_FNS(X)                                                   \
  X(vfprintf_fn, vfprintf) X(vdprintf_fn, vdprintf) X(vsnprintf_fn, vsnprintf) \
  X(vsprintf_fn, vsprintf) X(vasprintf_fn, vasprintf)                  \
  X(vfprintf_chk_fn, __vfprintf_chk) X(vdprintf_chk_fn, __vdprintf_chk)  \
  X(vsnprintf_chk_fn, __vsnprintf_chk) X(vsprintf_chk_fn, __vsprintf_chk) \
  X(vasprintf_chk_fn, __vasprintf_chk) X(fputs_fn, fputs) X(puts_fn, puts)
#define DECLARE(type, name) type name;
static struct { STDIO_FNS(DECLARE) } real;

void cg_stdio_init(void) {
#define RESOLVE(type, name) if (!real.name) real.name = (type)cg_real_symbol(#name);
  STDIO_FNS(RESOLVE)
}

/* Before the constructor (another library's), resolve on first use. */
#define REAL(type, name) \
  (*(cg_likely(real.name != NULL) ? real.name : (cg_stdio_init(), real.name)))

#define PASS_THROUGH() cg_pass_through((uintptr_t)__builtin_return_address(0))

/* ---- the format and its %s arguments ------------------------------------ */

#define SCRATCH 4096 /* neutralised copies of bad %s arguments, per call */

struct fmt_check {
  const char *fn;
  int fmt_arg;          /* argument number of the format */
  char *scratch;
  size_t used;
  bool skip;            /* neutralised, and no way to fix the argument */
};

static void check_arg(const struct cg_fmt_str *a, void *ctx) {
  struct fmt_check *c = ctx;
  if (!a->s) return; /* glibc prints "(null)" */
  int st;
  size_t n = a->precision >= 0 ? cg_check_strn(c->fn, c->fmt_arg + a->index, a->s,
                                               (size_t)a->precision, &st)
                               : cg_check_str(c->fn, c->fmt_arg + a->index, a->s, &st);
  if (cg_likely(st == CG_STR_FINE)) return;
  /* neutralised: print what the block holds, from a terminated copy */
  if (!a->slot) {
    c->skip = true;
    return;
  }
  if (n + 1 > SCRATCH - c->used) n = SCRATCH - c->used ? SCRATCH - c->used - 1 : 0;
  char *copy = c->used < SCRATCH ? c->scratch + c->used : (char *)"";
  if (c->used < SCRATCH) {
    cg_copy(copy, a->s, n);
    copy[n] = 0;
    c->used += n + 1;
  }
  *a->slot = copy;
}

/* Checks the format string and its %s arguments.  false: skip the call
 * (neutralised), with errno set as for an invalid argument. */
static bool check_format(struct fmt_check *c, const char *fmt, va_list ap) {
  int st;
  cg_check_str(c->fn, c->fmt_arg, fmt, &st);
  if (st != CG_STR_FINE) {
    errno = EINVAL;
    return false; /* a format we cannot trust is not run at all */
  }
  cg_format_strings(fmt, ap, check_arg, c);
  if (c->skip) errno = EINVAL;
  return !c->skip;
}

#define FORMAT_CHECK(name, fmt_arg_no, ap)                              \
  char scratch_[SCRATCH];                                               \
  struct fmt_check fc_ = {name, fmt_arg_no, scratch_, 0, false};        \
  if (!check_format(&fc_, fmt, ap)) return -1

/* ---- streams ------------------------------------------------------------ */

static int do_vfprintf(const char *name, int fa, FILE *f, int flag, const char *fmt, va_list ap) {
  FORMAT_CHECK(name, fa, ap);
  if (flag < 0) return REAL(vfprintf_fn, vfprintf)(f, fmt, ap);
  return REAL(vfprintf_chk_fn, __vfprintf_chk)(f, flag, fmt, ap);
}

static int do_vdprintf(const char *name, int fa, int fd, int flag, const char *fmt, va_list ap) {
  FORMAT_CHECK(name, fa, ap);
  if (flag < 0) return REAL(vdprintf_fn, vdprintf)(fd, fmt, ap);
  return REAL(vdprintf_chk_fn, __vdprintf_chk)(fd, flag, fmt, ap);
}

static int do_vasprintf(const char *name, int fa, char **out, int flag, const char *fmt, va_list ap) {
  FORMAT_CHECK(name, fa, ap);
  if (flag < 0) return REAL(vasprintf_fn, vasprintf)(out, fmt, ap);
  return REAL(vasprintf_chk_fn, __vasprintf_chk)(out, flag, fmt, ap);
}

#define VARIADIC(call)            \
  va_list ap;                     \
  va_start(ap, fmt);              \
  int r = call;                   \
  va_end(ap);                     \
  return r

CG_EXPORT int vfprintf(FILE *f, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vfprintf_fn, vfprintf)(f, fmt, ap);
  return do_vfprintf("vfprintf", 2, f, -1, fmt, ap);
}
CG_EXPORT int vprintf(const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vfprintf_fn, vfprintf)(stdout, fmt, ap);
  return do_vfprintf("vprintf", 1, stdout, -1, fmt, ap);
}
CG_EXPORT int fprintf(FILE *f, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vfprintf_fn, vfprintf)(f, fmt, ap)
                          : do_vfprintf("fprintf", 2, f, -1, fmt, ap));
}
CG_EXPORT int printf(const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vfprintf_fn, vfprintf)(stdout, fmt, ap)
                          : do_vfprintf("printf", 1, stdout, -1, fmt, ap));
}
CG_EXPORT int vdprintf(int fd, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vdprintf_fn, vdprintf)(fd, fmt, ap);
  return do_vdprintf("vdprintf", 2, fd, -1, fmt, ap);
}
CG_EXPORT int dprintf(int fd, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vdprintf_fn, vdprintf)(fd, fmt, ap)
                          : do_vdprintf("dprintf", 2, fd, -1, fmt, ap));
}
CG_EXPORT int vasprintf(char **out, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vasprintf_fn, vasprintf)(out, fmt, ap);
  return do_vasprintf("vasprintf", 2, out, -1, fmt, ap);
}
CG_EXPORT int asprintf(char **out, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vasprintf_fn, vasprintf)(out, fmt, ap)
                          : do_vasprintf("asprintf", 2, out, -1, fmt, ap));
}

CG_EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vfprintf_chk_fn, __vfprintf_chk)(f, flag, fmt, ap);
  return do_vfprintf("__vfprintf_chk", 3, f, flag, fmt, ap);
}
CG_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vfprintf_chk_fn, __vfprintf_chk)(stdout, flag, fmt, ap);
  return do_vfprintf("__vprintf_chk", 2, stdout, flag, fmt, ap);
}
CG_EXPORT int __fprintf_chk(FILE *f, int flag, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vfprintf_chk_fn, __vfprintf_chk)(f, flag, fmt, ap)
                          : do_vfprintf("__fprintf_chk", 3, f, flag, fmt, ap));
}
CG_EXPORT int __printf_chk(int flag, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vfprintf_chk_fn, __vfprintf_chk)(stdout, flag, fmt, ap)
                          : do_vfprintf("__printf_chk", 2, stdout, flag, fmt, ap));
}
CG_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vdprintf_chk_fn, __vdprintf_chk)(fd, flag, fmt, ap);
  return do_vdprintf("__vdprintf_chk", 3, fd, flag, fmt, ap);
}
CG_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vdprintf_chk_fn, __vdprintf_chk)(fd, flag, fmt, ap)
                          : do_vdprintf("__dprintf_chk", 3, fd, flag, fmt, ap));
}
CG_EXPORT int __vasprintf_chk(char **out, int flag, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vasprintf_chk_fn, __vasprintf_chk)(out, flag, fmt, ap);
  return do_vasprintf("__vasprintf_chk", 3, out, flag, fmt, ap);
}
CG_EXPORT int __asprintf_chk(char **out, int flag, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vasprintf_chk_fn, __vasprintf_chk)(out, flag, fmt, ap)
                          : do_vasprintf("__asprintf_chk", 3, out, flag, fmt, ap));
}

/* ---- buffers ------------------------------------------------------------ */

/* sprintf-family core.  max: snprintf's size (SIZE_MAX for sprintf);
 * flag/slen: _FORTIFY_SOURCE's (flag < 0: not a _chk call). */
static int do_vsnprintf(const char *name, int fa, char *d, size_t max, int flag, size_t slen,
                        const char *fmt, va_list ap) {
  FORMAT_CHECK(name, fa, ap);
  bool stack = false;
  size_t room = max ? (size_t)cg_check_write_room(name, 1, d, &stack) : 0;
  if (room == 0 && max) return -1; /* NULL, freed or read-only: reported, skipped */
  size_t lim = max < room ? max : room;
  if (flag >= 0 && slen < lim) lim = slen;
  if (cg_unlikely(stack) && lim < max) {
    /* a stack buffer: measure first, since even a truncated write would
     * clobber the frame's saved registers */
    va_list probe;
    va_copy(probe, ap);
    int need = REAL(vsnprintf_fn, vsnprintf)(NULL, 0, fmt, probe);
    va_end(probe);
    if (need >= 0 && (size_t)need + 1 > lim && lim == room &&
        !cg_check_write(name, 1, d, (size_t)need + 1 < max ? (size_t)need + 1 : max)) {
      errno = EOVERFLOW;
      return -1; /* neutralised: skipped */
    }
  }
  if (lim == SIZE_MAX) { /* no known end */
    if (flag < 0) return REAL(vsnprintf_fn, vsnprintf)(d, max, fmt, ap);
    return REAL(vsnprintf_chk_fn, __vsnprintf_chk)(d, max, flag, slen, fmt, ap);
  }
  va_list again;
  va_copy(again, ap);
  int r = REAL(vsnprintf_fn, vsnprintf)(d, lim, fmt, ap);
  if (cg_likely(r < 0 || (size_t)r < lim || lim == max)) {
    va_end(again);
    return r;
  }
  if (lim == slen && slen < room) { /* _FORTIFY_SOURCE's own failure */
    r = REAL(vsprintf_chk_fn, __vsprintf_chk)(d, flag, slen, fmt, again);
    va_end(again);
    return r;
  }
  va_end(again);
  /* did not fit: report the write the call would have made */
  size_t want = (size_t)r + 1 < max ? (size_t)r + 1 : max;
  cg_check_write(name, 1, d, want);
  return max == SIZE_MAX ? (int)(lim - 1) : r; /* neutralised: truncated */
}

CG_EXPORT int vsnprintf(char *d, size_t n, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vsnprintf_fn, vsnprintf)(d, n, fmt, ap);
  return do_vsnprintf("vsnprintf", 3, d, n, -1, 0, fmt, ap);
}
CG_EXPORT int vsprintf(char *d, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vsprintf_fn, vsprintf)(d, fmt, ap);
  return do_vsnprintf("vsprintf", 2, d, SIZE_MAX, -1, 0, fmt, ap);
}
CG_EXPORT int snprintf(char *d, size_t n, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vsnprintf_fn, vsnprintf)(d, n, fmt, ap)
                          : do_vsnprintf("snprintf", 3, d, n, -1, 0, fmt, ap));
}
CG_EXPORT int sprintf(char *d, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vsprintf_fn, vsprintf)(d, fmt, ap)
                          : do_vsnprintf("sprintf", 2, d, SIZE_MAX, -1, 0, fmt, ap));
}
CG_EXPORT int __vsnprintf_chk(char *d, size_t n, int flag, size_t slen, const char *fmt,
                              va_list ap) {
  if (PASS_THROUGH()) return REAL(vsnprintf_chk_fn, __vsnprintf_chk)(d, n, flag, slen, fmt, ap);
  return do_vsnprintf("__vsnprintf_chk", 5, d, n, flag, slen, fmt, ap);
}
CG_EXPORT int __vsprintf_chk(char *d, int flag, size_t slen, const char *fmt, va_list ap) {
  if (PASS_THROUGH()) return REAL(vsprintf_chk_fn, __vsprintf_chk)(d, flag, slen, fmt, ap);
  return do_vsnprintf("__vsprintf_chk", 4, d, SIZE_MAX, flag, slen, fmt, ap);
}
CG_EXPORT int __snprintf_chk(char *d, size_t n, int flag, size_t slen, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vsnprintf_chk_fn, __vsnprintf_chk)(d, n, flag, slen, fmt, ap)
                          : do_vsnprintf("__snprintf_chk", 5, d, n, flag, slen, fmt, ap));
}
CG_EXPORT int __sprintf_chk(char *d, int flag, size_t slen, const char *fmt, ...) {
  VARIADIC(PASS_THROUGH() ? REAL(vsprintf_chk_fn, __vsprintf_chk)(d, flag, slen, fmt, ap)
                          : do_vsnprintf("__sprintf_chk", 4, d, SIZE_MAX, flag, slen, fmt, ap));
}

/* ---- puts and fputs ----------------------------------------------------- */

/* Prints at most n bytes of s (a neutralised unterminated string). */
static int put_clamped(const char *s, size_t n, FILE *f) {
  return fwrite(s, 1, n, f) == n ? 1 : EOF;
}

CG_EXPORT int puts(const char *s) {
  if (PASS_THROUGH()) return REAL(puts_fn, puts)(s);
  int st;
  size_t n = cg_check_str("puts", 1, s, &st);
  if (cg_likely(st == CG_STR_FINE)) return REAL(puts_fn, puts)(s);
  if (st == CG_STR_SKIP) {
    errno = EINVAL;
    return EOF;
  }
  return put_clamped(s, n, stdout) == EOF || putc('\n', stdout) == EOF ? EOF : 1;
}

CG_EXPORT int fputs(const char *s, FILE *f) {
  if (PASS_THROUGH()) return REAL(fputs_fn, fputs)(s, f);
  int st;
  size_t n = cg_check_str("fputs", 1, s, &st);
  if (cg_likely(st == CG_STR_FINE)) return REAL(fputs_fn, fputs)(s, f);
  if (st == CG_STR_SKIP) {
    errno = EINVAL;
    return EOF;
  }
  return put_clamped(s, n, f);
}
