/*
 * libFuzzer target: the config parser on arbitrary text. A config is
 * accepted whole (and then every job has host, datasets and destination)
 * or refused with "file:line: ..."; it never crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size);
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	if (config_load_string(&c, "fuzz", text, &e) == 0) {
		for (size_t i = 0; i < c.n_jobs; i++)
			if (!c.jobs[i].remote.host || !c.jobs[i].datasets.n ||
			    !c.jobs[i].destination)
				abort(); /* accepted a job that cannot run */
	} else if (strncmp(e.msg, "fuzz:", 5) != 0) {
		abort(); /* a refusal must say where */
	}
	config_free(&c);
	free(text);
	return 0;
}
