/* Command-line option tables: see opt.h.
 *
 * The letters and their one meaning: -c --config, -q --quiet, -n --dry-run,
 * -h --help, -t --type, -j --json, -H --host, -D --datasets, -u --user,
 * -i --identity, -p --port, -l --listen. Anything else is long only, so a
 * letter never means one thing here and another there (-d was debug in
 * five commands and destination in two). */
#include "opt.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"
#include "banned.h"

void opt_begin(struct opt_parser *p, const struct opt *t, bool stop_at_operand)
{
	size_t n = 0, k = 0;
	for (const struct opt *o = t; o->name; o++)
		n += o->negatable ? 2 : 1;
	struct option *l = xcalloc(n + 1, sizeof(*l));
	struct buf s = BUF_INIT;
	/* '+': POSIX order (stop at an operand); ':': report a missing value
	 * as ':' rather than printing getopt's own message */
	buf_addf(&s, "%s:", stop_at_operand ? "+" : "");
	for (const struct opt *o = t; o->name; o++) {
		int has = o->arg == OPT_VALUE   ? required_argument
		          : o->arg == OPT_MAYBE ? optional_argument
		                                : no_argument;
		l[k++] = (struct option){o->name, has, NULL, o->id};
		if (o->negatable) {
			struct buf no = BUF_INIT;
			buf_addf(&no, "no-%s", o->name);
			l[k++] = (struct option){no.s, no_argument, NULL, o->id | OPT_NO};
		}
		if (o->id < OPT_LONG)
			buf_addf(&s, "%c%s", o->id,
			         o->arg == OPT_VALUE   ? ":"
			         : o->arg == OPT_MAYBE ? "::"
			                               : "");
	}
	p->t = t;
	p->longs = l;
	p->shorts = s.s ? s.s : xstrdup("");
	optind = 1;
}

int opt_next(struct opt_parser *p, int argc, char **argv, const char **value)
{
	for (;;) {
		int c = getopt_long(argc, argv, p->shorts, p->longs, NULL);
		*value = optarg;
		const struct opt *o = p->t;
		while (o->name && (o->id != c || !o->apply))
			o++;
		if (!o->name)
			return c;
		if (o->apply(optarg) < 0)
			return OPT_BAD_VALUE;
	}
}

/* the seed option that name (the text after "--", up to '=') abbreviates,
 * or NULL: none, or more than one; out gets "no-" when it is a --no- form */
static const struct opt *seed_match(const struct opt *t, const char *name, size_t len, bool *no)
{
	const struct opt *hit = NULL;
	size_t hits = 0;
	for (const struct opt *o = t; o->name; o++) {
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return NULL; /* exact: nothing to resolve */
		if (o->negatable && len == strlen(o->name) + 3 && !strncmp(name, "no-", 3) &&
		    !strncmp(name + 3, o->name, len - 3))
			return NULL;
	}
	for (const struct opt *o = t; o->name; o++) {
		if (!o->seed)
			continue;
		if (!strncmp(o->name, name, len)) {
			hit = o;
			*no = false;
			hits++;
		}
		if (o->negatable && len > 3 && !strncmp(name, "no-", 3) &&
		    !strncmp(o->name, name + 3, len - 3)) {
			hit = o;
			*no = true;
			hits++;
		}
	}
	return hits == 1 ? hit : NULL;
}

static char **seed_made; /* the argv words written out in full */
static size_t n_seed_made;

void opt_seed_prefixes(struct opt_parser *p, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			return;
		if (strncmp(a, "--", 2) != 0 || !a[2])
			continue;
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		bool no = false;
		const struct opt *o = seed_match(p->t, a + 2, len, &no);
		if (!o)
			continue;
		struct buf full = BUF_INIT;
		buf_addf(&full, "--%s%s%s", no ? "no-" : "", o->name, eq ? eq : "");
		/* lives as long as argv: a value after '=' is used after opt_end */
		seed_made = xreallocarray(seed_made, n_seed_made + 1, sizeof(*seed_made));
		seed_made[n_seed_made++] = full.s;
		argv[i] = full.s;
	}
}

void opt_end(struct opt_parser *p)
{
	struct option *l = p->longs;
	for (size_t k = 0; l && l[k].name; k++)
		if (l[k].val & OPT_NO)
			free((char *)l[k].name);
	free(l);
	free(p->shorts);
	p->longs = NULL;
	p->shorts = NULL;
}

bool opt_flag(int c, int id, int *flag)
{
	if ((c & ~OPT_NO) != id)
		return false;
	*flag = !(c & OPT_NO);
	return true;
}

void opt_print_help(FILE *f, const struct opt *t)
{
	for (const struct opt *o = t; o->name; o++) {
		struct buf b = BUF_INIT;
		if (o->id < OPT_LONG)
			buf_addf(&b, "-%c, ", o->id);
		buf_addf(&b, "--%s%s", o->negatable ? "[no-]" : "", o->name);
		if (o->meta)
			buf_addf(&b, o->arg == OPT_MAYBE ? "[=%s]" : " %s", o->meta);
		fprintf(f, "  %-30s %s\n", b.s, o->help);
		buf_free(&b);
	}
}
