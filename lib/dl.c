/*
 * Optional libraries loaded on first use (dl.h): the sonames zkeep was
 * built against, the symbols it calls, one dlopen per library and process.
 */
#include "dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

#define DL_DEFINE(f) __typeof__(f) *sym_##f;
DL_CURL_SYMS(DL_DEFINE)
DL_CRYPTO_SYMS(DL_DEFINE)
DL_MOSQUITTO_SYMS(DL_DEFINE)
DL_MHD_SYMS(DL_DEFINE)
#undef DL_DEFINE

struct dl_sym {
	const char *name;
	void **fn; /* POSIX: a function pointer may be stored as a void * */
};

struct dl_lib {
	const char *soname; /* the ABI zkeep's headers describe */
	const char *package;
	const struct dl_sym *syms;
	size_t n;
	int (*start)(char *err, size_t size); /* after the symbols, once; NULL: none */
	pthread_once_t once;
	int rc;
	char err[512];
};

static void dl_load(struct dl_lib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		snprintf(l->err, sizeof(l->err), "cannot load %s (Debian package %s): %s",
		         l->soname, l->package, why ? why : "unknown error");
		l->rc = -ENOENT;
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		void *f = dlsym(h, l->syms[i].name);
		if (!f) {
			snprintf(l->err, sizeof(l->err),
			         "%s has no '%s' (Debian package %s, a version other than zkeep's)",
			         l->soname, l->syms[i].name, l->package);
			for (size_t j = 0; j < i; j++)
				*l->syms[j].fn = NULL;
			l->rc = -ENOENT;
			return; /* the library stays mapped: dlclose could run its destructors twice
			         */
		}
		*l->syms[i].fn = f;
	}
	l->rc = l->start ? l->start(l->err, sizeof(l->err)) : 0;
}

/* libcurl's global state, set up once per process before any handle (its
 * documentation: not thread-safe in older versions, so here, under the
 * loader's pthread_once). */
static int curl_start(char *err, size_t size)
{
	CURLcode c = sym_curl_global_init(CURL_GLOBAL_DEFAULT);
	if (c == CURLE_OK)
		return 0;
	snprintf(err, size, "libcurl.so.4: curl_global_init failed: %s", sym_curl_easy_strerror(c));
	return -EIO;
}

static int dl_need(struct dl_lib *l, void (*once)(void), struct zerr *e)
{
	pthread_once(&l->once, once);
	return l->rc ? zerr_set(e, l->rc, "%s", l->err) : 0;
}

#define DL_ENTRY(f) {#f, (void **)&sym_##f},
#define DL_LIB(fn, SYMS, so, pkg, start_fn)                                                        \
	static const struct dl_sym fn##_syms[] = {SYMS(DL_ENTRY)};                                 \
	static struct dl_lib fn##_lib = {.soname = (so),                                           \
	                                 .package = (pkg),                                         \
	                                 .syms = fn##_syms,                                        \
	                                 .n = sizeof(fn##_syms) / sizeof(fn##_syms[0]),            \
	                                 .start = (start_fn),                                      \
	                                 .once = PTHREAD_ONCE_INIT};                               \
	static void fn##_once(void)                                                                \
	{                                                                                          \
		dl_load(&fn##_lib);                                                                \
	}                                                                                          \
	int fn(struct zerr *e)                                                                     \
	{                                                                                          \
		return dl_need(&fn##_lib, fn##_once, e);                                           \
	}

DL_LIB(dl_curl, DL_CURL_SYMS, "libcurl.so.4", "libcurl4", curl_start)
DL_LIB(dl_crypto, DL_CRYPTO_SYMS, "libcrypto.so.3", "libssl3", NULL)
DL_LIB(dl_mosquitto, DL_MOSQUITTO_SYMS, "libmosquitto.so.1", "libmosquitto1", NULL)
DL_LIB(dl_mhd, DL_MHD_SYMS, "libmicrohttpd.so.12", "libmicrohttpd12", NULL)
