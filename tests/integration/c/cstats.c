/* The public counters (include/cgoguard.h): blocks, allocations and error
 * counts as the program sees them, under the shim.  Without the shim the
 * weak symbol is NULL and the program says so. */
#include <stdio.h>
#include <stdlib.h>

#include "../../../include/cgoguard.h"
#include "helpers.h"

int main(void)
{
	if (!cgoguard_get_stats) {
		printf("no shim\n");
		return 0;
	}
	struct cgoguard_stats before, after;
	if (cgoguard_get_stats(&before, sizeof before) != 0 || before.version != CGOGUARD_STATS_VERSION)
		return 1;
	void *kept[10];
	for (int i = 0; i < 10; i++)
		kept[i] = h_malloc(100);
	char *twice = h_malloc(8);
	h_free(twice);
	h_free(twice); /* neutralize mode: counted, skipped */
	cgoguard_get_stats(&after, sizeof after);
	printf("live blocks +%lld\n", (long long)(after.live_blocks - before.live_blocks));
	printf("live bytes +%lld\n", (long long)(after.live_bytes - before.live_bytes));
	printf("allocations +%llu\n", (unsigned long long)(after.allocations - before.allocations));
	printf("quarantined blocks >= 1: %s\n", after.quarantined_blocks >= 1 ? "yes" : "no");
	printf("double frees %llu\n", (unsigned long long)after.errors[CGOGUARD_DOUBLE_FREE]);
	printf("double frees counted %llu, suppressed %llu\n",
	       (unsigned long long)cgoguard_error_count(CGOGUARD_DOUBLE_FREE),
	       (unsigned long long)cgoguard_suppressed_count(CGOGUARD_DOUBLE_FREE));
	printf("bad size: %d\n", cgoguard_get_stats(&after, 4));
	for (int i = 0; i < 10; i++)
		h_free(kept[i]);
	return 0;
}
