/*
 * libFuzzer target: the gate's tokenizer and matcher on arbitrary command
 * lines, for a seed-mode key and a full-grammar key. Beyond "no crash",
 * the harness asserts that nothing outside the grammar is ever accepted:
 * an accepted line has only permitted bytes, runs zfs (or ls), uses no
 * verb that changes state beyond the grammar (destroy only of one of
 * zkeep's own bookmarks), and names no dataset outside the prefix. A
 * receive of the full grammar (other than -A) carries -u and -x mountpoint
 * and sets no property but canmount=noauto. A seed key runs one of the
 * five lines on a dataset of the seed's charset that is no option: with
 * --prefix tank/b under it, or "zfs list tank" (its one ancestor); with
 * --any-dataset anywhere.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has(const struct strvec *argv, const char *a, const char *b)
{
	for (size_t i = 2; i < argv->n; i++)
		if (!strcmp(argv->v[i], a) &&
		    (!b || (i + 1 < argv->n && !strcmp(argv->v[i + 1], b))))
			return true;
	return false;
}

/* zkeep's receive: never one that lets the stream mount itself */
static void check_receive(const struct strvec *argv)
{
	if (argv->n < 2 || strcmp(argv->v[1], "receive") || has(argv, "-A", NULL))
		return;
	if (!has(argv, "-u", NULL) || !has(argv, "-x", "mountpoint"))
		abort();
	for (size_t i = 2; i < argv->n; i++)
		if (!strcmp(argv->v[i], "-o") &&
		    (i + 1 >= argv->n || strcmp(argv->v[i + 1], "canmount=noauto")))
			abort();
}

static void check_accepted(const struct strvec *argv)
{
	static const char *const verbs[] = {"list",    "get",      "holds", "version",
	                                    "create",  "receive",  "send",  "hold",
	                                    "release", "bookmark", NULL};
	if (!argv->n)
		abort();
	if (!strcmp(argv->v[0], "/bin/ls")) {
		if (argv->n != 1)
			abort();
		return;
	}
	if (strcmp(argv->v[0], "/sbin/zfs") || argv->n < 2)
		abort();
	const char *const *v = verbs;
	while (*v && strcmp(*v, argv->v[1]))
		v++;
	if (!*v) {
		/* destroy: of one of zkeep's own bookmarks, nothing else */
		const char *h = argv->n == 3 ? strchr(argv->v[2], '#') : NULL;
		if (strcmp(argv->v[1], "destroy") || !h || strncmp(h + 1, "zkeep", 5) ||
		    strchr(argv->v[2], '@'))
			abort();
	}
	for (size_t i = 1; i < argv->n; i++) {
		const char *w = argv->v[i];
		if (strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@#/"
		              "_-.:,=") != strlen(w))
			abort();
		/* a dataset-like word: it must be under the prefix */
		if (strpbrk(w, "/@#") && w[0] != '-' && strncmp(w, "name,", 5)) {
			size_t d = strcspn(w, "@#");
			if (d < 6 || strncmp(w, "tank/b", 6) || (d > 6 && w[6] != '/'))
				abort();
		}
	}
}

static void check_seed(const struct strvec *argv, bool any)
{
	if (argv->n == 1)
		return; /* ls, checked by check_accepted */
	const char *ds = argv->v[argv->n - 1];
	int form = -1;
	for (int f = 0; f < GATE_SEED_N; f++) {
		/* argv: the zfs path, the line's words after "zfs", the dataset */
		size_t len = 0;
		while (gate_seed_lines[f][len])
			len++;
		size_t k = 1;
		while (k < len && argv->n == len + 1 && !strcmp(argv->v[k], gate_seed_lines[f][k]))
			k++;
		if (k == len && argv->n == len + 1)
			form = f;
	}
	if (form < 0 || ds[0] == '-' ||
	    strspn(ds, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-") !=
	        strlen(ds))
		abort();
	if (any)
		return;
	bool under = !strncmp(ds, "tank/b", 6) && (ds[6] == '\0' || ds[6] == '/');
	if (!under && (strcmp(ds, "tank") || form != GATE_SEED_LIST))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = strndup((const char *)data, size);
	struct gate seed, any, full;
	gate_init(&seed);
	gate_init(&any);
	gate_init(&full);
	seed.seed = true;
	any.seed = any.any_dataset = true;
	full.allow = ~0u;
	gate_add_prefix(&seed, "tank/b", NULL);
	gate_add_prefix(&full, "tank/b", NULL);
	struct strvec argv = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	if (gate_check(&seed, line, &argv, &e) == 0) {
		check_accepted(&argv);
		if (argv.n > 11) /* the longest seed line */
			abort();
		check_seed(&argv, false);
	}
	if (gate_check(&any, line, &argv, &e) == 0) {
		if (!argv.n || (strcmp(argv.v[0], "/sbin/zfs") && strcmp(argv.v[0], "/bin/ls")) ||
		    (!strcmp(argv.v[0], "/bin/ls") && argv.n != 1))
			abort();
		check_seed(&argv, true);
	}
	if (gate_check(&full, line, &argv, &e) == 0) {
		check_accepted(&argv);
		check_receive(&argv);
	}
	strvec_clear(&argv);
	gate_free(&seed);
	gate_free(&any);
	gate_free(&full);
	free(line);
	return 0;
}
