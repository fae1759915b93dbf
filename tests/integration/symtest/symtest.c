// symtest.c: a double free inside a named static function, for the
// symbolizer test (tests/integration/symbolize.sh).  The test finds the
// lines by their SYMTEST markers; keep each marker on its statement's line.
#include <stdio.h>
#include <stdlib.h>

static void drop_twice(char *p) {
	free(p); /* SYMTEST:first-free */
	free(p); /* SYMTEST:second-free */
}

int main(void) {
	char *p = malloc(24); /* SYMTEST:malloc */
	puts("start");
	drop_twice(p); /* SYMTEST:call */
	puts("survived");
	return 0;
}
