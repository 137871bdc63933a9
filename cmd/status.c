/*
 * zkeep status: one screen of what this host's ZFS looks like.
 *
 * Today: the OpenZFS version and capabilities, every pool with health and
 * space, and per pool how many filesystems, volumes, snapshots and
 * bookmarks it holds, from one zpool and one zfs listing. The api issue
 * adds policy compliance, backups and locks to the same screen.
 * Exit 1 when a pool is not ONLINE, so cron and Nagios-style checks notice.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fmt.h"
#include "host.h"
#include "log.h"
#include "zfs.h"
#include "banned.h"

struct pool_counts {
	size_t fs, vol, snap, bm;
};

static void count(const struct zfs_list *l, const char *pool, struct pool_counts *c)
{
	size_t plen = strlen(pool);
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < l->n; i++) {
		const char *n = l->v[i].name;
		if (strncmp(n, pool, plen) || (n[plen] && !strchr("/@#", n[plen])))
			continue;
		switch (l->v[i].type) {
		case ZFS_TYPE_FILESYSTEM:
			c->fs++;
			break;
		case ZFS_TYPE_VOLUME:
			c->vol++;
			break;
		case ZFS_TYPE_SNAPSHOT:
			c->snap++;
			break;
		case ZFS_TYPE_BOOKMARK:
			c->bm++;
			break;
		}
	}
}

static void print_text(const char *hostname, const struct zfs_caps *caps,
                       const struct zpool_list *pools, const struct zfs_list *objs)
{
	printf("host %s, OpenZFS %d.%d.%d (%s, %s)\n", hostname, caps->major, caps->minor,
	       caps->patch, caps->userland, *caps->kmod ? caps->kmod : "no kernel module");
	printf("features: resume %s, raw send %s, bookmarks %s, snapshots_changed %s\n\n",
	       caps->resume ? "yes" : "no", caps->raw_send ? "yes" : "no",
	       caps->bookmarks ? "yes" : "no", caps->snapshots_changed ? "yes" : "no");
	if (!pools->n) {
		printf("no pools\n");
		return;
	}
	printf("%-16s %-9s %12s %12s %12s %4s %5s %6s %6s %9s %9s\n", "POOL", "HEALTH", "SIZE",
	       "ALLOC", "FREE", "CAP", "FRAG", "FS", "VOL", "SNAPSHOTS", "BOOKMARKS");
	for (size_t i = 0; i < pools->n; i++) {
		const struct zpool *p = &pools->v[i];
		struct pool_counts c;
		struct buf sz = BUF_INIT, al = BUF_INIT, fr = BUF_INIT;
		count(objs, p->name, &c);
		fmt_bytes_human(&sz, p->size);
		fmt_bytes_human(&al, p->allocated);
		fmt_bytes_human(&fr, p->free);
		char frag[32];
		if (p->fragmentation == ZFS_NONE)
			snprintf(frag, sizeof(frag), "-");
		else
			snprintf(frag, sizeof(frag), "%llu%%",
			         (unsigned long long)p->fragmentation);
		printf("%-16s %-9s %12s %12s %12s %3llu%% %5s %6zu %6zu %9zu %9zu\n", p->name,
		       p->health, sz.s, al.s, fr.s, (unsigned long long)p->capacity, frag, c.fs,
		       c.vol, c.snap, c.bm);
		buf_free(&sz);
		buf_free(&al);
		buf_free(&fr);
	}
}

static json_t *to_json(const char *hostname, const struct zfs_caps *caps,
                       const struct zpool_list *pools, const struct zfs_list *objs)
{
	json_t *jp = json_array();
	for (size_t i = 0; i < pools->n; i++) {
		const struct zpool *p = &pools->v[i];
		struct pool_counts c;
		count(objs, p->name, &c);
		json_array_append_new(
		    jp, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I}", "name",
		                  p->name, "health", p->health, "size_bytes", (json_int_t)p->size,
		                  "allocated_bytes", (json_int_t)p->allocated, "free_bytes",
		                  (json_int_t)p->free, "fragmentation_percent",
		                  p->fragmentation == ZFS_NONE
		                      ? json_null()
		                      : json_integer((json_int_t)p->fragmentation),
		                  "capacity_percent", (json_int_t)p->capacity, "filesystems",
		                  (json_int_t)c.fs, "volumes", (json_int_t)c.vol, "snapshots",
		                  (json_int_t)c.snap, "bookmarks", (json_int_t)c.bm));
	}
	return json_pack("{s:s, s:{s:s, s:s, s:b, s:b, s:b, s:b}, s:o}", "hostname", hostname,
	                 "openzfs", "userland", caps->userland, "kmod", caps->kmod, "resume",
	                 caps->resume, "raw_send", caps->raw_send, "bookmarks", caps->bookmarks,
	                 "snapshots_changed", caps->snapshots_changed, "pools", jp);
}

int cmd_status(int argc, char **argv, const struct cmd *self)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"debug", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":jhd", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'd':
			log_set_level(LOG_LVL_DEBUG);
			break;
		case 'h':
			cmd_print_usage(self, 0);
			return EXIT_OK;
		default:
			fprintf(stderr, "zkeep status: unknown option '%s'\n", argv[optind - 1]);
			cmd_print_usage(self, 1);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zkeep status: unexpected argument '%s'\n", argv[optind]);
		cmd_print_usage(self, 1);
		return EXIT_USAGE;
	}

	struct host local;
	struct zfs_caps caps;
	struct zpool_list pools = {0};
	struct zfs_list objs = {0};
	struct zerr e = ZERR_INIT;
	int ret = EXIT_FAILED;
	char hostname[256];
	if (gethostname(hostname, sizeof(hostname)) < 0)
		snprintf(hostname, sizeof(hostname), "unknown");
	hostname[sizeof(hostname) - 1] = '\0';

	host_init_local(&local);
	if (zfs_probe(&local, 60000, &caps, &e) < 0 ||
	    zpool_list_run(&local, 60000, &pools, &e) < 0 ||
	    zfs_list_run(&local, &caps, ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, 0,
	                 true, NULL, 300000, &objs, &e) < 0) {
		log_error("%s", e.msg);
		goto out;
	}
	if (json) {
		json_t *j = to_json(hostname, &caps, &pools, &objs);
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		print_text(hostname, &caps, &pools, &objs);
	}
	ret = EXIT_OK;
	for (size_t i = 0; i < pools.n; i++)
		if (strcmp(pools.v[i].health, "ONLINE"))
			ret = EXIT_FAILED;
out:
	zpool_list_free(&pools);
	zfs_list_free(&objs);
	host_free(&local);
	return ret;
}
