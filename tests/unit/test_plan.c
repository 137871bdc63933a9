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
	s->o[i].createtxg = guid; /* the tests' guids follow creation */
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
	assert_false(p.rollback);
	/* -i to the first snapshot after the bookmark (a bookmark cannot -I),
	 * then -I on, so no snapshot in between is skipped */
	assert_int_equal(p.n_steps, 2);
	assert_string_equal(p.steps[0].from, "tank/a#zkeep-s2");
	assert_string_equal(p.steps[0].to, "tank/a@s3");
	assert_false(p.steps[0].intermediates);
	assert_string_equal(p.steps[1].from, "tank/a@s3");
	assert_string_equal(p.steps[1].to, "tank/a@s4");
	assert_true(p.steps[1].intermediates);
	assert_string_equal(p.base_dst->name, "b/tank/a@s2");
	/* one snapshot after it: one -i step */
	struct side one = {0};
	add(&one, "tank/a", "@s4", 4);
	p = run(&one, &b, &d, false, false, false);
	assert_int_equal(p.n_steps, 1);
	assert_string_equal(p.steps[0].to, "tank/a@s4");
	/* names mode cannot use bookmarks (no guids to match) */
	p = run(&s, &b, &d, true, false, false);
	assert_int_equal(p.kind, PLAN_DIVERGED);
}

/* A daily both sides still have is older than the hourly base the source
 * pruned: the bookmark of that base is the base, not the daily (else the
 * target's copy of the pruned hourly would look like divergence). */
static void test_bookmark_beats_older_snapshot(void **state)
{
	(void)state;
	struct side s = {0}, b = {0}, d = {0};
	add(&s, "tank/a", "@daily1", 1);
	add(&s, "tank/a", "@hourly6", 6);
	add(&s, "tank/a", "@hourly7", 7);
	add(&b, "tank/a", "#zkeep_j_hourly5", 5);
	add(&d, "b/tank/a", "@daily1", 1);
	add(&d, "b/tank/a", "@hourly5", 5);
	struct plan p = run(&s, &b, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_SEND);
	assert_false(p.rollback);
	assert_string_equal(p.base_src->name, "tank/a#zkeep_j_hourly5");
	assert_string_equal(p.base_dst->name, "b/tank/a@hourly5");
	assert_string_equal(p.steps[0].from, "tank/a#zkeep_j_hourly5");
	assert_string_equal(p.steps[0].to, "tank/a@hourly6");
	assert_string_equal(p.steps[1].to, "tank/a@hourly7");
	/* a snapshot and a bookmark of the same base: the snapshot (-I) */
	add(&s, "tank/a", "@hourly8", 8);
	add(&d, "b/tank/a", "@hourly7", 7);
	add(&b, "tank/a", "#zkeep_j_hourly7", 7);
	p = run(&s, &b, &d, false, false, false);
	assert_int_equal(p.n_steps, 1);
	assert_string_equal(p.steps[0].from, "tank/a@hourly7");
	assert_true(p.steps[0].intermediates);
	/* the target newer than every bookmark and snapshot: still diverged */
	add(&d, "b/tank/a", "@local", 50);
	p = run(&s, &b, &d, false, false, false);
	assert_int_equal(p.kind, PLAN_DIVERGED);
	assert_non_null(strstr(p.reason, "b/tank/a@hourly7"));
}

static const char *after_names(const struct side *s, const struct side *bm, const struct side *d,
                               const struct plan *p, size_t *own, char *out, size_t len)
{
	/* a target without snapshots as replicate.c passes it: NULL */
	struct plan_input in = {
	    s->p,  s->n, bm ? bm->p : NULL, bm ? bm->n : 0, d->n ? d->p : NULL, d->n, false,
	    false, true};
	const struct zfs_obj *v[32];
	size_t n = plan_after(&in, p, v, own);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "",
		         strpbrk(v[i]->name, "@"));
	return out;
}

/* What target retention counts: the target's snapshots the plan leaves,
 * then the ones it sends, and no snapshot it does not send. */
static void test_after(void **state)
{
	(void)state;
	char buf[512];
	size_t own;
	struct side s = {0}, d = {0}, b = {0}, none = {0};
	add(&s, "tank/a", "@s1", 1);
	add(&s, "tank/a", "@s2", 2);
	add(&s, "tank/a", "@s3", 3);
	add(&s, "tank/a", "@s4", 4);
	/* first sync: all of them; with --full-newest, the newest only */
	struct plan p = run(&s, NULL, &none, false, false, false);
	assert_string_equal(after_names(&s, NULL, &none, &p, &own, buf, sizeof(buf)),
	                    "@s1 @s2 @s3 @s4");
	assert_int_equal(own, 0);
	p = run(&s, NULL, &none, false, true, false);
	assert_string_equal(after_names(&s, NULL, &none, &p, &own, buf, sizeof(buf)), "@s4");
	/* incremental: the target's, then what follows the base */
	add(&d, "b/tank/a", "@s1", 1);
	add(&d, "b/tank/a", "@s2", 2);
	p = run(&s, NULL, &d, false, false, false);
	assert_string_equal(after_names(&s, NULL, &d, &p, &own, buf, sizeof(buf)),
	                    "@s1 @s2 @s3 @s4");
	assert_int_equal(own, 2);
	/* from a bookmark: what follows it, not the source's older snapshots */
	struct side late = {0};
	add(&late, "tank/a", "@s0", 0);
	add(&late, "tank/a", "@s4", 4);
	add(&b, "tank/a", "#zkeep_j_s2", 2);
	p = run(&late, &b, &d, false, false, false);
	assert_string_equal(after_names(&late, &b, &d, &p, &own, buf, sizeof(buf)), "@s1 @s2 @s4");
	/* rolled back: what followed the base is gone */
	add(&d, "b/tank/a", "@local", 50);
	p = run(&s, NULL, &d, false, false, true);
	assert_true(p.rollback);
	assert_string_equal(after_names(&s, NULL, &d, &p, &own, buf, sizeof(buf)),
	                    "@s1 @s2 @s3 @s4");
	assert_int_equal(own, 2);
	/* up to date: the target as it is, nothing sent */
	struct side same = {0};
	add(&same, "b/tank/a", "@s1", 1);
	add(&same, "b/tank/a", "@s2", 2);
	add(&same, "b/tank/a", "@s3", 3);
	add(&same, "b/tank/a", "@s4", 4);
	p = run(&s, NULL, &same, false, false, false);
	assert_int_equal(p.kind, PLAN_UP_TO_DATE);
	assert_string_equal(after_names(&s, NULL, &same, &p, &own, buf, sizeof(buf)),
	                    "@s1 @s2 @s3 @s4");
	assert_int_equal(own, 4);
}

static void test_split(void **state)
{
	(void)state;
	struct side s = {0}, d = {0};
	add(&s, "tank/a", "@s1", 1);
	add(&s, "tank/a", "@s2", 2);
	add(&s, "tank/a", "@s3", 3);
	add(&s, "tank/a", "@s4", 4);
	struct plan p = run(&s, NULL, &d, false, false, false);
	struct plan_input in = {s.p, s.n, NULL, 0, d.p, d.n, false, false, false};
	struct plan_step out[16];
	/* the full send: as it is */
	assert_int_equal(plan_split(&in, &p.steps[0], out), 1);
	assert_null(out[0].from);
	assert_string_equal(out[0].to, "tank/a@s1");
	/* -I s1 s4: -i s1 s2, -i s2 s3, -i s3 s4 */
	assert_int_equal(plan_split(&in, &p.steps[1], out), 3);
	const char *want[][2] = {
	    {"tank/a@s1", "tank/a@s2"}, {"tank/a@s2", "tank/a@s3"}, {"tank/a@s3", "tank/a@s4"}};
	for (int i = 0; i < 3; i++) {
		assert_string_equal(out[i].from, want[i][0]);
		assert_string_equal(out[i].to, want[i][1]);
		assert_false(out[i].intermediates);
	}
	/* a step of another input is left as it is */
	struct plan_step other = {"tank/b@x", "tank/a@s4", true};
	assert_int_equal(plan_split(&in, &other, out), 1);
	assert_true(out[0].intermediates);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_sync),
	    cmocka_unit_test(test_incremental_by_guid),
	    cmocka_unit_test(test_guid_not_name),
	    cmocka_unit_test(test_diverged),
	    cmocka_unit_test(test_bookmark_base),
	    cmocka_unit_test(test_bookmark_beats_older_snapshot),
	    cmocka_unit_test(test_after),
	    cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
