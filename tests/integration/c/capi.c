/* Correct use of the whole malloc family, including glibc's corner cases.
 * Prints one line per check; the output must be identical with and
 * without the shim, and the shim must report nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static void *(*volatile v_aligned_alloc)(size_t, size_t) = aligned_alloc;
static void *(*volatile v_memalign)(size_t, size_t) = memalign;
static void *(*volatile v_valloc)(size_t) = valloc;
static void *(*volatile v_pvalloc)(size_t) = pvalloc;
static void *(*volatile v_reallocarray)(void *, size_t, size_t) = reallocarray;
static int (*volatile v_posix_memalign)(void **, size_t, size_t) = posix_memalign;
static char *(*volatile v_strdup)(const char *) = strdup;
static char *(*volatile v_strndup)(const char *, size_t) = strndup;
static size_t (*volatile v_usable)(void *) = malloc_usable_size;

static int failures;

static void check(const char *what, int ok)
{
	printf("%-44s %s\n", what, ok ? "ok" : "WRONG");
	if (!ok)
		failures++;
}

static int aligned(const void *p, size_t a) { return ((uintptr_t)p % a) == 0; }

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);

	/* calloc */
	unsigned char *c = h_calloc(100, 3);
	int zero = c != NULL;
	for (int i = 0; c && i < 300; i++)
		zero &= c[i] == 0;
	check("calloc(100,3) zeroed", zero);
	h_free(c);
	errno = 0;
	void *big = h_calloc(SIZE_MAX / 2, 4);
	check("calloc overflow -> NULL", big == NULL);
	check("calloc overflow -> ENOMEM", errno == ENOMEM);

	/* malloc/realloc */
	char *m = h_malloc(10);
	check("malloc(10) 16-byte aligned", m && aligned(m, 16));
	strcpy(m, "123456789");
	m = h_realloc(m, 100000);
	check("realloc grows, keeps contents", m && strcmp(m, "123456789") == 0);
	m = h_realloc(m, 5);
	check("realloc shrinks, keeps prefix", m && memcmp(m, "12345", 5) == 0);
	errno = 0;
	char *r0 = h_realloc(m, 0);
	check("realloc(p,0) -> NULL", r0 == NULL);
	char *rn = h_realloc(NULL, 33);
	check("realloc(NULL,33) allocates", rn != NULL);
	memset(rn, 1, 33);
	errno = 0;
	char *rbig = h_realloc(rn, SIZE_MAX - 4096);
	check("huge realloc -> NULL", rbig == NULL);
	check("huge realloc -> ENOMEM", errno == ENOMEM);
	check("failed realloc keeps block", rn[32] == 1);
	h_free(rn);
	h_free(NULL);
	check("free(NULL) is a no-op", 1);

	/* posix_memalign */
	void *pm = NULL;
	int rc = v_posix_memalign(&pm, 64, 100);
	check("posix_memalign(64,100) -> 0", rc == 0 && pm && aligned(pm, 64));
	h_free(pm);
	pm = (void *)1;
	rc = v_posix_memalign(&pm, 24, 100);
	check("posix_memalign(24,...) -> EINVAL", rc == EINVAL);
	check("posix_memalign EINVAL leaves *p alone", pm == (void *)1);
	rc = v_posix_memalign(&pm, 4, 100);
	check("posix_memalign(4,...) -> EINVAL", rc == EINVAL);
	rc = v_posix_memalign(&pm, 0, 100);
	check("posix_memalign(0,...) -> EINVAL", rc == EINVAL);
	rc = v_posix_memalign(&pm, 4096, 1);
	check("posix_memalign(4096,1) -> 0", rc == 0 && aligned(pm, 4096));
	h_free(pm);

	/* aligned_alloc, memalign, valloc, pvalloc */
	void *aa = v_aligned_alloc(256, 512);
	check("aligned_alloc(256,512)", aa && aligned(aa, 256));
	memset(aa, 2, 512);
	h_free(aa);
	void *ma = v_memalign(4096, 100);
	check("memalign(4096,100)", ma && aligned(ma, 4096));
	memset(ma, 3, 100);
	h_free(ma);
	void *ma2 = v_memalign(32, 7);
	check("memalign(32,7)", ma2 && aligned(ma2, 32));
	h_free(ma2);
	void *va = v_valloc(100);
	check("valloc(100) page aligned", va && aligned(va, (size_t)page));
	memset(va, 4, 100);
	h_free(va);
	void *pv = v_pvalloc(100);
	check("pvalloc(100) page aligned", pv && aligned(pv, (size_t)page));
	check("pvalloc usable >= page", pv && v_usable(pv) >= (size_t)page);
	memset(pv, 5, (size_t)page);
	h_free(pv);

	/* reallocarray */
	int *ra = v_reallocarray(NULL, 10, sizeof(int));
	check("reallocarray(NULL,10,4)", ra != NULL);
	for (int i = 0; i < 10; i++)
		ra[i] = i;
	ra = v_reallocarray(ra, 1000, sizeof(int));
	check("reallocarray grows, keeps contents", ra && ra[9] == 9);
	errno = 0;
	int *rovf = v_reallocarray(ra, SIZE_MAX / 2, 4);
	check("reallocarray overflow -> NULL", rovf == NULL);
	check("reallocarray overflow -> ENOMEM", errno == ENOMEM);
	h_free(ra);

	/* strdup, strndup */
	char *sd = v_strdup("duplicate me");
	check("strdup", sd && strcmp(sd, "duplicate me") == 0);
	h_free(sd);
	char *sn = v_strndup("duplicate me", 9);
	check("strndup(...,9)", sn && strcmp(sn, "duplicate") == 0);
	h_free(sn);
	char *sn2 = v_strndup("abc", 100);
	check("strndup(...,100)", sn2 && strcmp(sn2, "abc") == 0);
	h_free(sn2);

	/* malloc_usable_size */
	for (size_t n = 1; n < 5000; n = n * 3 + 1) {
		char *u = h_malloc(n);
		size_t us = v_usable(u);
		memset(u, 7, us);
		if (us < n)
			check("malloc_usable_size >= requested", 0);
		h_free(u);
	}
	check("malloc_usable_size >= requested", 1);
	check("malloc_usable_size(NULL) == 0", v_usable(NULL) == 0);

	/* many live blocks, freed in a different order */
	enum { N = 20000 };
	static void *live[N];
	for (int i = 0; i < N; i++) {
		live[i] = h_malloc((size_t)(i % 300) + 1);
		memset(live[i], i & 0xff, (size_t)(i % 300) + 1);
	}
	int intact = 1;
	for (int i = N - 1; i >= 0; i -= 2) {
		intact &= ((unsigned char *)live[i])[0] == (i & 0xff);
		h_free(live[i]);
	}
	for (int i = N - 2; i >= 0; i -= 2) {
		intact &= ((unsigned char *)live[i])[i % 300] == (i & 0xff);
		h_free(live[i]);
	}
	check("20000 live blocks intact", intact);

	printf("capi done, %d wrong\n", failures);
	return failures ? 1 : 0;
}
