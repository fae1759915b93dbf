/* Suppressions (suppressions=FILE): known bugs that must not fail a run,
 * in the file format LeakSanitizer and AddressSanitizer users know:
 *
 *   # comment
 *   double-free:known_bad_free       a function name
 *   heap-overread:libvendor.so       a module (path or file name)
 *   leak:^main.loadConfig$           ^ and $ anchor; * matches anything
 *   *:libbroken.so                   any kind
 *
 * A pattern without anchors matches anywhere in the name.  An error whose
 * stack (a leak: its allocation stack) has a frame whose function or module
 * matches its kind's rule is not reported: the call is neutralised as in
 * mode=neutralize, whatever the mode, and the rule's count goes up.  The
 * counts are written at exit.
 *
 * The file is read once by the constructor into static memory (no malloc);
 * decisions are cached by the whole stack, so a suppressed bug in a loop
 * is named once, not on every call. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static struct cg_supp_rule rules[CG_SUPP_MAX_RULES];
static int nrules;
static char text[CG_SUPP_MAX_BYTES + 1];
_Atomic uint64_t cg_suppressed_counts[CGOGUARD_KIND_COUNT];

/* Does the ASan-style template pat match s?  '*' matches any run of
 * characters, a leading '^' / trailing '$' anchor; unanchored ends match
 * anywhere. */
bool cg_supp_match(const char *pat, const char *s) {
  size_t pn = cg_strlen(pat);
  bool head = pn && pat[0] == '^', tail = pn && pat[pn - 1] == '$';
  const char *p = pat + head, *pend = pat + pn - tail;
  /* glob over [p, pend) with an implicit '*' at an unanchored end: after a
   * mismatch, retry from just past the last '*' (the start, when the head
   * is unanchored) one character further on */
  const char *retry = head ? NULL : p, *resume = s;
  for (;;) {
    if (p < pend && *p == '*') {
      retry = ++p, resume = s;
    } else if (p < pend && *s && *p == *s) {
      p++, s++;
    } else if (p == pend && (!tail || !*s)) {
      return true;
    } else if (retry && *resume) {
      p = retry, s = ++resume;
    } else {
      return false;
    }
  }
}

/* "cgoguard: suppressions file 'F' line N: <what><arg>", arg quoted when
 * what ends in a quote. */
static void say(int fd, const char *file, int line, const char *what, const char *arg,
                size_t alen) {
  size_t wl = cg_strlen(what);
  bool quoted = wl && what[wl - 1] == '\'';
  char buf[768];
  size_t n = 0;
  const char *parts[] = {"cgoguard: suppressions file '", file, "'"};
  for (int i = 0; i < 3; i++)
    for (const char *c = parts[i]; *c && n < 400; c++) buf[n++] = *c;
  if (line > 0) {
    char d[12];
    int k = 0;
    for (int v = line; v; v /= 10) d[k++] = (char)('0' + v % 10);
    buf[n++] = ' ', buf[n++] = 'l', buf[n++] = 'i', buf[n++] = 'n', buf[n++] = 'e', buf[n++] = ' ';
    while (k) buf[n++] = d[--k];
  }
  buf[n++] = ':', buf[n++] = ' ';
  for (const char *c = what; *c && n < 600; c++) buf[n++] = *c;
  for (size_t i = 0; i < alen && n < 700; i++) buf[n++] = (unsigned char)arg[i] < 0x20 ? '?' : arg[i];
  if (quoted) buf[n++] = '\'';
  buf[n++] = '\n';
  if (fd >= 0) {
    ssize_t w = write(fd, buf, n);
    (void)w;
  }
}

static int kind_of(const char *k, size_t n) {
  if (n == 1 && k[0] == '*') return CG_SUPP_ANY_KIND;
  for (int i = 0; i < CGOGUARD_KIND_COUNT; i++) {
    const char *name = cgoguard_kind_name(i);
    if (cg_strlen(name) == n && cg_strneq(k, name, n)) return i;
  }
  return -2;
}

int cg_supp_parse(char *s, size_t len, const char *file, struct cg_supp_rule *out, int max,
                  int errfd, int *errors) {
  int n = 0, line = 0;
  *errors = 0;
  for (size_t i = 0; i < len;) {
    char *l = s + i;
    size_t e = i;
    while (e < len && s[e] != '\n') e++;
    size_t ll = e - i;
    i = e + 1;
    line++;
    if (e < len) s[e] = 0; /* the caller leaves room for the last NUL */
    else s[len] = 0;
    if (memchr(l, 0, ll)) { /* not text: a pattern would end early */
      say(errfd, file, line, "the line holds a NUL byte", "", 0);
      ++*errors;
      continue;
    }
    while (ll && (l[ll - 1] == '\r' || l[ll - 1] == ' ' || l[ll - 1] == '\t')) l[--ll] = 0;
    while (ll && (*l == ' ' || *l == '\t')) l++, ll--;
    if (!ll || *l == '#') continue;
    size_t c = 0;
    while (c < ll && l[c] != ':') c++;
    size_t at = c + 1; /* the pattern, past blanks after the colon */
    while (at < ll && (l[at] == ' ' || l[at] == '\t')) at++;
    if (c == ll || at == ll) {
      say(errfd, file, line, "expected kind:pattern, got '", l, ll);
      ++*errors;
      continue;
    }
    bool blank = false;
    for (size_t k = at; k < ll; k++) blank |= l[k] == ' ' || l[k] == '\t';
    if (blank) { /* names have none: a trailing comment, most likely */
      say(errfd, file, line,
          "a pattern cannot hold blanks (comments go on lines of their own), got '", l, ll);
      ++*errors;
      continue;
    }
    int kind = kind_of(l, c);
    if (kind == -2) {
      say(errfd, file, line,
          "unknown kind (accepted: double-free, invalid-free, use-after-free, heap-overread, "
          "heap-overflow, readonly-write, null-pointer, leak, stack-buffer-overflow, *) '",
          l, c);
      ++*errors;
      continue;
    }
    if (n == max) {
      say(errfd, file, line, "too many rules; ignoring this one and the rest: '", l, ll);
      ++*errors;
      break;
    }
    out[n].kind = kind;
    out[n].pattern = l + at;
    out[n].line = line;
    atomic_store_explicit(&out[n].hits, 0, memory_order_relaxed);
    n++;
  }
  return n;
}

/* errno as text without strerror (which may allocate, or translate). */
static const char *errno_text(int e) {
  switch (e) {
  case ENOENT: return "no such file";
  case EACCES: return "permission denied";
  case EISDIR: return "is a directory";
  case ENOTDIR: return "a component of the path is not a directory";
  case ELOOP: return "too many symbolic links";
  case ENAMETOOLONG: return "name too long";
  case EIO: return "I/O error";
  default: return "cannot be read";
  }
}

void cg_suppressions_load(void) {
  const char *path = cg_opt.suppressions;
  if (!path[0]) return;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t n = 0;
  int err = fd < 0 ? errno : 0;
  for (ssize_t r; !err && n < sizeof text - 1; n += (size_t)r) {
    r = read(fd, text + n, sizeof text - 1 - n);
    if (r < 0 && errno == EINTR) r = 0;
    else if (r < 0) err = errno;
    else if (r == 0) break;
  }
  char probe;
  bool too_big = !err && n == sizeof text - 1 && read(fd, &probe, 1) == 1;
  if (fd >= 0) close(fd);
  if (err) {
    char msg[96];
    size_t m = 0;
    for (const char *c = errno_text(err); *c; c++) msg[m++] = *c;
    for (const char *c = "; no suppressions"; *c; c++) msg[m++] = *c;
    say(2, path, 0, "cannot be read: ", msg, m);
    return;
  }
  if (too_big) {
    say(2, path, 0, "larger than 64 KiB; no suppressions", "", 0);
    return;
  }
  int errors;
  nrules = cg_supp_parse(text, n, path, rules, CG_SUPP_MAX_RULES, 2, &errors);
  if (cg_opt.verbosity >= 1) {
    char d[16];
    int k = 0;
    for (int v = nrules; k == 0 || v; v /= 10) d[k++] = (char)('0' + v % 10);
    char num[16];
    for (int i = 0; i < k; i++) num[i] = d[k - 1 - i];
    say(2, path, 0, "rules read: ", num, (size_t)k);
  }
}

bool cg_suppressions_active(void) { return nrules > 0; }

CG_EXPORT uint64_t cgoguard_suppressed_count(int kind) {
  return kind >= 0 && kind < CGOGUARD_KIND_COUNT ? atomic_load(&cg_suppressed_counts[kind]) : 0;
}

/* The first rule of kind that names a frame of pcs, or NULL. */
struct cg_supp_rule *cg_supp_find(struct cg_supp_rule *r, int n, int kind, const uintptr_t *pcs,
                                  int npcs) {
  for (int f = 0; f < npcs; f++) {
    struct cg_frame fr;
    cg_describe_named(pcs[f], &fr);
    for (int i = 0; i < n; i++) {
      if (r[i].kind != kind && r[i].kind != CG_SUPP_ANY_KIND) continue;
      if ((fr.function[0] && cg_supp_match(r[i].pattern, fr.function)) ||
          cg_supp_match(r[i].pattern, fr.module))
        return &r[i];
    }
  }
  return NULL;
}

/* Decisions by a hash of kind and the whole stack: 0 unknown, 1 not
 * suppressed, 2 + i rule i.  Callers hold the report lock. */
#define CACHE 512
static struct {
  uint64_t key;
  int verdict;
} cache[CACHE];

bool cg_suppressed(int kind, const uintptr_t *pcs, int n) {
  if (!nrules) return false;
  uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
  for (int i = 0; i < n; i++) h = (h ^ pcs[i]) * 1099511628211ull;
  h |= 1;
  unsigned slot = (unsigned)(h >> 32) % CACHE;
  int verdict = cache[slot].key == h ? cache[slot].verdict : 0;
  if (!verdict) {
    struct cg_supp_rule *r = cg_supp_find(rules, nrules, kind, pcs, n);
    verdict = r ? 2 + (int)(r - rules) : 1;
    cache[slot].key = h, cache[slot].verdict = verdict;
  }
  if (verdict == 1) return false;
  atomic_fetch_add(&rules[verdict - 2].hits, 1);
  atomic_fetch_add(&cg_suppressed_counts[kind], 1);
  return true;
}

int cg_suppressions_used(const struct cg_supp_rule **out, int max) {
  int k = 0;
  for (int i = 0; i < nrules && k < max; i++)
    if (atomic_load(&rules[i].hits)) out[k++] = &rules[i];
  return k;
}
