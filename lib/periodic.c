/* A periodic job in its own thread: see periodic.h. */
#include "periodic.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"
#include "banned.h"

struct periodic {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC: a clock step does not move runs */
	pthread_t thread;
	int interval_s;
	void (*fn)(void *arg);
	void *arg;
	bool kicked, stopping, ended;
};

static struct timespec after_ms(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static void *run(void *arg)
{
	struct periodic *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stopping) {
		p->kicked = false;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->arg);
		pthread_mutex_lock(&p->mu);
		struct timespec next = after_ms(p->interval_s * 1000L);
		while (!p->stopping && !p->kicked &&
		       pthread_cond_timedwait(&p->cv, &p->mu, &next) != ETIMEDOUT)
			;
	}
	p->ended = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int periodic_start(struct periodic **out, int interval_s, void (*fn)(void *arg), void *arg,
                   struct zerr *e)
{
	struct periodic *p = xcalloc(1, sizeof(*p));
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&p->mu, NULL);
	p->interval_s = interval_s;
	p->fn = fn;
	p->arg = arg;
	int r = pthread_create(&p->thread, NULL, run, p);
	if (r != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return zerr_set(e, -r, "cannot start a thread: %s", strerror(r));
	}
	*out = p;
	return 0;
}

void periodic_kick(struct periodic *p)
{
	pthread_mutex_lock(&p->mu);
	p->kicked = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int periodic_stop(struct periodic *p, int wait_ms)
{
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	struct timespec until = after_ms(wait_ms);
	while (!p->ended && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
		;
	bool ended = p->ended;
	pthread_mutex_unlock(&p->mu);
	if (!ended)
		return -ETIMEDOUT;
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return 0;
}
