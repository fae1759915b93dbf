/* String, memory and stdio cases for the cgoguard integration suite (the
 * string and memory checks), one per argv[1] ("list" prints them).
 *
 * A bug case prints "start", makes exactly one bad call, then checks what
 * the neutralized call did (return value, errno, the bytes written, and the
 * canary bytes right after the block, inside the same jemalloc size class)
 * and prints "survived".  Each check prints "ok: WHAT" or "WRONG: WHAT";
 * under mode=abort the shim stops the process before any check (with
 * "catch-abort" as argv[2], a SIGABRT handler first says whether the
 * canary was still intact when the process was stopped).  The checks use
 * no libc string functions, so only the bad call can report.
 *
 * Correct programs: "ok" (string and stdio calls on heap, stack, global,
 * mmap and literal pointers; its output must be the same with and without
 * the shim), "edge-quiet" (blocks without a NUL read no further than they
 * go), "threads-ok" (threads allocating, copying and freeing at once),
 * "dlerror-stdio" (dlerror's message printed by stdio calls).
 *
 * The suite builds this file a second and third time with -O2
 * -D_FORTIFY_SOURCE=2 / =3: the fort-* cases are meant for those builds,
 * where the compiler emits __strcpy_chk, __memcpy_chk, __sprintf_chk...
 * itself.  The chk-* cases call the _FORTIFY_SOURCE entry points directly,
 * with an object size larger than the block (as for a struct member), so
 * glibc's own check passes and only cgoguard sees the overflow. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

/* The _FORTIFY_SOURCE entry points (declared by glibc only in fortified
 * builds). */
extern void *__memcpy_chk(void *, const void *, size_t, size_t);
extern void *__memmove_chk(void *, const void *, size_t, size_t);
extern void *__mempcpy_chk(void *, const void *, size_t, size_t);
extern void *__memset_chk(void *, int, size_t, size_t);
extern char *__strcpy_chk(char *, const char *, size_t);
extern char *__stpcpy_chk(char *, const char *, size_t);
extern char *__strncpy_chk(char *, const char *, size_t, size_t);
extern char *__stpncpy_chk(char *, const char *, size_t, size_t);
extern char *__strcat_chk(char *, const char *, size_t);
extern char *__strncat_chk(char *, const char *, size_t, size_t);
extern int __sprintf_chk(char *, int, size_t, const char *, ...);
extern int __snprintf_chk(char *, size_t, int, size_t, const char *, ...);
extern int __vsprintf_chk(char *, int, size_t, const char *, va_list);
extern int __vsnprintf_chk(char *, size_t, int, size_t, const char *, va_list);
extern int __printf_chk(int, const char *, ...);
extern int __fprintf_chk(FILE *, int, const char *, ...);
extern int __vprintf_chk(int, const char *, va_list);
extern int __vfprintf_chk(FILE *, int, const char *, va_list);
extern int __dprintf_chk(int, int, const char *, ...);
extern int __asprintf_chk(char **, int, const char *, ...);

/* ---------------------------------------------------------------- helpers */

#define V(p) h_launder((void *)(p)) /* opaque to the optimiser */

static int nwrong;

__attribute__((format(printf, 2, 3))) static void check(int cond, const char *what, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, what);
	vsnprintf(buf, sizeof buf, what, ap);
	va_end(ap);
	printf("%s %s\n", cond ? "ok:" : "WRONG:", buf);
	nwrong += !cond;
}

/* A size the compiler cannot see. */
__attribute__((noinline)) static size_t rt(size_t n)
{
	volatile size_t v = n;
	return v;
}

/* How far the bytes after a block of n bytes belong to it (jemalloc's size
 * class): 8, then multiples of 16 up to 128; the large sizes used here
 * have at least 16 bytes of slack (100000 is served from 114688). */
static size_t usable(size_t n)
{
	return n <= 8 ? 8 : n <= 128 ? (n + 15) & ~(size_t)15 : n + 16;
}

/* Byte i of a test string: 'A', 'B', ... (never NUL, never the canary's
 * '#'). */
static char pat(size_t i) { return (char)('A' + i % 26); }

/* The last block given a canary, for the SIGABRT handler. */
static char *volatile watch_p;
static volatile size_t watch_n;

static void fill_canary(char *p, size_t n)
{
	for (size_t i = n; i < usable(n); i++)
		p[i] = '#';
	watch_p = p;
	watch_n = n;
}

static int canary_ok(const char *p, size_t n)
{
	for (size_t i = n; i < usable(n); i++)
		if (p[i] != '#')
			return 0;
	return 1;
}

/* With "catch-abort" as argv[2]: at SIGABRT, says whether the bytes after
 * the last canaried block are intact (mode=abort must stop the call before
 * it writes past the block), then dies by SIGABRT as before. */
static void on_abort(int sig)
{
	static const char intact[] = "at abort: canary intact\n";
	static const char clobbered[] = "at abort: canary CLOBBERED\n";
	static const char none[] = "at abort: no canary\n";
	ssize_t w;
	if (!watch_p)
		w = write(1, none, sizeof none - 1);
	else if (canary_ok(watch_p, watch_n))
		w = write(1, intact, sizeof intact - 1);
	else
		w = write(1, clobbered, sizeof clobbered - 1);
	(void)w;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* n bytes 'A'.. with no NUL, canary after. */
static char *unterm(size_t n)
{
	char *p = h_malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = pat(i);
	fill_canary(p, n);
	return p;
}

/* a block of n bytes holding s (len < n) and zeros, canary after. */
static char *str_in(size_t n, const char *s)
{
	char *p = h_malloc(n);
	size_t i = 0;
	for (; s[i]; i++)
		p[i] = s[i];
	for (; i < n; i++)
		p[i] = 0;
	fill_canary(p, n);
	return p;
}

/* n bytes of 'z', canary after (a destination). */
static char *dest(size_t n)
{
	char *p = h_malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = 'z';
	fill_canary(p, n);
	return p;
}

/* a freed block of n bytes (still in the quarantine, filled with 0xf5). */
static char *freed(size_t n)
{
	char *p = str_in(n, "freed block");
	h_free(p);
	return V(p);
}

static int all_f5(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] != 0xf5)
			return 0;
	return 1;
}

/* p[0..n) equals s[0..n). */
static int eq(const char *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != s[i])
			return 0;
	return 1;
}

/* p holds the C string s (with its NUL). */
static int is_str(const char *p, const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (p[i] != s[i])
			return 0;
	return p[i] == 0;
}

/* p[0..n) holds 'A', 'B', ... */
static int is_pat(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pat(i))
			return 0;
	return 1;
}

static int all_c(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

static char *literal(void) { return V("a string literal"); }

static char g_bss_early[64];

static const char *long20 = "0123456789abcdefghij"; /* 20 bytes */
static const char *src(void) { return V(long20); }

static void flush(void) { fflush(stdout); }

/* va_list forms */
static int call_vprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}
static int call_vfprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}
static int call_vdprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}
static int call_vasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(out, fmt, ap);
	va_end(ap);
	return r;
}
static int call_vsprintf(char *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsprintf(d, fmt, ap);
	va_end(ap);
	return r;
}
static int call_vsnprintf(char *d, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(d, n, fmt, ap);
	va_end(ap);
	return r;
}
static int call_vsprintf_chk(char *d, size_t slen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vsprintf_chk(d, 1, slen, fmt, ap);
	va_end(ap);
	return r;
}
static int call_vsnprintf_chk(char *d, size_t n, size_t slen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vsnprintf_chk(d, n, 1, slen, fmt, ap);
	va_end(ap);
	return r;
}
static int call_vprintf_chk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vprintf_chk(1, fmt, ap);
	va_end(ap);
	return r;
}
static int call_vfprintf_chk(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vfprintf_chk(f, 1, fmt, ap);
	va_end(ap);
	return r;
}

/* ---------------------------------------------------------------- strlen */

/* seed: a buffer of n bytes with no terminator */
static void c_strlen_unterminated(void)
{
	char *p = unterm(13);
	size_t n = strlen(p);
	check(n == 13, "strlen of an unterminated 13-byte block = %zu (13: the block's end)", n);
}

/* an interior pointer: strlen(p + 5) of an unterminated 13-byte block */
static void c_strlen_interior(void)
{
	char *p = unterm(13);
	size_t n = strlen(p + 5);
	check(n == 8, "strlen(p + 5) = %zu (8)", n);
}

/* seed: strncpy that leaves no terminator, then strlen */
static void c_strncpy_then_strlen(void)
{
	char *d = dest(8);
	strncpy(d, "0123456789", 8); /* correct call, no NUL written */
	size_t n = strlen(d);
	check(n == 8, "strlen after strncpy = %zu (8)", n);
	check(eq(d, "01234567", 8), "strncpy copied 8 bytes");
}

static void c_strlen_freed(void)
{
	char *p = freed(24);
	size_t n = strlen(p);
	check(n == 24, "strlen of a freed 24-byte block = %zu (24)", n);
}

/* seed */
static void c_strlen_null(void)
{
	size_t n = strlen(V(NULL));
	check(n == 0, "strlen(NULL) = %zu (0)", n);
}

static void c_strnlen_unterminated(void)
{
	char *p = unterm(13);
	size_t n = strnlen(p, rt(100));
	check(n == 13, "strnlen(p, 100) = %zu (13)", n);
}

static void c_strnlen_freed(void)
{
	char *p = freed(24);
	size_t n = strnlen(p, rt(10));
	check(n == 10, "strnlen(freed, 10) = %zu (10)", n);
}

static void c_strnlen_null(void)
{
	size_t n = strnlen(V(NULL), rt(5));
	check(n == 0, "strnlen(NULL, 5) = %zu (0)", n);
}

/* ----------------------------------------------------- strcpy and stpcpy */

static void c_strcpy_overflow(void)
{
	char *d = dest(13);
	char *r = strcpy(d, src());
	check(r == d, "strcpy returns d");
	check(is_str(d, "0123456789ab"), "12 bytes copied and a NUL");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_strcpy_unterminated_src(void)
{
	char *s = unterm(8);
	char *d = dest(32);
	char *r = strcpy(d, s);
	check(r == d, "strcpy returns d");
	check(is_pat(d, 8) && d[8] == 0, "the 8 bytes of the source block and a NUL");
	check(all_c(d + 9, 23, 'z'), "the rest of d untouched");
}

static void c_strcpy_freed_dest(void)
{
	char *d = freed(32);
	char *r = strcpy(d, "abc");
	check(r == d, "strcpy returns d");
	check(all_f5(d, 32), "freed block untouched (0xf5)");
}

static void c_strcpy_freed_src(void)
{
	char *s = freed(16);
	char *d = dest(32);
	strcpy(d, s);
	check(all_f5(d, 16) && d[16] == 0, "the freed block's 16 bytes and a NUL copied");
	check(all_c(d + 17, 15, 'z'), "the rest of d untouched");
}

/* seed: strcpy into a string literal */
static void c_strcpy_literal(void)
{
	char *l = literal();
	char *r = strcpy(l, "XY");
	check(r == l, "strcpy returns d");
	check(l[0] == 'a' && l[1] == ' ', "the literal is unchanged");
}

static void c_strcpy_null_dest(void)
{
	char *r = strcpy(V(NULL), "abc");
	check(r == NULL, "strcpy(NULL, s) returns NULL (d)");
}

static void c_strcpy_null_src(void)
{
	char *d = dest(16);
	char *r = strcpy(d, V(NULL));
	check(r == d, "strcpy returns d");
	check(all_c(d, 16, 'z') && canary_ok(d, 16), "nothing written");
}

static void c_stpcpy_overflow(void)
{
	char *d = dest(13);
	char *r = stpcpy(d, src());
	check(r == d + 12, "stpcpy returns d + 12 (its NUL), got d + %td", r - d);
	check(is_str(d, "0123456789ab"), "12 bytes copied and a NUL");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_stpcpy_unterminated_src(void)
{
	char *s = unterm(8);
	char *d = dest(32);
	char *r = stpcpy(d, s);
	check(r == d + 8, "stpcpy returns d + 8, got d + %td", r - d);
	check(is_pat(d, 8) && d[8] == 0, "the 8 bytes of the source block and a NUL");
}

static void c_stpcpy_null_src(void)
{
	char *d = dest(16);
	char *r = stpcpy(d, V(NULL));
	check(r == d, "stpcpy(d, NULL) returns d");
	check(all_c(d, 16, 'z'), "nothing written");
}

/* ---------------------------------------------------- strncpy and stpncpy */

static void c_strncpy_overflow(void)
{
	char *d = dest(13);
	char *r = strncpy(d, "short", rt(20));
	check(r == d, "strncpy returns d");
	check(is_str(d, "short") && all_c(d + 5, 8, 0), "string then NUL padding to the block's end");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_strncpy_overflow_long(void)
{
	char *d = dest(13);
	strncpy(d, src(), rt(16));
	check(eq(d, "0123456789ab", 12) && d[12] == 0, "12 bytes, then the block's last byte NUL");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_strncpy_unterminated_src(void)
{
	char *s = unterm(8);
	char *d = dest(32);
	strncpy(d, s, rt(16));
	check(is_pat(d, 8) && all_c(d + 8, 8, 0), "the source block's 8 bytes, then 8 NULs");
	check(all_c(d + 16, 16, 'z'), "the rest of d untouched");
}

static void c_strncpy_freed_dest(void)
{
	char *d = freed(32);
	strncpy(d, "abc", rt(8));
	check(all_f5(d, 32), "freed block untouched (0xf5)");
}

static void c_strncpy_literal(void)
{
	char *l = literal();
	strncpy(l, "XY", rt(4));
	check(l[0] == 'a', "the literal is unchanged");
}

static void c_strncpy_null(void)
{
	char *r = strncpy(V(NULL), "abc", rt(4));
	check(r == NULL, "strncpy(NULL, ...) returns NULL (d)");
}

static void c_stpncpy_overflow(void)
{
	char *d = dest(13);
	char *r = stpncpy(d, src(), rt(16));
	check(r == d + 12, "stpncpy returns d + 12, got d + %td", r - d);
	check(eq(d, "0123456789ab", 12) && d[12] == 0, "12 bytes, then the block's last byte NUL");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_stpncpy_overflow_short(void)
{
	char *d = dest(13);
	char *r = stpncpy(d, "short", rt(20));
	check(r == d + 5, "stpncpy returns d + 5 (the first NUL), got d + %td", r - d);
	check(is_str(d, "short") && all_c(d + 5, 8, 0), "string then NUL padding to the block's end");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_stpncpy_unterminated_src(void)
{
	char *s = unterm(8);
	char *d = dest(32);
	char *r = stpncpy(d, s, rt(16));
	check(r == d + 8, "stpncpy returns d + 8, got d + %td", r - d);
	check(is_pat(d, 8) && all_c(d + 8, 8, 0), "the source block's 8 bytes, then 8 NULs");
}

/* ---------------------------------------------------- strcat and strncat */

/* seed: malloc(strlen(prefix) + 4), strcpy, strcat(.., "_tmp"): one byte short */
static void c_strcat_prefix_tmp(void)
{
	const char *prefix = V("cache");
	size_t n = strlen(prefix) + 4;
	char *p = h_malloc(n);
	fill_canary(p, n);
	strcpy(p, prefix);
	char *r = strcat(p, "_tmp");
	check(r == p, "strcat returns d");
	check(is_str(p, "cache_tm"), "truncated to 'cache_tm' and terminated");
	check(canary_ok(p, n), "bytes after the block untouched");
}

static void c_strcat_unterminated_dest(void)
{
	char *d = unterm(13);
	char *r = strcat(d, "xy");
	check(r == d, "strcat returns d");
	check(is_pat(d, 13) && canary_ok(d, 13), "skipped: nothing written");
}

static void c_strcat_unterminated_src(void)
{
	char *s = unterm(8);
	char *d = str_in(32, "ab");
	strcat(d, s);
	check(d[0] == 'a' && d[1] == 'b' && is_pat(d + 2, 8) && d[10] == 0,
	      "'ab' + the source block's 8 bytes + NUL");
}

static void c_strcat_freed_dest(void)
{
	char *d = freed(32);
	strcat(d, "xy");
	check(all_f5(d, 32), "freed block untouched (0xf5)");
}

static void c_strcat_null(void)
{
	char *d = str_in(16, "ab");
	char *r = strcat(d, V(NULL));
	check(r == d, "strcat returns d");
	check(is_str(d, "ab"), "d unchanged");
}

static void c_strcat_literal(void)
{
	char *l = literal();
	strcat(l, "XY");
	check(l[16] == 0, "the literal is unchanged");
}

static void c_strncat_overflow(void)
{
	char *d = str_in(9, "abc");
	char *r = strncat(d, "defghijk", rt(7));
	check(r == d, "strncat returns d");
	check(is_str(d, "abcdefgh"), "truncated to 'abcdefgh' and terminated");
	check(canary_ok(d, 9), "bytes after the block untouched");
}

static void c_strncat_unterminated_src(void)
{
	char *s = unterm(4);
	char *d = str_in(32, "ab");
	strncat(d, s, rt(10));
	check(d[0] == 'a' && d[1] == 'b' && is_pat(d + 2, 4) && d[6] == 0,
	      "'ab' + the source block's 4 bytes + NUL");
}

/* ------------------------------------------------ memcpy, memmove, mempcpy */

static void c_memcpy_overflow(void)
{
	char *d = dest(13);
	void *r = memcpy(d, src(), rt(20));
	check(r == d, "memcpy returns d");
	check(eq(d, "0123456789abc", 13), "13 bytes copied");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_memcpy_overread(void)
{
	char *s = unterm(10);
	char *d = dest(32);
	memcpy(d, s, rt(20));
	check(is_pat(d, 10) && all_c(d + 10, 22, 'z'), "10 bytes copied, the rest of d untouched");
}

static void c_memcpy_interior_overflow(void)
{
	char *d = dest(29); /* usable 32 */
	memcpy(d + 20, src(), rt(12));
	check(eq(d + 20, "012345678", 9), "9 bytes copied at d + 20");
	check(all_c(d, 20, 'z') && canary_ok(d, 29), "the rest untouched");
}

static void c_memcpy_freed_dest(void)
{
	char *d = freed(32);
	void *r = memcpy(d, src(), rt(8));
	check(r == d, "memcpy returns d");
	check(all_f5(d, 32), "freed block untouched (0xf5)");
}

static void c_memcpy_freed_src(void)
{
	char *s = freed(16);
	char *d = dest(32);
	memcpy(d, s, rt(24));
	check(all_f5(d, 16) && all_c(d + 16, 16, 'z'), "the freed block's 16 bytes copied, no more");
}

static void c_memcpy_null(void)
{
	void *r = memcpy(V(NULL), src(), rt(5));
	check(r == NULL, "memcpy(NULL, s, 5) returns NULL (d)");
}

static void c_memcpy_null_src(void)
{
	char *d = dest(16);
	void *r = memcpy(d, V(NULL), rt(5));
	check(r == d, "memcpy returns d");
	check(all_c(d, 16, 'z'), "nothing written");
}

static void c_memcpy_literal(void)
{
	char *l = literal();
	memcpy(l, "XY", rt(2));
	check(l[0] == 'a', "the literal is unchanged");
}

/* a mapping without write permission, not a literal */
static void c_memset_readonly_map(void)
{
	char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		check(0, "mmap");
		return;
	}
	memset(m, 'x', rt(16));
	check(m[0] == 0, "the mapping is unchanged");
}

/* The same after the shim has read the memory map once (a write to a
 * global makes it look): a mapping made afterwards, and one that was
 * writable then and is read-only now. */
static void c_memset_new_readonly_map(void)
{
	strcpy(g_bss_early, "map read");
	char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		check(0, "mmap");
		return;
	}
	memset(m, 'x', rt(16));
	check(m[0] == 0, "the mapping is unchanged");
}

static void c_memset_mprotected(void)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		check(0, "mmap");
		return;
	}
	strcpy(m, "writable");
	mprotect(m, 4096, PROT_READ);
	memset(m, 'x', rt(16));
	check(m[0] == 'w', "the mapping is unchanged");
}

static void c_memmove_overflow(void)
{
	char *d = str_in(13, "0123456789ab");
	void *r = memmove(d + 4, d, rt(12));
	check(r == d + 4, "memmove returns d + 4");
	check(eq(d, "012301234567", 12) && d[12] == '8', "9 bytes moved");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_memmove_overread(void)
{
	char *s = unterm(10);
	char *d = dest(32);
	memmove(d, s, rt(20));
	check(is_pat(d, 10) && all_c(d + 10, 22, 'z'), "10 bytes moved, the rest of d untouched");
}

static void c_memmove_null(void)
{
	char *d = dest(16);
	void *r = memmove(d, V(NULL), rt(3));
	check(r == d, "memmove returns d");
	check(all_c(d, 16, 'z'), "nothing written");
}

static void c_memmove_freed_dest(void)
{
	char *d = freed(32);
	memmove(d, src(), rt(8));
	check(all_f5(d, 32), "freed block untouched (0xf5)");
}

static void c_mempcpy_overflow(void)
{
	char *d = dest(13);
	char *r = mempcpy(d, src(), rt(20));
	check(r == d + 13, "mempcpy returns d + 13, got d + %td", r - d);
	check(eq(d, "0123456789abc", 13) && canary_ok(d, 13), "13 bytes copied, canary intact");
}

static void c_mempcpy_overread(void)
{
	char *s = unterm(10);
	char *d = dest(32);
	char *r = mempcpy(d, s, rt(20));
	check(r == d + 10, "mempcpy returns d + 10, got d + %td", r - d);
	check(is_pat(d, 10) && all_c(d + 10, 22, 'z'), "10 bytes copied");
}

static void c_mempcpy_null(void)
{
	char *r = mempcpy(V(NULL), src(), rt(4));
	check(r == NULL, "mempcpy(NULL, s, 4) returns NULL + 0");
}

/* ---------------------------------------------------------------- memset */

static void c_memset_overflow(void)
{
	char *d = dest(13);
	void *r = memset(d, 'x', rt(16));
	check(r == d, "memset returns d");
	check(all_c(d, 13, 'x') && canary_ok(d, 13), "13 bytes set, canary intact");
}

static void c_memset_interior_overflow(void)
{
	char *d = dest(13);
	memset(d + 10, 0, rt(6));
	check(all_c(d, 10, 'z') && all_c(d + 10, 3, 0) && canary_ok(d, 13), "3 bytes set at d + 10");
}

static void c_memset_freed(void)
{
	char *d = freed(32);
	memset(d, 0, rt(32));
	check(all_f5(d, 32), "freed block untouched (0xf5)");
}

static void c_memset_null(void)
{
	void *r = memset(V(NULL), 0, rt(8));
	check(r == NULL, "memset(NULL, 0, 8) returns NULL (d)");
}

static void c_memset_literal(void)
{
	char *l = literal();
	memset(l, 'x', rt(4));
	check(l[0] == 'a', "the literal is unchanged");
}

/* ----------------------------------------------------- memcmp, strcmp ... */

static void c_memcmp_overread(void)
{
	char *a = unterm(8);
	char *b = unterm(24);
	int r = memcmp(a, b, rt(12));
	check(r == 0, "memcmp compares the 8 bytes of a's block: %d (0)", r);
}

static void c_memcmp_overread_b(void)
{
	char *a = str_in(32, "ABCDEFGH_x");
	char *b = unterm(8);
	int r = memcmp(a, b, rt(10));
	check(r == 0, "memcmp compares the 8 bytes of b's block: %d (0)", r);
}

static void c_memcmp_null(void)
{
	int r = memcmp(V(NULL), "abc", rt(3));
	check(r == 0, "memcmp(NULL, s, 3) = %d (0)", r);
}

static void c_memcmp_freed(void)
{
	char *a = freed(16);
	char *b = h_malloc(16);
	for (int i = 0; i < 16; i++)
		b[i] = (char)0xf5;
	int r = memcmp(a, b, rt(16));
	check(r == 0, "memcmp of the freed block's bytes: %d (0)", r);
}

static void c_strcmp_overread(void)
{
	char *a = unterm(8);
	char *b = str_in(16, "ABCDEFGHIJ");
	int r = strcmp(a, b);
	check(r == 0, "strcmp compares up to the block's end: %d (0)", r);
}

static void c_strcmp_overread_b(void)
{
	char *a = str_in(16, "ABCDEFGHIJ");
	char *b = unterm(8);
	int r = strcmp(a, b);
	check(r == 0, "strcmp compares up to the block's end: %d (0)", r);
}

static void c_strcmp_null(void)
{
	int r = strcmp("abc", V(NULL));
	check(r == 0, "strcmp(s, NULL) = %d (0)", r);
}

static void c_strcmp_freed(void)
{
	char *a = freed(16);
	int r = strcmp(a, "abc");
	check(r != 0, "strcmp of a freed block and 'abc' differs (%d)", r);
}

static void c_strncmp_overread(void)
{
	char *a = unterm(8);
	char *b = str_in(32, "ABCDEFGHIJKLMNOP");
	int r = strncmp(a, b, rt(12));
	check(r == 0, "strncmp compares up to the block's end: %d (0)", r);
}

static void c_strncmp_null(void)
{
	int r = strncmp(V(NULL), "abc", rt(3));
	check(r == 0, "strncmp(NULL, s, 3) = %d (0)", r);
}

static void c_strncmp_freed(void)
{
	char *a = freed(16);
	int r = strncmp("abc", a, rt(3));
	check(r != 0, "strncmp with a freed block differs (%d)", r);
}

static void c_strchr_overread(void)
{
	char *p = unterm(13);
	char *r = strchr(p, '#'); /* only in the canary, after the block */
	check(r == NULL, "strchr searched within the block only: NULL");
}

static void c_strchr_nul_overread(void)
{
	char *p = unterm(13);
	char *r = strchr(p, 0);
	check(r == NULL, "strchr(p, 0) with no NUL in the block: NULL");
}

static void c_strchr_null(void)
{
	char *r = strchr(V(NULL), 'a');
	check(r == NULL, "strchr(NULL, c) returns NULL");
}

static void c_strchr_freed(void)
{
	char *p = freed(16);
	char *r = strchr(p, 'a');
	check(r == NULL, "strchr in a freed block: NULL");
}

static void c_strrchr_overread(void)
{
	char *p = unterm(13);
	char *r = strrchr(p, 'C');
	check(r == p + 2, "strrchr finds the last 'C' inside the block (p + 2), got p + %td", r - p);
}

static void c_strrchr_null(void)
{
	char *r = strrchr(V(NULL), 'a');
	check(r == NULL, "strrchr(NULL, c) returns NULL");
}

static void c_strstr_overread(void)
{
	char *h = unterm(13);
	char *r = strstr(h, "M#");
	check(r == NULL, "strstr searched within the block only: NULL");
}

static void c_strstr_overread_needle(void)
{
	char *nd = unterm(3);
	char *h = str_in(32, "xxABCxx");
	char *r = strstr(h, nd);
	check(r == h + 2, "strstr with the needle's 3 bytes: h + 2, got %p", (void *)r);
}

static void c_strstr_null(void)
{
	char *r = strstr("abc", V(NULL));
	check(r == NULL, "strstr(h, NULL) returns NULL");
}

static void c_strstr_freed(void)
{
	char *h = freed(16);
	char *r = strstr(h, "ab");
	check(r == NULL, "strstr in a freed block: NULL");
}

/* ---------------------------------------------------- strdup and strndup */

static void c_strdup_overread(void)
{
	char *p = unterm(8);
	char *r = strdup(p);
	check(r != NULL && is_pat(r, 8) && r[8] == 0, "strdup copies the block's 8 bytes + NUL");
	check(r != NULL && malloc_usable_size(r) == 9, "the copy is a 9-byte block");
}

static void c_strdup_freed(void)
{
	char *p = freed(16);
	char *r = strdup(p);
	check(r != NULL && all_f5(r, 16) && r[16] == 0, "strdup copies the freed block's 16 bytes + NUL");
}

static void c_strdup_null(void)
{
	errno = 0;
	char *r = strdup(V(NULL));
	int e = errno;
	check(r == NULL, "strdup(NULL) returns NULL");
	check(e == EINVAL, "errno EINVAL (%d)", e);
}

static void c_strndup_overread(void)
{
	char *p = unterm(8);
	char *r = strndup(p, rt(20));
	check(r != NULL && is_pat(r, 8) && r[8] == 0, "strndup copies the block's 8 bytes + NUL");
}

static void c_strndup_null(void)
{
	errno = 0;
	char *r = strndup(V(NULL), rt(4));
	int e = errno;
	check(r == NULL && e == EINVAL, "strndup(NULL, 4) returns NULL, errno EINVAL (%d)", e);
}

/* ---------------------------------------------------------- puts, fputs */

static void c_puts_overread(void)
{
	flush();
	int r = puts(unterm(8));
	check(r != EOF, "puts returns non-negative (%d)", r);
}

static void c_puts_null(void)
{
	flush();
	errno = 0;
	int r = puts(V(NULL));
	int e = errno;
	check(r == EOF && e == EINVAL, "puts(NULL) = EOF, errno EINVAL (%d, %d)", r, e);
}

static void c_puts_freed(void)
{
	flush();
	int r = puts(freed(16));
	check(r != EOF, "puts of a freed block returns (%d)", r);
}

static void c_fputs_overread(void)
{
	flush();
	int r = fputs(unterm(8), stdout);
	fputs("|\n", stdout);
	check(r != EOF, "fputs returns non-negative (%d)", r);
}

static void c_fputs_null(void)
{
	flush();
	errno = 0;
	int r = fputs(V(NULL), stdout);
	int e = errno;
	check(r == EOF && e == EINVAL, "fputs(NULL) = EOF, errno EINVAL (%d, %d)", r, e);
}

/* ----------------------------------------------------------- printf family */

static void c_printf_overread(void)
{
	flush();
	int r = printf("[%s]\n", unterm(8));
	check(r == 11, "printf prints '[ABCDEFGH]' = %d (11)", r);
}

static void c_printf_precision_overread(void)
{
	flush();
	int r = printf("[%.20s]\n", unterm(8));
	check(r == 11, "printf %%.20s of an 8-byte block = %d (11)", r);
}

static void c_printf_freed(void)
{
	flush();
	int r = printf("[%s]\n", freed(16));
	check(r == 19, "printf of a freed 16-byte block = %d (19)", r);
}

static void c_printf_format_unterminated(void)
{
	flush();
	char *f = unterm(8);
	errno = 0;
	int r = printf(f);
	int e = errno;
	flush();
	check(r == -1 && e == EINVAL, "printf(unterminated format) = -1, EINVAL (%d, %d)", r, e);
}

static void c_printf_null_format(void)
{
	flush();
	errno = 0;
	int r = printf(V(NULL));
	int e = errno;
	check(r == -1 && e == EINVAL, "printf(NULL) = -1, EINVAL (%d, %d)", r, e);
}

static void c_printf_second_arg(void)
{
	flush();
	int r = printf("[%d %s %s]\n", 7, "ok", unterm(8));
	check(r == 16, "printf '[7 ok ABCDEFGH]' = %d (16)", r);
}

static void c_fprintf_overread(void)
{
	flush();
	int r = fprintf(stdout, "[%s]\n", unterm(8));
	check(r == 11, "fprintf = %d (11)", r);
}

static void c_dprintf_overread(void)
{
	flush();
	int r = dprintf(1, "[%s]\n", unterm(8));
	check(r == 11, "dprintf = %d (11)", r);
}

static void c_vprintf_overread(void)
{
	flush();
	int r = call_vprintf("[%s]\n", unterm(8));
	check(r == 11, "vprintf = %d (11)", r);
}

static void c_vfprintf_overread(void)
{
	flush();
	int r = call_vfprintf(stdout, "[%s]\n", unterm(8));
	check(r == 11, "vfprintf = %d (11)", r);
}

static void c_vdprintf_overread(void)
{
	flush();
	int r = call_vdprintf(1, "[%s]\n", unterm(8));
	check(r == 11, "vdprintf = %d (11)", r);
}

static void c_asprintf_overread(void)
{
	char *out = NULL;
	int r = asprintf(&out, "[%s]", unterm(8));
	check(r == 10 && out && is_str(out, "[ABCDEFGH]"), "asprintf gives '[ABCDEFGH]' (%d)", r);
}

static void c_vasprintf_overread(void)
{
	char *out = NULL;
	int r = call_vasprintf(&out, "[%s]", unterm(8));
	check(r == 10 && out && is_str(out, "[ABCDEFGH]"), "vasprintf gives '[ABCDEFGH]' (%d)", r);
}

static void c_sprintf_overflow(void)
{
	char *d = dest(13);
	int r = sprintf(d, "%s-%d", "abcdefghij", 12345); /* 16 chars */
	check(r == 12, "sprintf returns the 12 chars written (%d)", r);
	check(is_str(d, "abcdefghij-1"), "truncated to the block and terminated");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_sprintf_overread(void)
{
	char *d = dest(32);
	int r = sprintf(d, "<%s>", unterm(8));
	check(r == 10 && is_str(d, "<ABCDEFGH>"), "sprintf '<ABCDEFGH>' (%d)", r);
}

static void c_sprintf_null(void)
{
	int r = sprintf(V(NULL), "%d", 42);
	check(r == -1, "sprintf(NULL, ...) = %d (-1)", r);
}

static void c_sprintf_freed(void)
{
	char *d = freed(32);
	int r = sprintf(d, "%d", 42);
	check(r == -1 && all_f5(d, 32), "sprintf into a freed block: -1, untouched (%d)", r);
}

static void c_sprintf_literal(void)
{
	char *l = literal();
	int r = sprintf(l, "%d", 42);
	check(r == -1 && l[0] == 'a', "sprintf into a literal: -1, unchanged (%d)", r);
}

static void c_snprintf_overflow(void)
{
	char *d = dest(13);
	int r = snprintf(d, rt(32), "%s-%d", "abcdefghij", 12345);
	check(r == 16, "snprintf returns the full length 16 (%d)", r);
	check(is_str(d, "abcdefghij-1"), "truncated to the block and terminated");
	check(canary_ok(d, 13), "bytes after the block untouched");
}

static void c_snprintf_null(void)
{
	int r = snprintf(V(NULL), rt(8), "%d", 42);
	check(r == -1, "snprintf(NULL, 8, ...) = %d (-1)", r);
}

static void c_snprintf_freed(void)
{
	char *d = freed(32);
	int r = snprintf(d, rt(8), "%d", 42);
	check(r == -1 && all_f5(d, 32), "snprintf into a freed block: -1, untouched (%d)", r);
}

static void c_vsprintf_overflow(void)
{
	char *d = dest(13);
	int r = call_vsprintf(d, "%s-%d", "abcdefghij", 12345);
	check(r == 12, "vsprintf returns 12 (%d)", r);
	check(is_str(d, "abcdefghij-1") && canary_ok(d, 13), "truncated, terminated, canary intact");
}

static void c_vsnprintf_overflow(void)
{
	char *d = dest(13);
	int r = call_vsnprintf(d, rt(32), "%s-%d", "abcdefghij", 12345);
	check(r == 16, "vsnprintf returns 16 (%d)", r);
	check(is_str(d, "abcdefghij-1") && canary_ok(d, 13), "truncated, terminated, canary intact");
}

/* ------------------------------------------------------- stack buffers */

/* ------------------------------------------- blocks of other origins */

static void c_memset_large_overflow(void)
{
	char *d = dest(100000);
	memset(d, 'x', rt(100001));
	check(d[0] == 'x' && d[99999] == 'x' && canary_ok(d, 100000), "100000 bytes set, canary intact");
}

/* an interior pointer far from the block's start */
static void c_memcpy_large_interior_overflow(void)
{
	char *d = dest(100000);
	memcpy(d + 99990, src(), rt(20));
	check(eq(d + 99990, "0123456789", 10) && canary_ok(d, 100000), "10 bytes copied, canary intact");
}

static void c_strcat_strdup_overflow(void)
{
	char *d = strdup(V("abc"));
	fill_canary(d, 4);
	strcat(d, "x");
	check(is_str(d, "abc") && canary_ok(d, 4), "nothing appended (no room), canary intact");
}

static void c_memset_aligned_overflow(void)
{
	char *d = aligned_alloc(64, rt(100));
	fill_canary(d, 100);
	memset(d, 'x', rt(104));
	check(all_c(d, 100, 'x') && canary_ok(d, 100), "100 bytes set, canary intact");
}

static void c_memset_calloc_overflow(void)
{
	char *d = h_calloc(5, 5);
	fill_canary(d, 25);
	memset(d, 'x', rt(32));
	check(all_c(d, 25, 'x') && canary_ok(d, 25), "25 bytes set, canary intact");
}

/* realloc shrinks a block: the new size counts (the block was looked up,
 * and cached, at its old size) */
static void c_realloc_shrink_overflow(void)
{
	char *p = str_in(64, "sixty-four");
	size_t n = strlen(p);
	char *q = h_realloc(p, rt(20));
	fill_canary(q, 20);
	memset(q, 'x', rt(30));
	check(n == 10 && all_c(q, 20, 'x') && canary_ok(q, 20), "20 bytes set, canary intact");
}

/* With quarantine_mb=0 a freed address comes back at once with another
 * size: the 50-byte block must not be judged as the 64-byte one it
 * replaced. */
static void c_reuse_overflow(void)
{
	char *p = str_in(64, "sixty-four");
	size_t n = strlen(p); /* looked up (and cached) */
	h_free(p);
	char *q = h_malloc(rt(50));
	fill_canary(q, 50);
	printf("same address: %s\n", q == p ? "yes" : "no");
	memset(q, 'x', rt(60));
	check(n == 10 && all_c(q, 50, 'x') && canary_ok(q, 50), "50 bytes set, canary intact");
}

/* A write into a stack buffer that would reach the saved return address
 * of the buffer's frame is skipped when neutralized: the buffer keeps its
 * old contents ('k...') and the function returns normally.  The victims
 * are built without a frame pointer and without a stack protector (at -O0
 * the saved frame pointer would sit between buffer and return address). */
#define VICTIM __attribute__((noinline, optimize("O2", "omit-frame-pointer", "no-stack-protector")))

VICTIM static int strcpy_victim(const char *s)
{
	char buf[16];
	buf[0] = 'k';
	buf[1] = 0;
	strcpy(buf, s);
	return buf[0];
}

VICTIM static int memcpy_victim(const char *s, size_t n)
{
	char buf[16];
	buf[0] = 'k';
	memcpy(buf, s, n);
	return buf[0];
}

static volatile int sprintf_ret;

/* (no out-parameters: they would be kept in callee-saved registers, pushed
 * between the buffer and the return address) */
VICTIM static int sprintf_victim(const char *s)
{
	char buf[16];
	buf[0] = 'k';
	sprintf_ret = sprintf(buf, "<%s>", s);
	return buf[0];
}

VICTIM static int strcat_victim(const char *s)
{
	char buf[16];
	buf[0] = 'k';
	buf[1] = 0;
	strcat(buf, s);
	return buf[0] + buf[1];
}

/* the buffer belongs to the caller's frame, the write happens two frames
 * further in */
__attribute__((noinline)) static void copy_into(char *d, const char *s) { strcpy(d, s); }

VICTIM static int callee_victim(const char *s)
{
	char buf[16];
	buf[0] = 'k';
	buf[1] = 0;
	copy_into(buf, s);
	return buf[0];
}

static const char *long40 = "0123456789012345678901234567890123456789";

static void c_strcpy_stack(void)
{
	int r = strcpy_victim(V(long40));
	check(r == 'k', "returned normally, the buffer kept its contents (%d)", r);
}

static void c_memcpy_stack(void)
{
	int r = memcpy_victim(V(long40), rt(40));
	check(r == 'k', "returned normally, the buffer kept its contents (%d)", r);
}

static void c_sprintf_stack(void)
{
	errno = 0;
	int r = sprintf_victim(V(long40));
	int e = errno;
	check(r == 'k', "returned normally, the buffer kept its contents (%d)", r);
	check(sprintf_ret == -1 && e == EOVERFLOW, "sprintf returned -1, errno EOVERFLOW (%d, %d)",
	      sprintf_ret, e);
}

static void c_strcpy_stack_callee(void)
{
	int r = callee_victim(V(long40));
	check(r == 'k', "returned normally, the buffer kept its contents (%d)", r);
}

static void *stack_thread(void *arg)
{
	return (void *)(intptr_t)strcpy_victim(arg);
}

/* on a thread's stack (not the main one) */
static void c_strcpy_stack_thread(void)
{
	pthread_t t;
	void *r = NULL;
	pthread_create(&t, NULL, stack_thread, V(long40));
	pthread_join(t, &r);
	check((intptr_t)r == 'k', "the thread returned normally (%d)", (int)(intptr_t)r);
}

static void c_strcat_stack(void)
{
	int r = strcat_victim(V(long40));
	check(r == 'k', "returned normally, the buffer kept its contents (%d)", r);
}

/* -------------------------------------------- _FORTIFY_SOURCE entry points */

/* dlen 64: the object size a compiler would pass for a 64-byte struct
 * member; the block is only 13 bytes. */
static void c_chk_memcpy(void)
{
	char *d = dest(13);
	void *r = __memcpy_chk(d, src(), rt(20), 64);
	check(r == d && eq(d, "0123456789abc", 13) && canary_ok(d, 13), "13 bytes, canary intact");
}

static void c_chk_memmove(void)
{
	char *d = dest(13);
	void *r = __memmove_chk(d, src(), rt(20), 64);
	check(r == d && eq(d, "0123456789abc", 13) && canary_ok(d, 13), "13 bytes, canary intact");
}

static void c_chk_mempcpy(void)
{
	char *d = dest(13);
	char *r = __mempcpy_chk(d, src(), rt(20), 64);
	check(r == d + 13 && canary_ok(d, 13), "returns d + 13 (d + %td), canary intact", r - d);
}

static void c_chk_memset(void)
{
	char *d = dest(13);
	__memset_chk(d, 'x', rt(20), 64);
	check(all_c(d, 13, 'x') && canary_ok(d, 13), "13 bytes set, canary intact");
}

static void c_chk_strcpy(void)
{
	char *d = dest(13);
	char *r = __strcpy_chk(d, src(), 64);
	check(r == d && is_str(d, "0123456789ab") && canary_ok(d, 13), "12 bytes + NUL, canary intact");
}

static void c_chk_stpcpy(void)
{
	char *d = dest(13);
	char *r = __stpcpy_chk(d, src(), 64);
	check(r == d + 12 && is_str(d, "0123456789ab") && canary_ok(d, 13),
	      "returns d + 12 (d + %td), canary intact", r - d);
}

static void c_chk_strncpy(void)
{
	char *d = dest(13);
	__strncpy_chk(d, src(), rt(16), 64);
	check(eq(d, "0123456789ab", 12) && d[12] == 0 && canary_ok(d, 13), "clamped, terminated");
}

static void c_chk_stpncpy(void)
{
	char *d = dest(13);
	char *r = __stpncpy_chk(d, src(), rt(16), 64);
	check(r == d + 12 && d[12] == 0 && canary_ok(d, 13), "returns d + 12 (d + %td)", r - d);
}

static void c_chk_strcat(void)
{
	char *d = str_in(9, "cache");
	__strcat_chk(d, V("_tmp"), 64);
	check(is_str(d, "cache_tm") && canary_ok(d, 9), "truncated to 'cache_tm', canary intact");
}

static void c_chk_strncat(void)
{
	char *d = str_in(9, "abc");
	__strncat_chk(d, V("defghijk"), rt(7), 64);
	check(is_str(d, "abcdefgh") && canary_ok(d, 9), "truncated to 'abcdefgh', canary intact");
}

static void c_chk_sprintf(void)
{
	char *d = dest(13);
	int r = __sprintf_chk(d, 1, 64, "%s-%d", "abcdefghij", 12345);
	check(r == 12 && is_str(d, "abcdefghij-1") && canary_ok(d, 13), "truncated (%d)", r);
}

static void c_chk_snprintf(void)
{
	char *d = dest(13);
	int r = __snprintf_chk(d, rt(32), 1, 64, "%s-%d", "abcdefghij", 12345);
	check(r == 16 && is_str(d, "abcdefghij-1") && canary_ok(d, 13), "truncated (%d)", r);
}

static void c_chk_vsprintf(void)
{
	char *d = dest(13);
	int r = call_vsprintf_chk(d, 64, "%s-%d", "abcdefghij", 12345);
	check(r == 12 && is_str(d, "abcdefghij-1") && canary_ok(d, 13), "truncated (%d)", r);
}

static void c_chk_vsnprintf(void)
{
	char *d = dest(13);
	int r = call_vsnprintf_chk(d, rt(32), 64, "%s-%d", "abcdefghij", 12345);
	check(r == 16 && is_str(d, "abcdefghij-1") && canary_ok(d, 13), "truncated (%d)", r);
}

static void c_chk_printf(void)
{
	flush();
	int r = __printf_chk(1, "[%s]\n", unterm(8));
	check(r == 11, "__printf_chk = %d (11)", r);
}

static void c_chk_fprintf(void)
{
	flush();
	int r = __fprintf_chk(stdout, 1, "[%s]\n", unterm(8));
	check(r == 11, "__fprintf_chk = %d (11)", r);
}

static void c_chk_vprintf(void)
{
	flush();
	int r = call_vprintf_chk("[%s]\n", unterm(8));
	check(r == 11, "__vprintf_chk = %d (11)", r);
}

static void c_chk_vfprintf(void)
{
	flush();
	int r = call_vfprintf_chk(stdout, "[%s]\n", unterm(8));
	check(r == 11, "__vfprintf_chk = %d (11)", r);
}

static void c_chk_dprintf(void)
{
	flush();
	int r = __dprintf_chk(1, 1, "[%s]\n", unterm(8));
	check(r == 11, "__dprintf_chk = %d (11)", r);
}

static void c_chk_asprintf(void)
{
	char *out = NULL;
	int r = __asprintf_chk(&out, 1, "[%s]", unterm(8));
	check(r == 10 && out && is_str(out, "[ABCDEFGH]"), "__asprintf_chk '[ABCDEFGH]' (%d)", r);
}

/* ------------------------------------ built with -O2 -D_FORTIFY_SOURCE=N */

/* The destination's size: known at compile time (fort-const-*) or only at
 * run time (fort-*; _FORTIFY_SOURCE=3 still passes it to the _chk call,
 * =2 does not, and then the compiler calls the plain function). */
static void c_fort_strcpy(void)
{
	char *d = malloc(rt(13));
	fill_canary(d, 13);
	strcpy(d, src());
	check(is_str(d, "0123456789ab") && canary_ok(d, 13), "12 bytes + NUL, canary intact");
}

static void c_fort_memcpy(void)
{
	char *d = malloc(rt(13));
	fill_canary(d, 13);
	memcpy(d, src(), rt(20));
	check(eq(d, "0123456789abc", 13) && canary_ok(d, 13), "13 bytes, canary intact");
}

static void c_fort_sprintf(void)
{
	char *d = malloc(rt(13));
	fill_canary(d, 13);
	int r = sprintf(d, "%s-%d", (char *)V("abcdefghij"), 12345);
	check(r == 12 && is_str(d, "abcdefghij-1") && canary_ok(d, 13), "truncated (%d)", r);
}

static void c_fort_const_strcpy(void)
{
	char *d = malloc(13);
	fill_canary(d, 13);
	strcpy(d, src());
	check(is_str(d, "0123456789ab") && canary_ok(d, 13), "12 bytes + NUL, canary intact");
}

static void c_fort_const_memcpy(void)
{
	char *d = malloc(13);
	fill_canary(d, 13);
	memcpy(d, src(), rt(20));
	check(eq(d, "0123456789abc", 13) && canary_ok(d, 13), "13 bytes, canary intact");
}

static void c_fort_const_sprintf(void)
{
	char *d = malloc(13);
	fill_canary(d, 13);
	int r = sprintf(d, "%s-%d", (char *)V("abcdefghij"), 12345);
	check(r == 12 && is_str(d, "abcdefghij-1") && canary_ok(d, 13), "truncated (%d)", r);
}

static void c_fort_printf(void)
{
	flush();
	int r = printf("[%s]\n", unterm(8));
	check(r == 11, "printf = %d (11)", r);
}

/* Correct calls in a fortified build: same output as without the shim. */
static void c_fort_ok(void)
{
	size_t n = rt(32);
	char *d = malloc(n);
	strcpy(d, "fortified");
	strcat(d, " build");
	memcpy(d + 15, "!", 2);
	char buf[64];
	snprintf(buf, sizeof buf, "%s/%zu", d, strlen(d));
	sprintf(d, "%.30s", buf);
	printf("%s %s\n", d, buf);
	fprintf(stdout, "%d\n", (int)strlen(buf));
	memset(d, 0, n);
	free(d);
}

/* ---------------------------------------------------- correct programs */

char g_buf[64] = "global buffer";
static char g_bss[64];

/* Lots of correct calls on heap, stack, global and literal pointers: no
 * report, and the same output as without the shim. */
static void c_ok(void)
{
	char stack[64];
	char *heap = h_malloc(64);
	char *exact = h_malloc(6); /* exactly "hello" + NUL */
	unsigned long sum = 0;

	/* copies that fit exactly */
	strcpy(exact, "hello");
	printf("exact %s %zu\n", exact, strlen(exact));
	char *e = stpcpy(exact, "world");
	printf("stpcpy end %td\n", e - exact);
	memcpy(exact, "HELLO", 6);
	memmove(exact + 1, exact, 4);
	printf("memmove %s\n", exact);
	memset(exact, 'm', 5);
	printf("memset %.5s %d\n", exact, exact[5]);
	strncpy(exact, "abcdefgh", 6); /* fills all 6, no NUL: correct */
	printf("strncpy %.6s\n", exact);
	printf("strnlen %zu\n", strnlen(exact, 6));
	exact[5] = 0;
	strncat(exact, "zzz", 0);
	printf("strncat0 %s\n", exact);

	/* on every kind of memory */
	char *bufs[] = {stack, heap, g_buf, g_bss};
	const char *names[] = {"stack", "heap", "global", "bss"};
	for (int i = 0; i < 4; i++) {
		char *b = bufs[i];
		strcpy(b, names[i]);
		strcat(b, "-");
		strncat(b, "suffix-too-long", 6);
		size_t n = strlen(b);
		char *q = stpncpy(b + n, "++", 4);
		sum += (unsigned long)(q - b);
		printf("%s %zu %zu\n", b, strlen(b), strnlen(b, 3));
		printf("cmp %d %d %d\n", strcmp(b, names[i]) > 0, strncmp(b, names[i], 3),
		       memcmp(b, names[i], 2));
		printf("chr %td %td\n", strchr(b, '-') - b, strrchr(b, 'f') - b);
		printf("str %td %s\n", strstr(b, "suf") - b, strstr(b, "nope") ? "?" : "none");
		char *d = strdup(b);
		char *d2 = strndup(b, 4);
		printf("dup %s %s\n", d, d2);
		h_free(d);
		h_free(d2);
		memset(b, 0, 64);
		memcpy(b, "0123456789", 11);
		sum += (unsigned long)strlen(b);
		mempcpy(b + 10, "ab", 3);
		printf("after %s\n", b);
		int w = sprintf(b, "%s#%d#%.3s", names[i], i, "xyzzy");
		int w2 = snprintf(b + w, 64 - (size_t)w, "|%5s|%-4s|", "r", "l");
		printf("fmt %s %d %d\n", b, w, w2);
		puts(b);
		fputs(b, stdout);
		fputs("\n", stdout);
	}

	/* literals and read-only data as sources */
	printf("%s %s\n", "literal", (char *)literal());
	printf("%zu\n", strlen(literal()));
	char *lit = literal();
	printf("%td\n", strchr(lit, 'l') - lit);

	/* the printf family with %s in various places */
	char *hs = h_malloc(8);
	strcpy(hs, "heapstr");
	printf("[%s] [%10s] [%-10s] [%.3s] [%*s] [%.*s]\n", hs, hs, hs, hs, 9, hs, 2, hs);
	printf("[%2$s] [%1$s] [%3$.*4$s]\n", hs, g_buf, hs, 4);
	fprintf(stdout, "%s|%s|%s\n", hs, stack, g_buf);
	dprintf(1, "%s\n", hs);
	fflush(stdout);
	char *as = NULL;
	int ar = asprintf(&as, "%s+%s", hs, g_buf);
	printf("asprintf %d %s\n", ar, as);
	h_free(as);
	call_vprintf("v %s %d\n", hs, 3);
	call_vfprintf(stdout, "vf %s\n", hs);
	fflush(stdout);
	call_vdprintf(1, "vd %s\n", hs);
	char *vas = NULL;
	call_vasprintf(&vas, "vas %s", hs);
	puts(vas);
	h_free(vas);
	char small[8];
	int sn = snprintf(small, sizeof small, "%s%s", hs, hs); /* truncation asked for */
	printf("snprintf %d %s\n", sn, small);
	int q = snprintf(NULL, 0, "%s-%d", hs, 12345); /* a length query */
	printf("query %d\n", q);
	char *vs = h_malloc(16);
	call_vsprintf(vs, "%s!", hs);
	call_vsnprintf(small, sizeof small, "%s", vs);
	printf("vs %s %s\n", vs, small);

	/* a NULL %s prints "(null)"; n == 0 calls with NULL */
	printf("null %s\n", (char *)V(NULL));
	memcpy(V(NULL), V(NULL), rt(0));
	memset(V(NULL), 0, rt(0));
	memmove(V(NULL), hs, rt(0));
	printf("memcmp0 %d strncmp0 %d strnlen0 %zu\n", memcmp(V(NULL), hs, rt(0)),
	       strncmp(V(NULL), hs, rt(0)), strnlen(V(NULL), rt(0)));

	/* precision bounds reading an unterminated block */
	char *u = unterm(8);
	printf("prec [%.8s] [%.5s]\n", u, u);
	printf("strnlen %zu %zu\n", strnlen(u, 8), strnlen(u, 4));
	printf("strncmp %d memcmp %d\n", strncmp(u, "ABCDEFGHIJ", 8), memcmp(u, "ABCDEFGH", 8));
	char *un = strndup(u, 8);
	printf("strndup %s\n", un);
	char *cp = h_malloc(8);
	memcpy(cp, u, 8);
	strncpy(cp, u, 8);
	printf("%.8s\n", cp);

	/* interior pointers, within bounds */
	strcpy(heap, "interior pointers work");
	printf("%zu %s %d\n", strlen(heap + 9), heap + 9, strcmp(heap + 9, "pointers work"));
	memset(heap + 20, 'X', 2);
	strcpy(heap + 17, "ok");
	printf("%s\n", heap);

	/* mprotect: read-only, then writable again */
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(m, "page");
	mprotect(m, 4096, PROT_READ);
	printf("ro %s %zu\n", m, strlen(m));
	mprotect(m, 4096, PROT_READ | PROT_WRITE);
	strcat(m, " again writable");
	memset(m + 100, 1, 100);
	printf("%s\n", m);
	munmap(m, 4096);

	/* a stack buffer of this frame written two frames further in */
	copy_into(stack, "written by a callee, inside the buffer");
	printf("%s\n", stack);

	/* realloc in place, then the whole new size is used */
	char *g = h_malloc(20);
	g = h_realloc(g, 30);
	memset(g, 'g', 29);
	g[29] = 0;
	printf("grown %zu\n", strlen(g));
	h_free(g);

	/* the _FORTIFY_SOURCE entry points, correct sizes */
	char *c = h_malloc(32);
	__memcpy_chk(c, "chk", 4, 32);
	__strcat_chk(c, "-cat", 32);
	__strncat_chk(c, "-ncat", 3, 32);
	printf("%s %zu\n", c, strlen(c));
	__strcpy_chk(c, "strcpy", 32);
	char *ce = __stpcpy_chk(c + 6, "+stpcpy", 26);
	__memmove_chk(c + 1, c, 5, 31);
	printf("%s %td\n", c, ce - c);
	__strncpy_chk(c, "ncpy", 8, 32);
	ce = __stpncpy_chk(c + 8, "x", 4, 24);
	ce = __mempcpy_chk(ce, "mp", 2, 20);
	__memset_chk(ce, 'm', 2, 18);
	printf("%s %s %.4s\n", c, c + 8, c + 8);
	__sprintf_chk(c, 1, 32, "%s-%d", "spr", 1);
	__snprintf_chk(c + 10, 10, 1, 22, "%s", "snprintf-long");
	printf("%s %s\n", c, c + 10);
	__printf_chk(1, "%s %s\n", "printf_chk", c);
	__fprintf_chk(stdout, 1, "%s\n", "fprintf_chk");
	fflush(stdout);
	__dprintf_chk(1, 1, "%s\n", "dprintf_chk");
	char *ca = NULL;
	__asprintf_chk(&ca, 1, "%s", "asprintf_chk");
	call_vprintf_chk("%s %s\n", ca, "vprintf_chk");
	call_vfprintf_chk(stdout, "%s\n", "vfprintf_chk");
	call_vsprintf_chk(c, 32, "%s", "vsprintf_chk");
	call_vsnprintf_chk(c + 16, 8, 16, "%s", "vsnprintf_chk");
	printf("%s %s\n", c, c + 16);
	h_free(ca);
	h_free(c);

	/* a big block and many small ones */
	char *big = h_malloc(1 << 20);
	memset(big, 'b', (1 << 20) - 1);
	big[(1 << 20) - 1] = 0;
	printf("big %zu\n", strlen(big));
	memcpy(big, big + 8192, 8192);
	memmove(big + 1, big, 100000);
	for (int i = 0; i < 2000; i++) {
		char *s = h_malloc(1 + i % 100);
		memset(s, 'a' + i % 26, i % 100);
		s[i % 100] = 0;
		sum += strlen(s);
		char *t = strdup(s);
		sum += (unsigned long)(strcmp(s, t) == 0);
		h_free(t);
		h_free(s);
	}
	printf("sum %lu\n", sum);
	h_free(big);
	h_free(heap);
	h_free(exact);
}

/* Threads doing correct string calls on blocks they allocate, reallocate
 * and free all the time (with quarantine_mb=0, addresses come back at once
 * with other sizes): nothing is reported, every result is right. */
static void *busy(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	long bad = 0;
	for (int i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 16) % 90;
		char *p = malloc(n + 1);
		memset(p, 'a' + i % 26, n);
		p[n] = 0;
		bad += strlen(p) != n;
		char *q = malloc(n + 3);
		strcpy(q, p);
		strcat(q, "!!");
		bad += strlen(q) != n + 2 || strncmp(p, q, n) != 0;
		q = realloc(q, n + 1);
		q[n] = 0;
		bad += strcmp(p, q) != 0;
		char *d = strdup(p);
		bad += memcmp(d, p, n + 1) != 0;
		free(p);
		free(q);
		free(d);
	}
	return (void *)bad;
}

static void c_threads_ok(void)
{
	enum { T = 8 };
	pthread_t t[T];
	long bad = 0;
	for (int i = 0; i < T; i++)
		pthread_create(&t[i], NULL, busy, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < T; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	check(bad == 0, "%ld wrong result(s) in the threads", bad);
}

/* Calls whose block holds no NUL but which touch no byte outside it: the
 * shim must stay quiet. */
static void c_edge_quiet(void)
{
	char *u = unterm(8);
	check(strnlen(u, 8) == 8, "strnlen(u, 8) = 8");
	check(strncmp(u, "ABCDEFGH", 8) == 0, "strncmp(u, ..., 8) = 0");
	check(strncmp(u, "ABX", 100) < 0, "strncmp differs inside the block");
	check(strcmp(u, "ABX") < 0, "strcmp differs inside the block");
	check(strchr(u, 'D') == u + 3, "strchr finds 'D' inside the block");
	char *d = h_malloc(8);
	check(strncpy(d, u, 8) == d && is_pat(d, 8), "strncpy(d, u, 8)");
	char *n = strndup(u, 8);
	check(n && is_str(n, "ABCDEFGH"), "strndup(u, 8)");
	char buf[16];
	check(snprintf(buf, sizeof buf, "%.8s", u) == 8 && is_str(buf, "ABCDEFGH"), "%%.8s");
	check(memcmp(u, "ABCDEFGH", 8) == 0, "memcmp 8");
	/* the block's last byte written exactly */
	char *e = dest(13);
	check(memset(e + 12, 0, 1) == e + 12 && canary_ok(e, 13), "memset of the last byte");
	check(strcpy(e + 11, "x") == e + 11 && canary_ok(e, 13), "strcpy ending at the last byte");
}

/* dlerror's message, then the first use of several stdio calls: the
 * output must be the same as without the shim. */
static void c_dlerror_stdio(void)
{
	void *h = dlopen("/nonexistent/cgoguard-itest.so", RTLD_NOW);
	const char *e = dlerror();
	if (h || !e) {
		puts("dlopen did not fail?");
		return;
	}
	fputs(e, stdout);
	fputs("\n", stdout);
	fflush(stdout);
	h = dlopen("/nonexistent/cgoguard-itest2.so", RTLD_NOW);
	e = dlerror();
	char buf[200];
	snprintf(buf, sizeof buf, "%s", e);
	puts(buf);
	h = dlopen("/nonexistent/cgoguard-itest3.so", RTLD_NOW);
	e = dlerror();
	fflush(stdout);
	dprintf(1, "%s\n", e);
}

/* ------------------------------------------------------------------- main */

#define CASE(name, fn) {name, fn},
static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	CASE("strlen-unterminated", c_strlen_unterminated)
	CASE("strlen-interior", c_strlen_interior)
	CASE("strncpy-then-strlen", c_strncpy_then_strlen)
	CASE("strlen-freed", c_strlen_freed)
	CASE("strlen-null", c_strlen_null)
	CASE("strnlen-unterminated", c_strnlen_unterminated)
	CASE("strnlen-freed", c_strnlen_freed)
	CASE("strnlen-null", c_strnlen_null)
	CASE("strcpy-overflow", c_strcpy_overflow)
	CASE("strcpy-unterminated-src", c_strcpy_unterminated_src)
	CASE("strcpy-freed-dest", c_strcpy_freed_dest)
	CASE("strcpy-freed-src", c_strcpy_freed_src)
	CASE("strcpy-literal", c_strcpy_literal)
	CASE("strcpy-null-dest", c_strcpy_null_dest)
	CASE("strcpy-null-src", c_strcpy_null_src)
	CASE("stpcpy-overflow", c_stpcpy_overflow)
	CASE("stpcpy-unterminated-src", c_stpcpy_unterminated_src)
	CASE("stpcpy-null-src", c_stpcpy_null_src)
	CASE("strncpy-overflow", c_strncpy_overflow)
	CASE("strncpy-overflow-long", c_strncpy_overflow_long)
	CASE("strncpy-unterminated-src", c_strncpy_unterminated_src)
	CASE("strncpy-freed-dest", c_strncpy_freed_dest)
	CASE("strncpy-literal", c_strncpy_literal)
	CASE("strncpy-null", c_strncpy_null)
	CASE("stpncpy-overflow", c_stpncpy_overflow)
	CASE("stpncpy-overflow-short", c_stpncpy_overflow_short)
	CASE("stpncpy-unterminated-src", c_stpncpy_unterminated_src)
	CASE("strcat-prefix-tmp", c_strcat_prefix_tmp)
	CASE("strcat-unterminated-dest", c_strcat_unterminated_dest)
	CASE("strcat-unterminated-src", c_strcat_unterminated_src)
	CASE("strcat-freed-dest", c_strcat_freed_dest)
	CASE("strcat-null", c_strcat_null)
	CASE("strcat-literal", c_strcat_literal)
	CASE("strncat-overflow", c_strncat_overflow)
	CASE("strncat-unterminated-src", c_strncat_unterminated_src)
	CASE("memcpy-overflow", c_memcpy_overflow)
	CASE("memcpy-overread", c_memcpy_overread)
	CASE("memcpy-interior-overflow", c_memcpy_interior_overflow)
	CASE("memcpy-freed-dest", c_memcpy_freed_dest)
	CASE("memcpy-freed-src", c_memcpy_freed_src)
	CASE("memcpy-null", c_memcpy_null)
	CASE("memcpy-null-src", c_memcpy_null_src)
	CASE("memcpy-literal", c_memcpy_literal)
	CASE("memmove-overflow", c_memmove_overflow)
	CASE("memmove-overread", c_memmove_overread)
	CASE("memmove-null", c_memmove_null)
	CASE("memmove-freed-dest", c_memmove_freed_dest)
	CASE("mempcpy-overflow", c_mempcpy_overflow)
	CASE("mempcpy-overread", c_mempcpy_overread)
	CASE("mempcpy-null", c_mempcpy_null)
	CASE("memset-overflow", c_memset_overflow)
	CASE("memset-interior-overflow", c_memset_interior_overflow)
	CASE("memset-freed", c_memset_freed)
	CASE("memset-null", c_memset_null)
	CASE("memset-literal", c_memset_literal)
	CASE("memset-readonly-map", c_memset_readonly_map)
	CASE("memset-new-readonly-map", c_memset_new_readonly_map)
	CASE("memset-mprotected", c_memset_mprotected)
	CASE("memcmp-overread", c_memcmp_overread)
	CASE("memcmp-overread-b", c_memcmp_overread_b)
	CASE("memcmp-null", c_memcmp_null)
	CASE("memcmp-freed", c_memcmp_freed)
	CASE("strcmp-overread", c_strcmp_overread)
	CASE("strcmp-overread-b", c_strcmp_overread_b)
	CASE("strcmp-null", c_strcmp_null)
	CASE("strcmp-freed", c_strcmp_freed)
	CASE("strncmp-overread", c_strncmp_overread)
	CASE("strncmp-null", c_strncmp_null)
	CASE("strncmp-freed", c_strncmp_freed)
	CASE("strchr-overread", c_strchr_overread)
	CASE("strchr-nul-overread", c_strchr_nul_overread)
	CASE("strchr-null", c_strchr_null)
	CASE("strchr-freed", c_strchr_freed)
	CASE("strrchr-overread", c_strrchr_overread)
	CASE("strrchr-null", c_strrchr_null)
	CASE("strstr-overread", c_strstr_overread)
	CASE("strstr-overread-needle", c_strstr_overread_needle)
	CASE("strstr-null", c_strstr_null)
	CASE("strstr-freed", c_strstr_freed)
	CASE("strdup-overread", c_strdup_overread)
	CASE("strdup-freed", c_strdup_freed)
	CASE("strdup-null", c_strdup_null)
	CASE("strndup-overread", c_strndup_overread)
	CASE("strndup-null", c_strndup_null)
	CASE("puts-overread", c_puts_overread)
	CASE("puts-null", c_puts_null)
	CASE("puts-freed", c_puts_freed)
	CASE("fputs-overread", c_fputs_overread)
	CASE("fputs-null", c_fputs_null)
	CASE("printf-overread", c_printf_overread)
	CASE("printf-precision-overread", c_printf_precision_overread)
	CASE("printf-freed", c_printf_freed)
	CASE("printf-format-unterminated", c_printf_format_unterminated)
	CASE("printf-null-format", c_printf_null_format)
	CASE("printf-second-arg", c_printf_second_arg)
	CASE("fprintf-overread", c_fprintf_overread)
	CASE("dprintf-overread", c_dprintf_overread)
	CASE("vprintf-overread", c_vprintf_overread)
	CASE("vfprintf-overread", c_vfprintf_overread)
	CASE("vdprintf-overread", c_vdprintf_overread)
	CASE("asprintf-overread", c_asprintf_overread)
	CASE("vasprintf-overread", c_vasprintf_overread)
	CASE("sprintf-overflow", c_sprintf_overflow)
	CASE("sprintf-overread", c_sprintf_overread)
	CASE("sprintf-null", c_sprintf_null)
	CASE("sprintf-freed", c_sprintf_freed)
	CASE("sprintf-literal", c_sprintf_literal)
	CASE("snprintf-overflow", c_snprintf_overflow)
	CASE("snprintf-null", c_snprintf_null)
	CASE("snprintf-freed", c_snprintf_freed)
	CASE("vsprintf-overflow", c_vsprintf_overflow)
	CASE("vsnprintf-overflow", c_vsnprintf_overflow)
	CASE("strcpy-stack", c_strcpy_stack)
	CASE("memcpy-stack", c_memcpy_stack)
	CASE("sprintf-stack", c_sprintf_stack)
	CASE("strcat-stack", c_strcat_stack)
	CASE("strcpy-stack-callee", c_strcpy_stack_callee)
	CASE("strcpy-stack-thread", c_strcpy_stack_thread)
	CASE("memset-large-overflow", c_memset_large_overflow)
	CASE("memcpy-large-interior-overflow", c_memcpy_large_interior_overflow)
	CASE("strcat-strdup-overflow", c_strcat_strdup_overflow)
	CASE("memset-aligned-overflow", c_memset_aligned_overflow)
	CASE("memset-calloc-overflow", c_memset_calloc_overflow)
	CASE("realloc-shrink-overflow", c_realloc_shrink_overflow)
	CASE("reuse-overflow", c_reuse_overflow)
	CASE("threads-ok", c_threads_ok)
	CASE("chk-memcpy", c_chk_memcpy)
	CASE("chk-memmove", c_chk_memmove)
	CASE("chk-mempcpy", c_chk_mempcpy)
	CASE("chk-memset", c_chk_memset)
	CASE("chk-strcpy", c_chk_strcpy)
	CASE("chk-stpcpy", c_chk_stpcpy)
	CASE("chk-strncpy", c_chk_strncpy)
	CASE("chk-stpncpy", c_chk_stpncpy)
	CASE("chk-strcat", c_chk_strcat)
	CASE("chk-strncat", c_chk_strncat)
	CASE("chk-sprintf", c_chk_sprintf)
	CASE("chk-snprintf", c_chk_snprintf)
	CASE("chk-vsprintf", c_chk_vsprintf)
	CASE("chk-vsnprintf", c_chk_vsnprintf)
	CASE("chk-printf", c_chk_printf)
	CASE("chk-fprintf", c_chk_fprintf)
	CASE("chk-vprintf", c_chk_vprintf)
	CASE("chk-vfprintf", c_chk_vfprintf)
	CASE("chk-dprintf", c_chk_dprintf)
	CASE("chk-asprintf", c_chk_asprintf)
	CASE("fort-strcpy", c_fort_strcpy)
	CASE("fort-memcpy", c_fort_memcpy)
	CASE("fort-sprintf", c_fort_sprintf)
	CASE("fort-const-strcpy", c_fort_const_strcpy)
	CASE("fort-const-memcpy", c_fort_const_memcpy)
	CASE("fort-const-sprintf", c_fort_const_sprintf)
	CASE("fort-printf", c_fort_printf)
	CASE("fort-ok", c_fort_ok)
	CASE("ok", c_ok)
	CASE("edge-quiet", c_edge_quiet)
	CASE("dlerror-stdio", c_dlerror_stdio)
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CASE|list\n", argv[0]);
		return 64;
	}
	if (argv[1][0] == 'l' && argv[1][1] == 'i' && argv[1][2] == 's' && argv[1][3] == 't' &&
	    !argv[1][4]) {
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *a = argv[1], *b = cases[i].name;
		while (*a && *a == *b)
			a++, b++;
		if (*a == 0 && *b == 0) {
			if (argc > 2 && argv[2][0] == 'c') /* catch-abort */
				signal(SIGABRT, on_abort);
			h_marker("start");
			cases[i].fn();
			h_marker("survived");
			return nwrong ? 1 : 0;
		}
	}
	fprintf(stderr, "unknown case %s\n", argv[1]);
	return 64;
}
