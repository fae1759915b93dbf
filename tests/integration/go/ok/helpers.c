#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* Joins n copies of s into a fresh malloc'd string, growing with realloc. */
char *repeat_join(const char *s, int n)
{
	size_t len = strlen(s), cap = 8, used = 0;
	char *out = malloc(cap);
	for (int i = 0; i < n; i++) {
		while (used + len + 2 > cap) {
			cap *= 2;
			out = realloc(out, cap);
		}
		memcpy(out + used, s, len);
		used += len;
		out[used++] = i + 1 < n ? ',' : '\0';
	}
	if (n == 0)
		out[0] = '\0';
	return out;
}
