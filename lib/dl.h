/*
 * The large libraries zkeep uses for one feature each, loaded on first use
 * with dlopen(3), never at exec: libcurl (healthcheck pings, webhooks, the
 * sparklines' history client), OpenSSL's libcrypto (the webhook's HMAC),
 * libmosquitto (MQTT) and libmicrohttpd (`zkeep api`'s server).
 *
 * Why: every zkeep process is exec'd often (cron, the gate behind each ssh
 * command, the api's collector), and linking these four brings in 30-odd
 * shared libraries (GnuTLS, Kerberos, LDAP, ...) whose relocations cost
 * about 12 million instructions per exec, against 0.5 million for the rest
 * of zkeep; under emulation (the test VM) that is tens of milliseconds per
 * command. A process that never notifies or serves never loads them.
 * (systemd loads its optional libraries the same way.)
 *
 * Each library has a loader, dl_curl() and so on: it returns 0 once the
 * library and every symbol below are there, else a negative errno with a
 * message that names the library and the Debian package that provides it.
 * A loader is safe to call from any thread and any number of times; it
 * tries once per process (dl_curl also runs curl_global_init, once,
 * before any handle exists). After a 0, the sym_* pointers of that library
 * may be called like the functions they name (same types, from the
 * library's own header). The libraries stay loaded until exit.
 */
#ifndef ZK_DL_H
#define ZK_DL_H

#include <curl/curl.h>
#include <microhttpd.h>
#include <mosquitto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"

#define DL_CURL_SYMS(X)                                                                            \
	X(curl_global_init)                                                                        \
	X(curl_easy_init)                                                                          \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_strerror)                                                                      \
	X(curl_easy_escape)                                                                        \
	X(curl_free)                                                                               \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)                                                                     \
	X(curl_multi_init)                                                                         \
	X(curl_multi_add_handle)                                                                   \
	X(curl_multi_remove_handle)                                                                \
	X(curl_multi_perform)                                                                      \
	X(curl_multi_poll)                                                                         \
	X(curl_multi_info_read)                                                                    \
	X(curl_multi_cleanup)                                                                      \
	X(curl_url)                                                                                \
	X(curl_url_set)                                                                            \
	X(curl_url_get)                                                                            \
	X(curl_url_cleanup)                                                                        \
	X(curl_url_strerror)

#define DL_CRYPTO_SYMS(X)                                                                          \
	X(HMAC)                                                                                    \
	X(EVP_sha256)

#define DL_MOSQUITTO_SYMS(X)                                                                       \
	X(mosquitto_lib_init)                                                                      \
	X(mosquitto_lib_cleanup)                                                                   \
	X(mosquitto_new)                                                                           \
	X(mosquitto_destroy)                                                                       \
	X(mosquitto_int_option)                                                                    \
	X(mosquitto_tls_set)                                                                       \
	X(mosquitto_username_pw_set)                                                               \
	X(mosquitto_connect_callback_set)                                                          \
	X(mosquitto_publish_callback_set)                                                          \
	X(mosquitto_connect_async)                                                                 \
	X(mosquitto_loop)                                                                          \
	X(mosquitto_publish)                                                                       \
	X(mosquitto_disconnect)                                                                    \
	X(mosquitto_connack_string)                                                                \
	X(mosquitto_strerror)

#define DL_MHD_SYMS(X)                                                                             \
	X(MHD_start_daemon)                                                                        \
	X(MHD_stop_daemon)                                                                         \
	X(MHD_get_connection_info)                                                                 \
	X(MHD_lookup_connection_value)                                                             \
	X(MHD_create_response_from_buffer)                                                         \
	X(MHD_create_response_from_callback)                                                       \
	X(MHD_create_response_from_iovec)                                                          \
	X(MHD_add_response_header)                                                                 \
	X(MHD_queue_response)                                                                      \
	X(MHD_destroy_response)

#define DL_DECLARE(f) extern __typeof__(f) *sym_##f;
DL_CURL_SYMS(DL_DECLARE)
DL_CRYPTO_SYMS(DL_DECLARE)
DL_MOSQUITTO_SYMS(DL_DECLARE)
DL_MHD_SYMS(DL_DECLARE)
#undef DL_DECLARE

int dl_curl(struct zerr *e);
int dl_crypto(struct zerr *e);
int dl_mosquitto(struct zerr *e);
int dl_mhd(struct zerr *e);

#endif
