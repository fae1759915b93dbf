/* Allocation calls routed through another translation unit and volatile
 * function pointers, so that gcc can neither see nor delete the bugs. */
#ifndef ITEST_HELPERS_H
#define ITEST_HELPERS_H
#include <stddef.h>

void *h_malloc(size_t n);
void *h_calloc(size_t n, size_t size);
void *h_realloc(void *p, size_t n);
void h_free(void *p);
void *h_launder(void *p); /* returns p, opaque to the optimiser */
void h_marker(const char *what); /* prints "what" and flushes stdout */

#endif
