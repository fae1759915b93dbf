#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>

static void *(*volatile p_malloc)(size_t) = malloc;
static void *(*volatile p_calloc)(size_t, size_t) = calloc;
static void *(*volatile p_realloc)(void *, size_t) = realloc;
static void (*volatile p_free)(void *) = free;

__attribute__((noinline)) void *h_malloc(size_t n) { return p_malloc(n); }
__attribute__((noinline)) void *h_calloc(size_t n, size_t size) { return p_calloc(n, size); }
__attribute__((noinline)) void *h_realloc(void *p, size_t n) { return p_realloc(p, n); }
__attribute__((noinline)) void h_free(void *p) { p_free(p); }

__attribute__((noinline)) void *h_launder(void *p)
{
	void *volatile v = p;
	return v;
}

__attribute__((noinline)) void h_marker(const char *what)
{
	printf("%s\n", what);
	fflush(stdout);
}
