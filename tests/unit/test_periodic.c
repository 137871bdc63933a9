#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "periodic.h"

struct job {
	atomic_int runs;
	atomic_int block; /* 1: the next run waits until it is 0 again */
};

static void job_fn(void *arg)
{
	struct job *j = arg;
	atomic_fetch_add(&j->runs, 1);
	while (atomic_load(&j->block))
		usleep(1000);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void wait_runs(struct job *j, int n)
{
	for (int i = 0; i < 5000 && atomic_load(&j->runs) < n; i++)
		usleep(1000);
	assert_true(atomic_load(&j->runs) >= n);
}

static void test_runs_at_once_and_when_kicked(void **state)
{
	(void)state;
	struct job j = {0, 0};
	struct periodic *p;
	struct zerr e = ZERR_INIT;
	assert_int_equal(periodic_start(&p, 3600, job_fn, &j, &e), 0);
	wait_runs(&j, 1);
	periodic_kick(p);
	wait_runs(&j, 2);
	usleep(20000);
	assert_int_equal(atomic_load(&j.runs), 2); /* nothing more within the hour */
	double t0 = now_s();
	assert_int_equal(periodic_stop(p, 2000), 0); /* idle: at once */
	assert_true(now_s() - t0 < 0.5);
}

static void test_stop_does_not_wait_for_a_stuck_run(void **state)
{
	(void)state;
	static struct job j = {0, 1}; /* outlives the test: the run is still going */
	struct periodic *p;
	struct zerr e = ZERR_INIT;
	assert_int_equal(periodic_start(&p, 3600, job_fn, &j, &e), 0);
	wait_runs(&j, 1);
	double t0 = now_s();
	assert_int_equal(periodic_stop(p, 200), -ETIMEDOUT);
	double took = now_s() - t0;
	assert_true(took >= 0.19 && took < 1.0);
	/* unstuck, it ends and runs no more; the thread is then joined */
	atomic_store(&j.block, 0);
	assert_int_equal(periodic_stop(p, 2000), 0);
	assert_int_equal(atomic_load(&j.runs), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runs_at_once_and_when_kicked),
	    cmocka_unit_test(test_stop_does_not_wait_for_a_stuck_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
