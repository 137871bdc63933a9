/*
 * libFuzzer target: a run record as the api's collector reads it
 * (lib/record.c, through lib/view.c's backups), then everything that
 * computes from it: /metrics (rendered by view_build), the /ui/ page and
 * the api's JSON for /api/v1/backups. The pools and datasets come from
 * OpenZFS 2.3 fixtures (tests/fixtures, read once from the repository
 * root, where `make fuzz` runs). The seed corpus (Makefile) holds a record
 * with numbers at int64's edges: UBSan aborted on it in lib/ui.c (an age
 * computed as now - last_success) before the reader range-checked them, and
 * the records of tests/fixtures/records/v0. A record that reads is written
 * again (version 1) and must read back the same.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "http.h"
#include "record.h"
#include "state.h"
#include "ui.h"
#include "view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		abort();
	char *s = NULL;
	size_t n = 0;
	if (getdelim(&s, &n, '\0', f) < 0)
		abort();
	fclose(f);
	return s;
}

static struct zk_config cfg;
static char dir[] = "/tmp/zk-fuzz-record-XXXXXX", path[64];
static char again[] = "/tmp/zk-fuzz-record-again-XXXXXX";
static char *version, *zpools, *zlist, *zget;

static void init(void)
{
	if (!mkdtemp(dir) || !mkdtemp(again))
		abort();
	snprintf(path, sizeof(path), "%s/pull-f.json", dir);
	char conf[256];
	snprintf(conf, sizeof(conf),
	         "[global]\nstate_dir = %s\nlock_dir = %s\n"
	         "[dataset fixt/data]\npolicy = low\n",
	         dir, dir);
	config_init(&cfg);
	struct zerr e = ZERR_INIT;
	if (config_load_string(&cfg, "fuzz.conf", conf, &e) < 0)
		abort();
	version = slurp("tests/fixtures/2.3/version.out");
	zpools = slurp("tests/fixtures/2.3/zpool-list.out");
	zlist = slurp("tests/fixtures/2.3/zfs-list.out");
	zget = slurp("tests/fixtures/2.3/zfs-get-all.out");
}

/* A record read is written again (version 1, in a directory of its own:
 * the view reads dir) and reads back the same. */
static void round_trip(void)
{
	struct record r, back;
	struct zerr e = ZERR_INIT;
	struct buf p = BUF_INIT;
	if (record_read(path, &r, &e) < 0)
		return;
	record_path(&p, again, r.kind, r.job);
	int w = record_write(again, &r, &e);
	if (w == -ENAMETOOLONG) { /* a job name no file can have */
		record_free(&r);
		buf_free(&p);
		return;
	}
	if (w < 0 || record_read(p.s, &back, &e) < 0)
		abort();
	unlink(p.s);
	json_t *a = record_to_json(&r), *b = record_to_json(&back);
	if (!json_equal(a, b))
		abort();
	json_decref(a);
	json_decref(b);
	record_free(&r);
	record_free(&back);
	buf_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!version)
		init();
	struct zerr e = ZERR_INIT;
	if (state_write_atomic(path, data, size, 0644, &e) < 0)
		abort();
	struct view_texts t = {version, zpools, zlist, zget, NULL, NULL, 0};
	struct view_opts o = {&cfg, NULL, "fuzz", 0, 1795680000, false};
	struct view *v = NULL;
	if (view_build(&o, &t, NULL, &v, &e) == 0) {
		struct buf page = BUF_INIT;
		ui_render(v, NULL, NULL, 1795680000, &page);
		buf_free(&page);
		struct api_ctx c = {0};
		c.v = v;
		c.now = 1795680000;
		struct http_route r = {ROUTE_BACKUPS, NULL};
		struct http_response res = {0, "application/json", BUF_INIT, NULL, NULL, 0};
		api_handle(&c, &r, NULL, &res);
		buf_free(&res.body);
		api_stream_free(res.stream);
		view_put(v);
	}
	round_trip();
	return 0;
}
