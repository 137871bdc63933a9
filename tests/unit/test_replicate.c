/*
 * The replication wing's pure decisions, from listings captured on real
 * OpenZFS 2.1 and 2.3 (tests/fixtures): the plan and its divergence
 * refusal per dataset, a restricted remote matched by name, the skip by
 * record, which side of a failed transfer to blame, what zfs's error
 * text means, and which resume tokens are resumed.
 */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "marks.h"
#include "plan.h"
#include "policy.h"
#include "token.h"
#include "transfer.h"
#include "zfs.h"

static const char *const flavours[] = {"2.1", "2.3"};

/* A listing of fixture rel, with every "fixt/" renamed to "back/fixt/"
 * when as_target, lines naming a snapshot in drop left out, and extra
 * appended. */
static void listing(const char *rel, bool as_target, const char *const *drop, const char *extra,
                    struct zfs_list *l)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct zerr e = ZERR_INIT;
	if (rel)
		fixture_read(rel, &in);
	for (const char *p = in.s; *p;) {
		size_t n = strcspn(p, "\n");
		bool skip = false;
		for (size_t k = 0; drop && drop[k]; k++)
			skip |= !strncmp(p, drop[k], strlen(drop[k])) && p[strlen(drop[k])] == '\t';
		if (!skip) {
			if (as_target)
				buf_adds(&out, "back/");
			buf_add(&out, p, n);
			buf_addch(&out, '\n');
		}
		p += n + (p[n] == '\n');
	}
	if (extra)
		buf_adds(&out, extra);
	assert_int_equal(zfs_list_parse(l, out.s, out.len, 0, &e), 0);
	buf_free(&in);
	buf_free(&out);
}

/* The plan for fixt/data into back/fixt/data. */
static struct plan plan_for(const struct zfs_list *sl, const struct zfs_list *dl, bool by_name,
                            bool force)
{
	struct policy_index si = {0}, di = {0};
	policy_index_build(&si, sl, NULL);
	policy_index_build(&di, dl, NULL);
	const struct policy_dataset *sd = policy_index_find(&si, "fixt/data");
	const struct policy_dataset *dd = policy_index_find(&di, "back/fixt/data");
	assert_non_null(sd);
	struct plan_input in = {
	    sd->snaps.v,          sd->snaps.n, NULL,  0,    dd ? dd->snaps.v : NULL,
	    dd ? dd->snaps.n : 0, by_name,     false, force};
	struct plan p;
	plan_make(&in, &p);
	policy_index_free(&si);
	policy_index_free(&di);
	return p;
}

static void test_plans_from_listings(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "%s/zfs-list.out", flavours[f]);
		struct zfs_list sl = {0}, same = {0}, behind = {0}, none = {0};
		listing(rel, false, NULL, NULL, &sl);
		/* the target has everything: up to date */
		listing(rel, true, NULL, NULL, &same);
		struct plan p = plan_for(&sl, &same, false, false);
		assert_int_equal(p.kind, PLAN_UP_TO_DATE);
		assert_false(p.matched_by_name);
		/* the target lacks the newest two: -I from the hourly */
		const char *drop[] = {"fixt/data@autosnap_2026-01-22_00:15:00_daily",
		                      "fixt/data@manual", NULL};
		listing(rel, true, drop, NULL, &behind);
		p = plan_for(&sl, &behind, false, false);
		assert_int_equal(p.kind, PLAN_SEND);
		assert_int_equal(p.n_steps, 1);
		assert_string_equal(p.steps[0].from,
		                    "fixt/data@autosnap_2026-01-21_14:00:00_hourly");
		assert_string_equal(p.steps[0].to, "fixt/data@manual");
		assert_true(p.steps[0].intermediates);
		assert_false(p.rollback);
		/* no target dataset: a full send of the oldest, then -I */
		listing(NULL, false, NULL, "", &none);
		p = plan_for(&sl, &none, false, false);
		assert_int_equal(p.kind, PLAN_SEND);
		assert_null(p.steps[0].from);
		assert_string_equal(p.steps[0].to, "fixt/data@autosnap_2026-01-21_14:00:00_hourly");
		zfs_list_free(&sl);
		zfs_list_free(&same);
		zfs_list_free(&behind);
		zfs_list_free(&none);
	}
}

static void test_divergence_from_listings(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "%s/zfs-list.out", flavours[f]);
		struct zfs_list sl = {0}, dl = {0}, alien = {0};
		listing(rel, false, NULL, NULL, &sl);
		/* the target made a snapshot of its own after the daily */
		const char *drop[] = {"fixt/data@manual", NULL};
		listing(rel, true, drop,
		        "back/fixt/data@local\tsnapshot\t42\t30\t1795679170\t0\t-\t4308992\n", &dl);
		struct plan p = plan_for(&sl, &dl, false, false);
		assert_int_equal(p.kind, PLAN_DIVERGED);
		assert_non_null(strstr(p.reason, "back/fixt/data@local"));
		/* --force: rolled back to the daily, then -I to the newest */
		p = plan_for(&sl, &dl, false, true);
		assert_int_equal(p.kind, PLAN_SEND);
		assert_true(p.rollback);
		assert_string_equal(p.steps[0].from,
		                    "fixt/data@autosnap_2026-01-22_00:15:00_daily");
		/* a target with snapshots but none in common: refused even with force */
		listing(NULL, false, NULL,
		        "back/fixt/data\tfilesystem\t7\t1\t1795679144\t0\t0\t0\n"
		        "back/fixt/data@other\tsnapshot\t43\t2\t1795679144\t0\t-\t0\n",
		        &alien);
		p = plan_for(&sl, &alien, false, true);
		assert_int_equal(p.kind, PLAN_DIVERGED);
		zfs_list_free(&sl);
		zfs_list_free(&dl);
		zfs_list_free(&alien);
	}
}

/* A restricted remote answers the seed's name-only listing: matched by
 * name. */
static void test_restricted_by_name(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		char rel[64], names[64];
		snprintf(rel, sizeof(rel), "%s/zfs-list.out", flavours[f]);
		snprintf(names, sizeof(names), "%s/seed-snapshot-list.out", flavours[f]);
		struct zfs_list sl = {0}, dl = {0};
		struct buf in = BUF_INIT, out = BUF_INIT;
		struct zerr e = ZERR_INIT;
		listing(rel, false, NULL, NULL, &sl);
		fixture_read(names, &in);
		/* the offsite has all but the newest, under back/ */
		for (const char *p = in.s; *p;) {
			size_t n = strcspn(p, "\n");
			if (strncmp(p, "fixt/data@manual", n)) {
				buf_adds(&out, "back/");
				buf_add(&out, p, n);
				buf_addch(&out, '\n');
			}
			p += n + (p[n] == '\n');
		}
		assert_int_equal(zfs_names_parse(&dl, out.s, out.len, &e), 0);
		struct plan p = plan_for(&sl, &dl, true, false);
		assert_int_equal(p.kind, PLAN_SEND);
		assert_true(p.matched_by_name);
		assert_string_equal(p.steps[0].from,
		                    "fixt/data@autosnap_2026-01-22_00:15:00_daily");
		assert_string_equal(p.steps[0].to, "fixt/data@manual");
		buf_free(&in);
		buf_free(&out);
		zfs_list_free(&sl);
		zfs_list_free(&dl);
	}
}

/* The 2.3 listing with snapshots_changed: its two filesystems, source
 * fixt/data and a target. */
static void changed_listing(struct zfs_list *l, const struct zfs_obj **src,
                            const struct zfs_obj **dst)
{
	struct buf b = BUF_INIT;
	struct zerr e = ZERR_INIT;
	fixture_read("2.3/zfs-list-changed.out", &b);
	assert_int_equal(zfs_list_parse(l, b.s, b.len, ZFS_COL_SNAPSHOTS_CHANGED, &e), 0);
	buf_free(&b);
	*src = &l->v[1];
	*dst = &l->v[2];
	assert_string_equal((*src)->name, "fixt/data");
	assert_int_not_equal((*src)->snapshots_changed, ZFS_NONE);
	assert_int_not_equal((*dst)->snapshots_changed, ZFS_NONE);
}

/* The skip by record. */
static void test_unchanged_by_record(void **state)
{
	(void)state;
	struct zfs_list l = {0};
	const struct zfs_obj *src, *dst;
	changed_listing(&l, &src, &dst);
	time_t now = 1795700000;
	struct plan_record rec = {
	    "fixt/data", true,      true,      src->snapshots_changed, dst->snapshots_changed,
	    src->guid,   dst->guid, now - 3600};
	assert_true(plan_unchanged(&rec, src, dst, now));
	struct plan_record r2 = rec;
	r2.src_changed--; /* a snapshot came or went on the source */
	assert_false(plan_unchanged(&r2, src, dst, now));
	r2 = rec;
	r2.dst_changed++;
	assert_false(plan_unchanged(&r2, src, dst, now));
	r2 = rec;
	r2.src_guid++; /* another dataset under the same name (a rename swap) */
	assert_false(plan_unchanged(&r2, src, dst, now));
	r2 = rec;
	r2.source = "fixt/data/child"; /* the layout maps another onto the target */
	assert_false(plan_unchanged(&r2, src, dst, now));
	r2 = rec;
	r2.ok = false;
	assert_false(plan_unchanged(&r2, src, dst, now));
	r2 = rec;
	r2.protected = false; /* unprotected: only for a day after the check */
	assert_true(plan_unchanged(&r2, src, dst, now));
	r2.checked = now - 86400;
	assert_false(plan_unchanged(&r2, src, dst, now));
	struct zfs_obj partial = *dst;
	partial.resume_token = "1-abc";
	assert_false(plan_unchanged(&rec, src, &partial, now));
	struct zfs_obj old = *src; /* OpenZFS < 2.2 */
	old.snapshots_changed = ZFS_NONE;
	assert_false(plan_unchanged(&rec, &old, dst, now));
	assert_false(plan_unchanged(NULL, src, dst, now));
	zfs_list_free(&l);
}

/* The target's snapshots taken from the record: only while its
 * snapshots_changed says nothing moved since that run ended. */
static void test_trust_target(void **state)
{
	(void)state;
	struct zfs_list l = {0};
	const struct zfs_obj *src, *dst;
	changed_listing(&l, &src, &dst);
	struct plan_record rec = {.source = "fixt/data",
	                          .ok = true,
	                          .newest = "fixt/data@autosnap_2026-12-07_10:00:00_hourly",
	                          .newest_guid = 42,
	                          .end = (time_t)dst->snapshots_changed};
	assert_true(plan_trust_target(&rec, src, dst)); /* the run's own receive, same second */
	struct plan_record r2 = rec;
	r2.end--; /* the target's snapshots moved after the run */
	assert_false(plan_trust_target(&r2, src, dst));
	r2 = rec;
	r2.ok = false; /* the last run failed it */
	assert_false(plan_trust_target(&r2, src, dst));
	r2 = rec;
	r2.newest = "fixt/data#autosnap_2026-12-07_10:00:00_hourly"; /* a bookmark */
	assert_false(plan_trust_target(&r2, src, dst));
	r2.newest = "fixt/database@s"; /* another dataset's */
	assert_false(plan_trust_target(&r2, src, dst));
	r2.newest = "fixt/data@";
	assert_false(plan_trust_target(&r2, src, dst));
	r2 = rec;
	r2.newest_guid = 0;
	assert_false(plan_trust_target(&r2, src, dst));
	r2 = rec;
	r2.source = "fixt/data/child"; /* the layout maps another onto the target */
	assert_false(plan_trust_target(&r2, src, dst));
	struct zfs_obj partial = *dst;
	partial.resume_token = "1-abc";
	assert_false(plan_trust_target(&rec, src, &partial));
	struct zfs_obj old = *dst; /* OpenZFS < 2.2 */
	old.snapshots_changed = ZFS_NONE;
	assert_false(plan_trust_target(&rec, src, &old));
	assert_false(plan_trust_target(&rec, src, NULL));
	assert_false(plan_trust_target(NULL, src, dst));
	zfs_list_free(&l);
}

static void test_blame(void **state)
{
	(void)state;
	const struct proc_status ok = {0, 0, false}, fail = {1, 0, false}, ssh = {255, 0, false},
	                         piped = {128 + SIGPIPE, SIGPIPE, false},
	                         killed = {128 + SIGTERM, SIGTERM, false};
	assert_int_equal(transfer_blame(&ok, &ok, 0), BLAME_NONE);
	/* the relay refused the first record: nothing was received */
	assert_int_equal(transfer_blame(&killed, &fail, -EBADMSG), BLAME_STREAM);
	assert_int_equal(transfer_blame(&ok, &ok, -ENODATA), BLAME_STREAM);
	/* the stream ended inside its first record with the sender failing */
	assert_int_equal(transfer_blame(&fail, &fail, -ENODATA), BLAME_SENDER);
	/* the receiver refused ("destination exists"): the sender's broken
	 * pipe is its echo */
	assert_int_equal(transfer_blame(&piped, &fail, -EPIPE), BLAME_RECEIVER);
	assert_int_equal(transfer_blame(&ssh, &fail, -EPIPE), BLAME_RECEIVER);
	assert_int_equal(transfer_blame(&fail, &fail, -EPIPE), BLAME_RECEIVER);
	/* the sender failed on its own ("cannot resume send"): its error first */
	assert_int_equal(transfer_blame(&fail, &fail, 0), BLAME_SENDER);
	assert_int_equal(transfer_blame(&fail, &ok, 0), BLAME_SENDER);
	/* killed after the relay gave up (a stall): the receiver's side */
	assert_int_equal(transfer_blame(&killed, &fail, -ETIMEDOUT), BLAME_RECEIVER);
	assert_int_equal(transfer_blame(&killed, &ok, -ETIMEDOUT), BLAME_SENDER);
	assert_int_equal(transfer_blame(&ok, &ok, -ETIMEDOUT), BLAME_RELAY);
}

static void test_zfs_error_kinds(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		enum zfs_err kind;
	} cases[] = {
	    {"cannot open 'slowpool/x': dataset does not exist\n", ZFS_ERR_NOENT},
	    {"Warning: Permanently added 'h' (ED25519) to the list of known hosts.\r\n"
	     "cannot resume send: 'fastpool/a@s1' used in the initial send no longer exists\n",
	     ZFS_ERR_RESUME_REFUSED},
	    {"cannot hold snapshot 'tank/a@s1': tag already exists on this dataset\n",
	     ZFS_ERR_EXISTS},
	    {"cannot create bookmark 'tank/a#b': bookmark exists\n", ZFS_ERR_EXISTS},
	    {"cannot destroy bookmark: bookmark 'tank/a#b' does not exist.\n", ZFS_ERR_NOENT},
	    {"cannot release hold from snapshot 'tank/a@s1': no such tag on this dataset\n",
	     ZFS_ERR_NO_SUCH_TAG},
	    {"bad property list: invalid property 'snapshots_changed'\n", ZFS_ERR_BAD_PROPERTY},
	    {"cannot receive new filesystem stream: destination contains partially-complete "
	     "state from \"zfs receive -s\".\n",
	     ZFS_ERR_PARTIAL_RECEIVE},
	    /* as OpenZFS 2.1 to 2.3 print it, over two lines */
	    {"cannot receive incremental stream: most recent snapshot of bk/h/data does not\n"
	     "match incremental source\n",
	     ZFS_ERR_BASE_MISMATCH},
	    {"cannot receive incremental stream: destination bk/h/data has been modified\n"
	     "since most recent snapshot\n",
	     ZFS_ERR_MODIFIED},
	    {"cannot receive: failed to read from stream\n", ZFS_ERR_OTHER},
	    {"", ZFS_ERR_OTHER},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(zfs_err_kind(cases[i].text), cases[i].kind);
	assert_int_equal(zfs_err_kind(NULL), ZFS_ERR_OTHER);
}

static void test_err_line(void **state)
{
	(void)state;
	char line[64];
	host_err_line("Warning: new host key\ncannot resume send: gone\nmore\n", line,
	              sizeof(line));
	assert_string_equal(line, "cannot resume send: gone");
	host_err_line("cannot open 'x': dataset does not exist \r\n", line, sizeof(line));
	assert_string_equal(line, "cannot open 'x': dataset does not exist");
	host_err_line("Warning: only this\n", line, sizeof(line));
	assert_string_equal(line, "Warning: only this");
	host_err_line("", line, sizeof(line));
	assert_string_equal(line, "");
	host_err_line("a very long line that does not fit in the sixty-four bytes given here, cut",
	              line, sizeof(line));
	assert_int_equal(strlen(line), sizeof(line) - 1);
}

/* Resume: the captured tokens of both flavours, for the job they belong
 * to and for one they do not. */
static void test_resume_decisions(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "%s/resume-token.out", flavours[f]);
		struct buf b = BUF_INIT;
		fixture_read(rel, &b);
		size_t n = 0;
		for (char *l = b.s; l && *l; n++) {
			char *nl = strchr(l, '\n');
			if (nl)
				*nl = '\0';
			char toname[128], from[32], raw[4], tok[4096];
			unsigned long long guid;
			assert_int_equal(
			    sscanf(l, "%127s %llu %31s %3s %4095s", toname, &guid, from, raw, tok),
			    5);
			struct token t;
			struct zerr e = ZERR_INIT;
			assert_int_equal(token_decode(tok, &t, &e), 0);
			char ds[128];
			snprintf(ds, sizeof(ds), "%.*s", (int)strcspn(toname, "@"), toname);
			struct zfs_obj snap = {.name = toname,
			                       .type = ZFS_TYPE_SNAPSHOT,
			                       .guid = guid,
			                       .createtxg = 2};
			const struct zfs_obj *snaps[] = {&snap};
			char bname[160];
			snprintf(bname, sizeof(bname), "%s@base", ds);
			struct zfs_obj base = {
			    .name = bname, .type = ZFS_TYPE_SNAPSHOT, .createtxg = 1};
			const struct zfs_obj *withbase[] = {&base, &snap};
			bool incremental = strcmp(from, "-") != 0;
			if (incremental)
				base.guid = strtoull(from, NULL, 10);
			struct token_expect x = {.dataset = ds,
			                         .snaps = incremental ? withbase : snaps,
			                         .n_snaps = incremental ? 2 : 1,
			                         .target_newest_guid = incremental ? base.guid : 0,
			                         .raw = raw[0] == '1'};
			if (token_check(&t, &x, &e) < 0)
				fail_msg("%s: %s", toname, e.msg);
			/* another dataset's job does not resume it */
			x.dataset = "fixt/other";
			assert_int_not_equal(token_check(&t, &x, &e), 0);
			/* a raw job does not resume a plaintext token */
			/* rawok only for a raw job, and a raw job only with it */
			x.dataset = ds;
			x.raw = raw[0] != '1';
			assert_int_not_equal(token_check(&t, &x, &e), 0);
			l = nl ? nl + 1 : NULL;
		}
		assert_int_equal(n, 3);
		buf_free(&b);
	}
}

/* The job's bookmark of a snapshot is found by guid and the job's
 * prefix, not another job's. */
static void test_marks_bookmark(void **state)
{
	(void)state;
	struct marks m;
	struct host h;
	host_init_local(&h);
	marks_init(&m, "off", true, true, &h, 1000);
	assert_string_equal(m.tag.s, "zkeep:off");
	assert_string_equal(m.bmname.s, "zkeep_off_");
	struct zfs_obj snap = {.name = "t/a@s2", .type = ZFS_TYPE_SNAPSHOT, .guid = 7};
	struct zfs_obj mine = {.name = "t/a#zkeep_off_s2", .type = ZFS_TYPE_BOOKMARK, .guid = 7};
	struct zfs_obj other = {
	    .name = "t/a#zkeep_off-eu_s2", .type = ZFS_TYPE_BOOKMARK, .guid = 7};
	const struct zfs_obj *both[] = {&other, &mine}, *only_other[] = {&other};
	assert_true(marks_has_bookmark(&m, &snap, both, 2));
	assert_false(marks_has_bookmark(&m, &snap, only_other, 1));
	assert_false(marks_has_bookmark(&m, NULL, both, 2));
	marks_free(&m);
	host_free(&h);
}

/* transfer_wire over its whole table: each side unknown, OpenZFS 0.8
 * (send -c -e, no -L: zfs.h) or 2.1; the target pool's features not
 * known, all enabled, with encrypted datasets, or without zstd_compress,
 * large_blocks or embedded_data; raw or plain; restricted or not; the
 * sends starting with a full one or not; -L sent into the target before
 * or not. The rule as the table states it: a raw or restricted job, or a
 * pool not known, sends no wire flags; otherwise each flag both sides
 * and the pool have (-c needs lz4 and zstd), -e not into a pool with
 * encrypted datasets, -L only into a target made with it (full, or -L
 * before: never a switch, openzfs#17866); and a target that had -L fails
 * where -L cannot be. */
static void test_wire_flags(void **state)
{
	(void)state;
	static const char *const versions[] = {"zfs-0.8.6-1\nzfs-kmod-0.8.6-1\n",
	                                       "zfs-2.1.11-1\nzfs-kmod-2.1.11-1\n"};
	struct zfs_caps caps[2];
	struct zerr e = ZERR_INIT;
	for (int i = 0; i < 2; i++)
		assert_int_equal(zfs_version_parse(&caps[i], versions[i], strlen(versions[i]), &e),
		                 0);
	const struct zfs_caps *sides[] = {NULL, &caps[0], &caps[1]};
	static const struct zpool_features pools[] = {
	    {false, true, true, true, true},  /* all enabled */
	    {true, true, true, true, true},   /* encrypted datasets */
	    {false, true, false, true, true}, /* no zstd_compress */
	    {false, true, true, true, false}, /* no large_blocks */
	    {false, true, true, false, true}, /* no embedded_data */
	};
	const size_t n_pools = sizeof(pools) / sizeof(pools[0]);
	const unsigned C = TRANSFER_WIRE_COMPRESSED, L = TRANSFER_WIRE_LARGE,
	               E = TRANSFER_WIRE_EMBEDDED;
	size_t rows = 0, refused = 0;
	for (int s = 0; s < 3; s++)
		for (int d = 0; d < 3; d++)
			for (size_t k = 0; k <= n_pools; k++)
				for (unsigned bits = 0; bits < 16; bits++) {
					const struct zpool_features *pf = k ? &pools[k - 1] : NULL;
					struct transfer_wire_in in = {
					    .src = sides[s],
					    .dst = sides[d],
					    .src_label = "client",
					    .dst_label = "local",
					    .src_why = s ? NULL : "ssh said no",
					    .dst_pool = pf,
					    .pool_why = pf ? NULL : "zpool said no",
					    .raw = bits & 1,
					    .restricted = bits & 2,
					    .full = bits & 4,
					    .large_before = bits & 8};
					unsigned want = 0;
					if (!in.raw && !in.restricted && s && d && pf) {
						/* 0.8 and 2.1 both have -c and -e */
						want |= pf->lz4 && pf->zstd ? C : 0;
						want |=
						    pf->embedded && !pf->encryption_active ? E : 0;
						want |= s == 2 && d == 2 && pf->large &&
						                (in.full || in.large_before)
						            ? L
						            : 0;
					}
					bool fail = !in.raw && in.large_before && !(want & L);
					unsigned got = 99;
					e = (struct zerr)ZERR_INIT;
					int r = transfer_wire(&in, "zdst/h/zsrc/a", &got, &e);
					assert_int_equal(r, fail ? -EOPNOTSUPP : 0);
					if (!fail) {
						assert_int_equal(got, want);
						assert_string_equal(e.msg, "");
					} else {
						/* names the dataset, why and what to do */
						assert_non_null(strstr(e.msg, "'zdst/h/zsrc/a'"));
						assert_non_null(strstr(e.msg, "-L"));
						assert_non_null(
						    strstr(e.msg, "fresh full receive"));
						refused++;
					}
					rows++;
				}
	assert_int_equal(rows, 3 * 3 * 6 * 16);
	/* plain with -L before (4 x 9 x 6), less 2.1 to 2.1 unrestricted
	 * into a pool with large_blocks (2 x 4) */
	assert_int_equal(refused, 208);

	/* the rule that keeps a backup whole: an existing target filled
	 * without -L (by the seed, or before) is never switched to it */
	struct transfer_wire_in old = {.src = &caps[1],
	                               .dst = &caps[1],
	                               .dst_pool = &pools[0],
	                               .src_label = "client",
	                               .dst_label = "local"};
	unsigned flags;
	assert_int_equal(transfer_wire(&old, "zdst/a", &flags, &e), 0);
	assert_int_equal(flags, C | E);
	old.full = true;
	assert_int_equal(transfer_wire(&old, "zdst/a", &flags, &e), 0);
	assert_int_equal(flags, C | L | E);

	/* the messages name the side that cannot */
	struct transfer_wire_in in = {.src = &caps[0],
	                              .dst = &caps[1],
	                              .dst_pool = &pools[0],
	                              .src_label = "client",
	                              .dst_label = "local",
	                              .large_before = true};
	unsigned got;
	assert_int_equal(transfer_wire(&in, "zdst/a", &got, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "the source client runs OpenZFS 0.8.6"));
	assert_null(strstr(e.msg, "target local"));
	in.src = NULL;
	in.src_why = "cannot reach client";
	in.dst = &caps[0];
	assert_int_equal(transfer_wire(&in, "zdst/a", &got, &e), -EOPNOTSUPP);
	assert_non_null(
	    strstr(e.msg, "the source client's OpenZFS is not known (cannot reach client)"));
	assert_non_null(strstr(e.msg, "the target local runs OpenZFS 0.8.6"));
	in.restricted = true;
	assert_int_equal(transfer_wire(&in, "zdst/a", &got, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "local takes the seed's command lines only"));
	/* and the pool: not known, or without large_blocks */
	in.restricted = false;
	in.src = in.dst = &caps[1];
	in.dst_pool = NULL;
	in.pool_why = "cannot run zpool";
	assert_int_equal(transfer_wire(&in, "zdst/a", &got, &e), -EOPNOTSUPP);
	assert_non_null(
	    strstr(e.msg, "the target pool's features are not known (cannot run zpool)"));
	in.dst_pool = &pools[3];
	assert_int_equal(transfer_wire(&in, "zdst/a", &got, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "the target pool has no feature@large_blocks"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plans_from_listings),
	    cmocka_unit_test(test_divergence_from_listings),
	    cmocka_unit_test(test_restricted_by_name),
	    cmocka_unit_test(test_unchanged_by_record),
	    cmocka_unit_test(test_blame),
	    cmocka_unit_test(test_zfs_error_kinds),
	    cmocka_unit_test(test_trust_target),
	    cmocka_unit_test(test_err_line),
	    cmocka_unit_test(test_resume_decisions),
	    cmocka_unit_test(test_marks_bookmark),
	    cmocka_unit_test(test_wire_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
