/* printf format walking: finds every narrow %s argument of a printf-family
 * call (its pointer, its precision and the va_list slot it sits in) so a
 * hook can check the string before the real vfprintf reads it.
 *
 * Follows glibc's syntax, in three passes: validate the whole format and
 * learn each argument's type; fetch all arguments in order from a va_copy;
 * call back once per %s conversion, in format order (also for %N$).
 * Anything not understood (unknown conversion, malformed spec, positional
 * mixed with sequential, more than MAXARGS arguments, one argument used
 * with two types) gives -1 before any callback: one misjudged argument
 * would shift every later one.
 * No malloc, no stdio, no string functions: this runs inside the shim. */
#define _GNU_SOURCE
#include <limits.h>
#include <wchar.h>

#include "internal.h"

#define MAXARGS 64 /* arguments tracked; glibc allows NL_ARGMAX positional ones */

/* How an argument is fetched: one va_arg type each.  A_GAP: a positional
 * index no spec names; glibc fetches those as int, so do we. */
enum { A_GAP, A_INT, A_WINT, A_LONG, A_LLONG, A_IMAX, A_SIZE, A_PDIFF, A_PTR,
       A_DBL, A_LDBL, A_NONE };

struct spec {
  int pos;      /* N of %N$; 0: next sequential argument */
  int wstar;    /* '*' width: -1 none, 0 next argument, N of *N$ */
  int pstar;    /* '*' precision, same encoding */
  long prec;    /* literal precision; -1 none */
  int type;     /* A_* of the converted argument */
  bool str;     /* narrow %s */
};

/* A fetched argument: what a %s or a '*' needs. */
struct arg {
  union {
    const char *p;
    int i;
  } v;
  const char **slot;
};

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* Decimal digits at *p; -1 past INT_MAX (glibc fails the call then). */
static long number(const char **p) {
  long n = 0;
  for (; digit(**p); (*p)++) {
    if (n >= 0) n = n * 10 + (**p - '0');
    if (n > INT_MAX) n = -1;
  }
  return n;
}

/* "N$" at *p: N, and *p moves past it; 0 when absent; -1 out of range. */
static int dollar(const char **p) {
  const char *q = *p;
  long n = number(&q);
  if (*q != '$' || n == 0) return 0;
  if (n < 0 || n > MAXARGS) return -1;
  *p = q + 1;
  return (int)n;
}

/* A '*' at *p: 0 (next argument), N (*N$), or -1 when malformed ("*5d"). */
static int star(const char **p) {
  (*p)++;
  int n = dollar(p);
  return n == 0 && digit(**p) ? -1 : n;
}

static bool flag(char c) {
  return c == '-' || c == '+' || c == ' ' || c == '#' || c == '0' || c == '\'' || c == 'I';
}

/* Integer argument class for a length modifier ('H' hh, 'Q' ll, 'L' L/q). */
static int int_type(char len) {
  switch (len) {
  case 'l': return A_LONG;
  case 'Q': case 'L': return A_LLONG;
  case 'j': return A_IMAX;
  case 'z': case 'Z': return A_SIZE;
  case 't': return A_PDIFF;
  default: return A_INT; /* none, h, hh: promoted to int */
  }
}

/* Parses the spec after a '%' at *p into sp; -1 when malformed/unknown. */
static int parse(const char **p, struct spec *sp) {
  const char *f = *p;
  if ((sp->pos = dollar(&f)) < 0) return -1;
  while (flag(*f)) f++;
  sp->wstar = sp->pstar = -1;
  sp->prec = -1;
  if (*f == '*') {
    if ((sp->wstar = star(&f)) < 0) return -1;
  } else if (number(&f) < 0) {
    return -1;
  }
  if (*f == '.') {
    f++;
    if (*f == '*') {
      if ((sp->pstar = star(&f)) < 0) return -1;
    } else if ((sp->prec = number(&f)) < 0) { /* "%.s" is "%.0s" */
      return -1;
    }
  }
  char len = *f;
  if (len == 'h' || len == 'l') {
    if (*++f == len) {
      f++;
      len = len == 'h' ? 'H' : 'Q';
    }
  } else if (len == 'L' || len == 'q') {
    f++;
    len = 'L';
  } else if (len == 'j' || len == 'z' || len == 'Z' || len == 't') {
    f++;
  } else {
    len = 0;
  }
  bool wide = len == 'l' || len == 'Q'; /* glibc: %ls %lls %lc %llc */
  sp->str = false;
  switch (*f++) {
  case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
#ifdef __GLIBC_PREREQ
#if __GLIBC_PREREQ(2, 35)
  case 'b': case 'B': /* older glibc prints "%b" and takes no argument */
#endif
#endif
    sp->type = int_type(len); break;
  case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
    sp->type = len == 'L' || len == 'Q' ? A_LDBL : A_DBL; break;
  case 'c': sp->type = wide ? A_WINT : A_INT; break;
  case 'C': sp->type = A_WINT; break;
  case 's': sp->type = A_PTR, sp->str = !wide; break;
  case 'S': case 'p': case 'n': sp->type = A_PTR; break;
  case 'm': case '%': sp->type = A_NONE; break;
  default: return -1;
  }
  *p = f;
  return 0;
}

/* The spec after the next '%', or NULL at the end of the format. */
static const char *next(const char *f) {
  while (*f && *f != '%') f++;
  return *f ? f + 1 : NULL;
}

/* Where the next pointer argument of c lives. */
static const char **slot_of(va_list c) {
#if defined(__x86_64__)
  /* SysV: six integer registers (48 bytes) in the save area, then memory */
  if (c->gp_offset < 48) return (const char **)((char *)c->reg_save_area + c->gp_offset);
  return (const char **)c->overflow_arg_area;
#else
  (void)c;
  return NULL;
#endif
}

/* Gives sequential arguments their numbers, in glibc's order. */
static void resolve(struct spec *sp, int *n) {
  if (sp->wstar == 0) sp->wstar = ++*n;
  if (sp->pstar == 0) sp->pstar = ++*n;
  if (sp->pos == 0 && sp->type != A_NONE) sp->pos = ++*n;
}

/* Records argument n's class; -1 past MAXARGS or when another spec fetches
 * it differently. */
static int note(unsigned char *types, int *max, int n, int t) {
  if (n <= 0) return 0;
  if (n > MAXARGS || (types[n - 1] != A_GAP && types[n - 1] != t)) return -1;
  types[n - 1] = (unsigned char)t;
  if (n > *max) *max = n;
  return 0;
}

int cg_format_strings(const char *fmt, va_list ap, cg_fmt_str_fn fn, void *ctx) {
  unsigned char types[MAXARGS];
  struct arg args[MAXARGS];
  int max = 0, n = 0, count = 0;
  bool seq = false, posn = false;
  struct spec sp;
  if (!fmt) return -1;
  for (int i = 0; i < MAXARGS; i++) types[i] = A_GAP;

  /* Pass 1: validate the whole format and learn each argument's class. */
  for (const char *f = next(fmt); f; f = next(f)) {
    if (parse(&f, &sp) < 0) return -1;
    bool data = sp.type != A_NONE;
    seq |= (data && sp.pos == 0) || sp.wstar == 0 || sp.pstar == 0;
    posn |= (data && sp.pos > 0) || sp.wstar > 0 || sp.pstar > 0;
    if (seq && posn) return -1; /* glibc: all or none */
    resolve(&sp, &n);
    if (note(types, &max, sp.wstar, A_INT) < 0 || note(types, &max, sp.pstar, A_INT) < 0 ||
        (data && note(types, &max, sp.pos, sp.type) < 0))
      return -1;
  }

  /* Pass 2: fetch every argument in order from a copy. */
  va_list c;
  va_copy(c, ap);
  for (int i = 0; i < max; i++) {
    struct arg *a = &args[i];
    a->slot = NULL;
    switch (types[i]) {
    case A_PTR:
      a->slot = slot_of(c); /* before va_arg moves past it */
      a->v.p = va_arg(c, const char *);
      break;
    case A_WINT: (void)va_arg(c, wint_t); break;
    case A_LONG: (void)va_arg(c, long); break;
    case A_LLONG: (void)va_arg(c, long long); break;
    case A_IMAX: (void)va_arg(c, intmax_t); break;
    case A_SIZE: (void)va_arg(c, size_t); break;
    case A_PDIFF: (void)va_arg(c, ptrdiff_t); break;
    case A_DBL: (void)va_arg(c, double); break;
    case A_LDBL: (void)va_arg(c, long double); break;
    default: a->v.i = va_arg(c, int); break; /* int, gap */
    }
  }
  va_end(c);

  /* Pass 3: one callback per %s, in format order. */
  n = 0;
  for (const char *f = next(fmt); f; f = next(f)) {
    (void)parse(&f, &sp);
    resolve(&sp, &n);
    if (!sp.str) continue;
    long prec = sp.pstar > 0 ? args[sp.pstar - 1].v.i : sp.prec;
    struct cg_fmt_str s = {args[sp.pos - 1].v.p, prec < 0 ? -1 : prec,
                           args[sp.pos - 1].slot, sp.pos};
    if (fn) fn(&s, ctx);
    count++;
  }
  return count;
}
