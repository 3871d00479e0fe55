/*
 * http_tls.h - OpenSSL for the gateway client, loaded with dlopen() when a
 * handle with https:// endpoints is opened, not linked.
 *
 * Why: libssl + libcrypto cost every process that links them ~6 ms of
 * dynamic loading and relocation (measured: perf stat task-clock of an
 * empty program with and without them, docs/etcd.md), and the `bollard`
 * CLI, whose start-up is the point of this client, mostly talks plain
 * http:// to a local etcd. The OpenSSL headers still give the types and
 * constants; the functions come from this table, one per handle (no
 * process-wide state; dlopen() itself is reference-counted).
 */
#ifndef BL_ETCD_HTTP_TLS_H
#define BL_ETCD_HTTP_TLS_H

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* X(return type, name, parameter list) for every OpenSSL function used. */
#define BL_TLS_FUNCS(X) \
	X(const SSL_METHOD *, TLS_client_method, (void)) \
	X(SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *)) \
	X(void, SSL_CTX_free, (SSL_CTX *)) \
	X(long, SSL_CTX_ctrl, (SSL_CTX *, int, long, void *)) \
	X(void, SSL_CTX_set_verify, (SSL_CTX *, int, SSL_verify_cb)) \
	X(int, SSL_CTX_set_alpn_protos, (SSL_CTX *, const unsigned char *, unsigned int)) \
	X(int, SSL_CTX_load_verify_locations, (SSL_CTX *, const char *, const char *)) \
	X(int, SSL_CTX_set_default_verify_paths, (SSL_CTX *)) \
	X(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX *, const char *)) \
	X(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX *, const char *, int)) \
	X(int, SSL_CTX_check_private_key, (const SSL_CTX *)) \
	X(SSL *, SSL_new, (SSL_CTX *)) \
	X(void, SSL_free, (SSL *)) \
	X(int, SSL_set_fd, (SSL *, int)) \
	X(X509_VERIFY_PARAM *, SSL_get0_param, (SSL *)) \
	X(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM *, const char *)) \
	X(long, SSL_ctrl, (SSL *, int, long, void *)) \
	X(int, SSL_set1_host, (SSL *, const char *)) \
	X(int, SSL_connect, (SSL *)) \
	X(int, SSL_get_error, (const SSL *, int)) \
	X(long, SSL_get_verify_result, (const SSL *)) \
	X(const char *, X509_verify_cert_error_string, (long)) \
	X(unsigned long, ERR_get_error, (void)) \
	X(unsigned long, ERR_peek_error, (void)) \
	X(void, ERR_error_string_n, (unsigned long, char *, size_t)) \
	X(void, ERR_clear_error, (void)) \
	X(void, SSL_set_quiet_shutdown, (SSL *, int)) \
	X(int, SSL_read, (SSL *, void *, int)) \
	X(int, SSL_write, (SSL *, const void *, int))

struct bl_tls {
	void *lib;
#define BL_TLS_MEMBER(ret, name, args) ret (*name) args;
	BL_TLS_FUNCS(BL_TLS_MEMBER)
#undef BL_TLS_MEMBER
};

/* Load libssl.so.3; NULL with msg filled when it cannot be used. */
struct bl_tls *bl__tls_load(char *msg, size_t len);
void bl__tls_unload(struct bl_tls *t);

#endif
