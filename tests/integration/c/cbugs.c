/* Memory-error cases for the cgoguard integration suite, one per argv[1].
 * Every case prints "survived" at its end; under mode=abort the shim must
 * stop the process before that line. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

char global_data[64] = "a writable global array in .data";
char global_bss[64];

static int case_double(void)
{
	char *p = h_malloc(24);
	strcpy(p, "freed twice");
	h_free(p);
	h_free(p);
	return 0;
}

static int case_double_reuse(void)
{
	char *p = h_malloc(64);
	memset(p, 'x', 64);
	h_free(p);
	for (int i = 0; i < 10000; i++) {
		char *q = h_malloc(64);
		q[0] = (char)i;
		h_free(q);
	}
	h_free(p);
	return 0;
}

static int case_realloc_freed(void)
{
	char *p = h_malloc(40);
	memset(p, 'r', 40);
	h_free(p);
	char *q = h_realloc(p, 80);
	printf("realloc of freed block returned %s\n", q ? "a block" : "NULL");
	if (q) {
		memset(q, 'n', 80);
		h_free(q);
	}
	return 0;
}

static int case_stack(void)
{
	char buf[32];
	strcpy(buf, "on the stack");
	h_free(h_launder(buf));
	return buf[0] == 'o' ? 0 : 1;
}

static int case_literal(void)
{
	h_free(h_launder((void *)"a string literal"));
	return 0;
}

static int case_global(void)
{
	h_free(h_launder(global_data));
	return 0;
}

static int case_global_bss(void)
{
	h_free(h_launder(global_bss));
	return 0;
}

static int case_interior(void)
{
	char *p = h_malloc(32);
	memset(p, 'i', 32);
	h_free(p + 8);
	h_free(p); /* the correct free: must not be reported */
	return 0;
}

static int case_unknown(void)
{
	h_free(h_launder((void *)(uintptr_t)0x1234567000ULL));
	return 0;
}

static int case_realloc0(void)
{
	char *p = h_malloc(16);
	strcpy(p, "realloc to 0");
	char *q = h_realloc(p, 0);
	printf("realloc(p, 0) returned %s\n", q ? "non-NULL" : "NULL");
	fflush(stdout);
	h_free(p); /* p was freed by realloc(p, 0): a double free */
	return 0;
}

static int case_five_doubles(void)
{
	for (int i = 0; i < 5; i++) {
		char *p = h_malloc(48 + i);
		memset(p, 'f', 48 + i);
		h_free(p);
		h_free(p);
	}
	return 0;
}

static int case_pid_double(void)
{
	printf("pid=%d\n", (int)getpid());
	fflush(stdout);
	return case_double();
}

/* Parent and forked child each free a block twice; with log_path=...%p
 * each must get its own log file. */
static int case_fork_double(void)
{
	printf("parent=%d\n", (int)getpid());
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		printf("child=%d\n", (int)getpid());
		fflush(stdout);
		case_double();
		h_marker("child survived");
		_exit(0);
	}
	int st = 0;
	waitpid(c, &st, 0);
	printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return case_double();
}

/* The program closes its stderr before the bug; the report must still be
 * written (the shim keeps its own copy of fd 2). */
static int case_closed_stderr_double(void)
{
	close(2);
	return case_double();
}

/* Blocks from different allocation paths, each freed twice: five reports. */
static void *(*volatile v_aligned_alloc)(size_t, size_t) = aligned_alloc;
static char *(*volatile v_strdup)(const char *) = strdup;

static int case_double_variety(void)
{
	void *big = h_malloc(8u << 20); /* a large (page-run) block */
	memset(big, 1, 8u << 20);
	void *z = h_calloc(1000, 8);
	void *al = v_aligned_alloc(4096, 8192);
	char *sd = v_strdup("strdup'd and freed twice");
	char *gr = h_malloc(10);
	gr = h_realloc(gr, 100000); /* a block that moved through realloc */
	void *blocks[] = {big, z, al, sd, gr};
	for (int i = 0; i < 5; i++) {
		h_free(blocks[i]);
		h_free(blocks[i]);
	}
	return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

/* After a neutralized double free the heap must be intact: many blocks of
 * the same size, all live at once, never alias each other. */
static int case_double_then_distinct(void)
{
	enum { N = 50000 };
	char *p = h_malloc(24);
	h_free(p);
	h_free(p);
	static uintptr_t live[N];
	for (int i = 0; i < N; i++) {
		char *q = h_malloc(24);
		memset(q, 'd', 24);
		live[i] = (uintptr_t)q;
	}
	qsort(live, N, sizeof live[0], cmp_ptr);
	int dup = 0;
	for (int i = 1; i < N; i++)
		dup += live[i] == live[i - 1];
	printf("aliased blocks: %d\n", dup);
	for (int i = 0; i < N; i++)
		h_free((void *)live[i]);
	return dup ? 1 : 0;
}

/* A correct program: used for the option tests. */
/* Three 32-byte blocks from one function, never freed; one 5-byte strdup. */
static __attribute__((noinline)) char *make_item(int i)
{
	char *p = h_malloc(32);
	snprintf(p, 32, "item %d", i);
	return p;
}

static int case_leak(void)
{
	static char *kept;
	for (int i = 0; i < 3; i++)
		make_item(i);
	kept = strdup("kept");
	return kept[0] == 'k' ? 0 : 1;
}

/* A store into a string literal, not through libc: a SIGSEGV, explained. */
static int case_literal_store(void)
{
	char *volatile lit = "a literal";
	lit[0] = 'A';
	return 0;
}

/* Direct accesses, no libc call in between: only guard_sample sees them
 * (run with guard_sample=1, every small block sampled). */
__attribute__((noinline)) static int case_direct_store_past_end(void)
{
	volatile char *p = h_malloc(32); /* 32: its end is the guard page */
	p[0] = 'x';
	p[32] = 'y';
	h_free((void *)p);
	return 0;
}

__attribute__((noinline)) static int case_direct_store_slack(void)
{
	volatile char *p = h_malloc(30); /* 2 bytes before the guard page */
	p[30] = 'y';
	h_free((void *)p);
	return 0;
}

__attribute__((noinline)) static int case_direct_read_freed(void)
{
	volatile char *p = h_malloc(40);
	p[0] = 'x';
	h_free((void *)p);
	printf("read after free: %d\n", p[0]);
	return 0;
}

__attribute__((noinline)) static int case_direct_read_far(void)
{
	volatile char *p = h_malloc(64);
	printf("read far past the end: %d\n", p[64 + 200]);
	h_free((void *)p);
	return 0;
}

__attribute__((noinline)) static int case_direct_underflow(void)
{
	void *below = h_malloc(16); /* (so that p's slot is not the pool's first) */
	volatile char *p = h_malloc(64);
	/* 4033 bytes before it: the guard page of the slot below, nearer to p
	 * than to the block of that slot */
	printf("read before the start: %d\n", p[-4033]);
	h_free((void *)p);
	h_free(below);
	return 0;
}

/* strlen of a freed block (through a pointer the compiler cannot see):
 * with guard_sample=1 its page is closed, and the check must not read it. */
static size_t (*volatile p_strlen)(const char *) = strlen;
__attribute__((noinline)) static int case_strlen_freed_sampled(void)
{
	char *p = h_malloc(24);
	strcpy(p, "freed");
	h_free(p);
	printf("strlen of the freed block: %zu\n", p_strlen(p));
	return 0;
}

/* Eight threads overflow their own blocks at once (neutralize: each is
 * let through, none kills the process). */
static void *overflow_own(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++) {
		volatile char *p = h_malloc(32);
		p[32] = 'y';
		h_free((void *)p);
	}
	return NULL;
}

static int case_direct_threads(void)
{
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, overflow_own, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* A store through NULL: a fault that is not about memory cgoguard tracks. */
static int case_null_store(void)
{
	int *volatile p = NULL;
	*p = 1;
	return 0;
}

static void on_segv(int sig)
{
	(void)sig;
	static const char msg[] = "program handler ran\n";
	ssize_t w = write(1, msg, sizeof msg - 1);
	(void)w;
	_exit(7);
}

/* The program's own SIGSEGV handler (sigaction) still runs, after the report. */
static int case_literal_store_handled(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	return case_literal_store();
}

/* SIGSEGV sent, not raised by a fault: dies by it, as without the shim. */
static int case_raise_segv(void)
{
	raise(SIGSEGV);
	return 0;
}

/* A pointer read out of a freed block (its 0xf5 fill) and dereferenced: a
 * general-protection fault with no address, explained by the fill. */
struct node { struct node *next; int v; };

static int case_poison_deref(void)
{
	struct node **box = h_malloc(sizeof *box);
	*box = h_malloc(sizeof **box);
	(*box)->v = 1;
	h_free(box);
	struct node *volatile n = *box;
	return n->v;
}

/* A read one byte past a 1 MiB block whose next page is made inaccessible:
 * a SIGSEGV just past a live block, explained with the block. */
static int case_read_past_end(void)
{
	size_t n = 1u << 20;
	char *p = aligned_alloc(4096, n);
	memset(p, 'x', n);
	if (mprotect(p + n, 4096, PROT_NONE) != 0)
		return 3;
	volatile char c = p[n];
	return c;
}

static int case_ok(void)
{
	unsigned long sum = 0;
	for (int i = 0; i < 1000; i++) {
		char *p = h_malloc(16 + i);
		memset(p, i & 0xff, 16 + i);
		p = h_realloc(p, 32 + 2 * i);
		sum += (unsigned char)p[15];
		h_free(p);
	}
	printf("ok sum=%lu\n", sum);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} cases[] = {
		{"double", case_double},
		{"double-reuse", case_double_reuse},
		{"realloc-freed", case_realloc_freed},
		{"stack", case_stack},
		{"literal", case_literal},
		{"global", case_global},
		{"global-bss", case_global_bss},
		{"interior", case_interior},
		{"unknown", case_unknown},
		{"realloc0", case_realloc0},
		{"five-doubles", case_five_doubles},
		{"pid-double", case_pid_double},
		{"fork-double", case_fork_double},
		{"closed-stderr-double", case_closed_stderr_double},
		{"double-variety", case_double_variety},
		{"double-then-distinct", case_double_then_distinct},
		{"ok", case_ok},
		{"leak", case_leak},
		{"literal-store", case_literal_store},
		{"null-store", case_null_store},
		{"literal-store-handled", case_literal_store_handled},
		{"raise-segv", case_raise_segv},
		{"poison-deref", case_poison_deref},
		{"read-past-end", case_read_past_end},
		{"direct-store-past-end", case_direct_store_past_end},
		{"direct-store-slack", case_direct_store_slack},
		{"direct-read-freed", case_direct_read_freed},
		{"direct-read-far", case_direct_read_far},
		{"direct-underflow", case_direct_underflow},
		{"direct-threads", case_direct_threads},
		{"strlen-freed-sampled", case_strlen_freed_sampled},
	};
	if (argc < 2) {
		fprintf(stderr, "usage: %s CASE\n", argv[0]);
		return 64;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (strcmp(argv[1], cases[i].name) == 0) {
			h_marker("start");
			int rc = cases[i].fn();
			h_marker("survived");
			return rc;
		}
	}
	fprintf(stderr, "unknown case %s\n", argv[1]);
	return 64;
}
