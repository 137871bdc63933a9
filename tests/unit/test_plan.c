#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "plan.h"

/* Snapshot lists as the two listings would give them. */
struct side {
	struct zfs_obj o[16];
	const struct zfs_obj *p[16];
	char names[16][64];
	size_t n;
};

static void add(struct side *s, const char *ds, const char *snap, uint64_t guid)
{
	size_t i = s->n++;
	snprintf(s->names[i], sizeof(s->names[i]), "%s%s", ds, snap);
	memset(&s->o[i], 0, sizeof(s->o[i]));
	s->o[i].name = s->names[i];
	s->o[i].type = snap[0] == '#' ? ZFS_TYPE_BOOKMARK : ZFS_TYPE_SNAPSHOT;
	s->o[i].guid = guid;
	s->o[i].createtxg = 10 + i;
	s->p[i] = &s->o[i];
}

static struct plan run(struct side *src, struct side *bm, struct side *dst, bool by_name,
                       bool full_newest, bool force)
{
	struct plan_input in = {src->p, src->n,  bm ? bm->p : NULL, bm ? bm->n : 0, dst->p,
	                        dst->n, by_name, full_newest,       force};
	struct plan p;
	plan_make(&in, &p);
	return p;
}

static void test_first_sync(void **state)
{
	(void)state;
	struct side s = {0}, d = {0};
	add(&s, "tank/a", "@s1", 1);
	add(&s, "tank/a", "@s2", 2);
	add(&s, "tank/a", "@s3", 3);
	struct plan p = run(&s, NULL, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_SEND);
	assert_int_equal(p.n_steps, 2);
	assert_null(p.steps[0].from);
	assert_string_equal(p.steps[0].to, "tank/a@s1");
	assert_string_equal(p.steps[1].from, "tank/a@s1");
	assert_string_equal(p.steps[1].to, "tank/a@s3");
	assert_true(p.steps[1].intermediates);
	p = run(&s, NULL, &d, false, true, false);
	assert_int_equal(p.n_steps, 1);
	assert_string_equal(p.steps[0].to, "tank/a@s3");
	struct side one = {0};
	add(&one, "tank/a", "@only", 9);
	p = run(&one, NULL, &d, false, false, false);
	assert_int_equal(p.n_steps, 1);
	struct side none = {0};
	p = run(&none, NULL, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_NO_SNAPSHOT);
}

static void test_incremental_by_guid(void **state)
{
	(void)state;
	struct side s = {0}, d = {0};
	add(&s, "tank/a", "@s1", 1);
	add(&s, "tank/a", "@s2", 2);
	add(&s, "tank/a", "@s3", 3);
	add(&d, "b/h/tank/a", "@s1", 1);
	add(&d, "b/h/tank/a", "@s2", 2);
	struct plan p = run(&s, NULL, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_SEND);
	assert_int_equal(p.n_steps, 1);
	assert_string_equal(p.steps[0].from, "tank/a@s2");
	assert_string_equal(p.steps[0].to, "tank/a@s3");
	assert_true(p.steps[0].intermediates);
	assert_false(p.rollback);
	assert_string_equal(p.base_dst->name, "b/h/tank/a@s2");
	/* up to date */
	add(&d, "b/h/tank/a", "@s3", 3);
	p = run(&s, NULL, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_UP_TO_DATE);
}

/* Names lie, guids do not: a same-named snapshot of another history is no
 * base; a renamed copy of the same snapshot is. */
static void test_guid_not_name(void **state)
{
	(void)state;
	struct side s = {0}, d = {0};
	add(&s, "tank/a", "@s1", 1);
	add(&s, "tank/a", "@s2", 2);
	add(&d, "b/tank/a", "@s1", 99);
	struct plan p = run(&s, NULL, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_DIVERGED);
	assert_non_null(strstr(p.reason, "no common snapshot"));
	/* even --force does not replace a target of another history */
	p = run(&s, NULL, &d, false, false, true);
	assert_int_equal(p.kind, PLAN_DIVERGED);
	struct side r = {0};
	add(&r, "b/tank/a", "@renamed", 1);
	p = run(&s, NULL, &r, false, false, false);
	assert_int_equal(p.kind, PLAN_SEND);
	assert_string_equal(p.steps[0].from, "tank/a@s1");
	/* a restricted remote lists names only: names it is */
	struct side nd = {0};
	add(&nd, "b/tank/a", "@s1", 0);
	p = run(&s, NULL, &nd, true, false, false);
	assert_int_equal(p.kind, PLAN_SEND);
	assert_true(p.matched_by_name);
	assert_string_equal(p.steps[0].from, "tank/a@s1");
}

static void test_diverged(void **state)
{
	(void)state;
	struct side s = {0}, d = {0};
	add(&s, "tank/a", "@s1", 1);
	add(&s, "tank/a", "@s2", 2);
	add(&s, "tank/a", "@s3", 3);
	add(&d, "b/tank/a", "@s1", 1);
	add(&d, "b/tank/a", "@local", 50); /* made on the target after the base */
	struct plan p = run(&s, NULL, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_DIVERGED);
	assert_non_null(strstr(p.reason, "b/tank/a@s1"));
	assert_non_null(strstr(p.reason, "b/tank/a@local"));
	assert_non_null(strstr(p.reason, "--force"));
	p = run(&s, NULL, &d, false, false, true);
	assert_int_equal(p.kind, PLAN_SEND);
	assert_true(p.rollback);
	assert_string_equal(p.steps[0].from, "tank/a@s1");
	assert_string_equal(p.steps[0].to, "tank/a@s3");
}

/* The base was pruned on the source; its bookmark carries on. */
static void test_bookmark_base(void **state)
{
	(void)state;
	struct side s = {0}, b = {0}, d = {0};
	add(&s, "tank/a", "@s3", 3);
	add(&s, "tank/a", "@s4", 4);
	add(&b, "tank/a", "#zkeep-s2", 2);
	add(&d, "b/tank/a", "@s1", 1);
	add(&d, "b/tank/a", "@s2", 2);
	struct plan p = run(&s, &b, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_SEND);
	assert_int_equal(p.n_steps, 1);
	assert_string_equal(p.steps[0].from, "tank/a#zkeep-s2");
	assert_string_equal(p.steps[0].to, "tank/a@s4");
	assert_false(p.steps[0].intermediates); /* -i: a bookmark cannot -I */
	/* names mode cannot use bookmarks (no guids to match) */
	p = run(&s, &b, &d, true, false, false);
	assert_int_equal(p.kind, PLAN_DIVERGED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_sync),    cmocka_unit_test(test_incremental_by_guid),
	    cmocka_unit_test(test_guid_not_name), cmocka_unit_test(test_diverged),
	    cmocka_unit_test(test_bookmark_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
