/* A library for robust.c's dl case: it allocates in its constructor and in
 * lib_make, and frees its own internal block in its destructor.  The main
 * program takes the blocks (never pointers to code or to this library's
 * data) and frees them after dlclose. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *ctor_block; /* handed to the program */
static char *internal;   /* the library's own, freed by its destructor */

__attribute__((constructor)) static void lib_init(void) {
  ctor_block = malloc(100);
  strcpy(ctor_block, "allocated by the constructor");
  internal = strdup("internal state of the library");
}

__attribute__((destructor)) static void lib_fini(void) {
  if (strlen(internal) == 0) abort();
  free(internal);
  free(ctor_block); /* NULL when the program took it */
}

/* A malloc'd string "<prefix> <n> ..." built with string calls. */
char *lib_make(const char *prefix, int n) {
  char num[32];
  snprintf(num, sizeof num, " %d", n);
  char *s = malloc(strlen(prefix) + strlen(num) + 32);
  strcpy(s, prefix);
  strcat(s, num);
  strcat(s, " from the library");
  return s;
}

void *lib_take_ctor_block(void) {
  void *p = ctor_block;
  ctor_block = NULL;
  return p;
}
