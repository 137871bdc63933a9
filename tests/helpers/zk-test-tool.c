/*
 * zk-test-tool: drives lib/ from the integration tests, the way git's
 * test-tool does, so each module can be checked against real ZFS and real
 * ssh without going through a subcommand that does not exist yet.
 *
 *   zk-test-tool run [HOSTOPTS] [--exact] -- ARGV...   host_run, stdout as is
 *   zk-test-tool quote [--exact] -- ARGV...            the remote command line
 *   zk-test-tool probe [HOSTOPTS]                      zfs_probe
 *   zk-test-tool list [HOSTOPTS] [-r] [-t TYPES] DS... zfs_list_run, re-printed
 *   zk-test-tool zpool-list [HOSTOPTS]                 zpool_list_run, re-printed
 *   zk-test-tool relay                                 relay_run stdin to stdout; its
 *                                                      bytes and own CPU on stderr
 *   zk-test-tool splice                                the floor for a relay: a bare
 *                                                      blocking splice(2) loop stdin to
 *                                                      stdout (the relay's 1 MiB pipes);
 *                                                      bytes and own CPU on stderr
 * HOSTOPTS: --ssh [USER@]HOST  --port N  --identity FILE  --control DIR
 * Exit 0 on success, 1 with the library's message on stderr otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>
#include <unistd.h>

#include "host.h"
#include "relay.h"
#include "zfs.h"

static void usage(void)
{
	fputs("usage: zk-test-tool run|quote|probe|list|zpool-list|relay|splice [options] [--] "
	      "[args]\n",
	      stderr);
	exit(2);
}

static void put_num(uint64_t v, char sep)
{
	if (v == ZFS_NONE)
		printf("-%c", sep);
	else
		printf("%llu%c", (unsigned long long)v, sep);
}

static unsigned parse_types(const char *s)
{
	unsigned t = 0;
	if (strstr(s, "filesystem"))
		t |= ZFS_TYPE_FILESYSTEM;
	if (strstr(s, "volume"))
		t |= ZFS_TYPE_VOLUME;
	if (strstr(s, "snapshot"))
		t |= ZFS_TYPE_SNAPSHOT;
	if (strstr(s, "bookmark"))
		t |= ZFS_TYPE_BOOKMARK;
	if (!strcmp(s, "all"))
		t = ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK;
	return t;
}

/* The least a relay between two pipes can do: splice until the end, no
 * poll, no progress, no limits (bench/relay's floor for lib/relay's CPU). */
static int splice_floor(void)
{
	const size_t chunk = (size_t)1 << 20; /* lib/relay's pipes and moves */
	fcntl(STDIN_FILENO, F_SETPIPE_SZ, (int)chunk);
	fcntl(STDOUT_FILENO, F_SETPIPE_SZ, (int)chunk);
	unsigned long long bytes = 0;
	ssize_t n;
	while ((n = splice(STDIN_FILENO, NULL, STDOUT_FILENO, NULL, chunk, SPLICE_F_MOVE)) > 0)
		bytes += (unsigned long long)n;
	int err = n < 0 ? errno : 0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr, "splice: %llu bytes, cpu %.3f s\n", bytes, cpu);
	if (err)
		fprintf(stderr, "zk-test-tool: splice: %s\n", strerror(err));
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"ssh", required_argument, NULL, 's'},      {"port", required_argument, NULL, 'p'},
	    {"identity", required_argument, NULL, 'i'}, {"control", required_argument, NULL, 'c'},
	    {"exact", no_argument, NULL, 'x'},          {"types", required_argument, NULL, 't'},
	    {"recursive", no_argument, NULL, 'r'},      {NULL, 0, NULL, 0},
	};
	if (argc < 2)
		usage();
	const char *verb = argv[1];
	if (!strcmp(verb, "splice"))
		return splice_floor();
	if (!strcmp(verb, "relay")) {
		/* what zkeep pull does between send and receive, alone: for
		 * bench/replicate's CPU per GiB outside any zfs or ssh */
		struct relay_stats st;
		struct zerr re = ZERR_INIT;
		int rr = relay_run(STDIN_FILENO, STDOUT_FILENO, NULL, &st, &re);
		fprintf(stderr, "relay: %llu bytes in %.2f s, %s, %llu moves, cpu %.3f s\n",
		        (unsigned long long)st.bytes, st.seconds, st.spliced ? "spliced" : "copied",
		        (unsigned long long)st.moves, st.cpu);
		if (rr < 0)
			fprintf(stderr, "zk-test-tool: %s\n", re.msg);
		return rr < 0 ? 1 : 0;
	}
	char *ssh = NULL, *identity = NULL, *control = NULL;
	int port = 0, c;
	bool exact = false, recursive = false;
	unsigned types = ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK;
	optind = 2;
	while ((c = getopt_long(argc, argv, ":s:p:i:c:xt:r", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			ssh = optarg;
			break;
		case 'p':
			port = (int)strtol(optarg, NULL, 10);
			break;
		case 'i':
			identity = optarg;
			break;
		case 'c':
			control = optarg;
			break;
		case 'x':
			exact = true;
			break;
		case 't':
			types = parse_types(optarg);
			break;
		case 'r':
			recursive = true;
			break;
		default:
			usage();
		}
	}
	const char *const *rest = (const char *const *)argv + optind;

	struct host h;
	struct zerr e = ZERR_INIT;
	int r = 0;
	if (ssh) {
		char *at = strchr(ssh, '@');
		if (at)
			*at = '\0';
		r = host_init_ssh(&h, at ? ssh : NULL, at ? at + 1 : ssh, port, &e);
		if (r < 0) {
			fprintf(stderr, "zk-test-tool: %s\n", e.msg);
			return 1;
		}
		h.identity = identity ? strdup(identity) : NULL;
		h.control_dir = control ? strdup(control) : NULL;
	} else {
		host_init_local(&h);
	}
	h.exact = exact;

	if (!strcmp(verb, "run")) {
		struct buf out = BUF_INIT;
		r = host_run(&h, rest, &out, (size_t)64 << 20, 120000, &e);
		fwrite(out.s, 1, out.len, stdout);
		buf_free(&out);
	} else if (!strcmp(verb, "quote")) {
		struct buf out = BUF_INIT;
		r = host_quote(&out, rest, exact, &e);
		if (!r)
			puts(out.s);
		buf_free(&out);
	} else if (!strcmp(verb, "probe")) {
		struct zfs_caps caps;
		r = zfs_probe(&h, 60000, &caps, &e);
		if (!r)
			printf("version=%d.%d.%d\nuserland=%s\nkmod=%s\nresume=%d\nraw_send=%d\n"
			       "bookmarks=%d\nholds=%d\nsnapshots_changed=%d\n",
			       caps.major, caps.minor, caps.patch, caps.userland, caps.kmod,
			       caps.resume, caps.raw_send, caps.bookmarks, caps.holds,
			       caps.snapshots_changed);
	} else if (!strcmp(verb, "list")) {
		struct zfs_caps caps;
		struct zfs_list l;
		r = zfs_probe(&h, 60000, &caps, &e);
		if (!r)
			r = zfs_list_run(&h, &caps, types, 0, recursive, *rest ? rest : NULL,
			                 300000, &l, &e);
		if (!r) {
			for (size_t i = 0; i < l.n; i++) {
				const struct zfs_obj *o = &l.v[i];
				printf("%s\t%s\t", o->name, zfs_type_name(o->type));
				put_num(o->guid, '\t');
				put_num(o->createtxg, '\t');
				put_num(o->creation, '\t');
				put_num(o->used, '\t');
				put_num(o->available, '\t');
				put_num(o->referenced, l.cols ? '\t' : '\n');
				if (l.cols & ZFS_COL_SNAPSHOTS_CHANGED)
					put_num(o->snapshots_changed,
					        l.cols & ZFS_COL_USERREFS ? '\t' : '\n');
				if (l.cols & ZFS_COL_USERREFS)
					put_num(o->userrefs, '\n');
			}
			zfs_list_free(&l);
		}
	} else if (!strcmp(verb, "zpool-list")) {
		struct zpool_list l;
		r = zpool_list_run(&h, 60000, &l, &e);
		if (!r) {
			for (size_t i = 0; i < l.n; i++) {
				const struct zpool *p = &l.v[i];
				printf("%s\t", p->name);
				put_num(p->size, '\t');
				put_num(p->allocated, '\t');
				put_num(p->free, '\t');
				put_num(p->fragmentation, '\t');
				put_num(p->capacity, '\t');
				printf("%s\n", p->health);
			}
			zpool_list_free(&l);
		}
	} else {
		usage();
	}
	if (r < 0)
		fprintf(stderr, "zk-test-tool: %s\n", e.msg);
	host_disconnect(&h);
	host_free(&h);
	return r < 0 ? 1 : 0;
}
