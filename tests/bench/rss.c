/* rss: keep 1,000,000 live 32-byte blocks, touch each, print peak RSS in KiB
 * (getrusage ru_maxrss).  The pointer array is static, same for every config. */
#include <sys/resource.h>
#include "common.h"

#define NBLOCKS 1000000
static char *blocks[NBLOCKS];

int main(void) {
  for (long i = 0; i < NBLOCKS; i++) {
    blocks[i] = malloc(32);
    if (!blocks[i]) return 1;
    blocks[i][0] = (char)i;
    blocks[i][31] = (char)i;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%ld\n", ru.ru_maxrss);
  return 0;
}
