/* Two threads race to free the same block, ROUNDS times, a fresh block each
 * round.  Exactly one of the two frees of each round is the bad one.  Prints
 * "survived" at the end. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define ROUNDS 1000

static pthread_barrier_t start, done;
static void *volatile shared;

static void *racer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&start);
		h_free(shared);
		pthread_barrier_wait(&done);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	pthread_barrier_init(&start, NULL, 3);
	pthread_barrier_init(&done, NULL, 3);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, racer, NULL);
	h_marker("start");
	for (int i = 0; i < ROUNDS; i++) {
		char *p = h_malloc(40);
		memset(p, 'r', 40);
		shared = p;
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&done);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	h_marker("survived");
	return 0;
}
