/*
 * test_etcd_tls.c - the client over https:// against a real etcd serving
 * TLS with a throwaway CA and server certificate (made with openssl at
 * setup, IP SAN 127.0.0.1): kv and watch work with the CA given; without
 * it (system roots) or over plain http the calls fail. A second etcd
 * requires client certificates (--client-cert-auth): with the client
 * certificate the CA signed, kv and watch work; without one, calls fail;
 * a certificate without its key is refused at open. Built for both
 * transports (test_etcd_tls, test_etcd_tls_http).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bl_err.h"
#include "bl_etcd.h"
#include "etcd_proc.h"

extern char **environ;

struct fx {
	char dir[64];
	char ca[128], cert[128], key[128];
	char ccert[128], ckey[128];    /* client certificate, signed by ca */
	struct etcd_proc ep;
};

/* Run a command quietly in dir; 0 on exit status 0. */
static int run(const char *dir, const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	char log[128];
	pid_t pid;
	int st, rc;

	snprintf(log, sizeof(log), "%s/openssl.log", dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -rc;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

#define RUN(dir, ...) run((dir), (const char *const[]){ __VA_ARGS__, NULL })

static int write_file(const char *path, const char *text)
{
	FILE *x = fopen(path, "w");

	if (!x)
		return -errno;
	fputs(text, x);
	return fclose(x) ? -errno : 0;
}

static int make_certs(struct fx *f)
{
	char cakey[128], csr[128], ext[128], ccsr[128], cext[128];

	snprintf(f->ca, sizeof(f->ca), "%s/ca.crt", f->dir);
	snprintf(cakey, sizeof(cakey), "%s/ca.key", f->dir);
	snprintf(f->cert, sizeof(f->cert), "%s/server.crt", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/server.key", f->dir);
	snprintf(csr, sizeof(csr), "%s/server.csr", f->dir);
	snprintf(ext, sizeof(ext), "%s/ext.cnf", f->dir);
	snprintf(f->ccert, sizeof(f->ccert), "%s/client.crt", f->dir);
	snprintf(f->ckey, sizeof(f->ckey), "%s/client.key", f->dir);
	snprintf(ccsr, sizeof(ccsr), "%s/client.csr", f->dir);
	snprintf(cext, sizeof(cext), "%s/client-ext.cnf", f->dir);
	/* clientAuth on the server's certificate too: with client
	 * certificates required, etcd's JSON gateway dials its own gRPC
	 * port with it. */
	if (write_file(ext, "subjectAltName=IP:127.0.0.1\n"
			    "extendedKeyUsage=serverAuth,clientAuth\n") < 0 ||
	    write_file(cext, "extendedKeyUsage=clientAuth\n") < 0)
		return -EIO;
	if (RUN(f->dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", cakey,
		"-out", f->ca, "-days", "2", "-subj", "/CN=bollard-test-ca") ||
	    RUN(f->dir, "openssl", "req", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f->key,
		"-out", csr, "-subj", "/CN=127.0.0.1") ||
	    RUN(f->dir, "openssl", "x509", "-req", "-in", csr, "-CA", f->ca,
		"-CAkey", cakey, "-CAcreateserial", "-out", f->cert, "-days", "2",
		"-extfile", ext) ||
	    RUN(f->dir, "openssl", "req", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f->ckey,
		"-out", ccsr, "-subj", "/CN=bollard-test-client") ||
	    RUN(f->dir, "openssl", "x509", "-req", "-in", ccsr, "-CA", f->ca,
		"-CAkey", cakey, "-CAcreateserial", "-out", f->ccert, "-days", "2",
		"-extfile", cext))
		return -EIO;
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct etcd_proc_opts o = { 0 };
	int rc;

	snprintf(f->dir, sizeof(f->dir), "/tmp/bollard-tls.XXXXXX");
	if (!mkdtemp(f->dir) || make_certs(f) < 0) {
		fprintf(stderr, "cannot make test certificates in %s\n", f->dir);
		return -1;
	}
	o.cert_file = f->cert;
	o.key_file = f->key;
	o.ca_file = f->ca;
	rc = etcd_proc_start(&f->ep, &o);
	if (rc < 0) {
		fprintf(stderr, "cannot start etcd with TLS: %s\n", strerror(-rc));
		etcd_proc_cleanup(&f->ep);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	const char *files[] = { "ca.crt", "ca.key", "ca.srl", "server.crt",
				"server.key", "server.csr", "ext.cnf", "openssl.log",
				"client.crt", "client.key", "client.csr",
				"client-ext.cnf" };
	char p[160];
	size_t i;

	etcd_proc_cleanup(&f->ep);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct bl_etcd *open_tls(struct fx *f, const char *url, const char *ca)
{
	struct bl_etcd_opts o = { .endpoints = url, .ca_file = ca,
				  .timeout_ms = 1500 };
	struct bl_etcd *e = NULL;

	assert_int_equal(bl_etcd_open(&o, &e), 0);
	return e;
}

struct rec {
	int n;
	int err;
};

static void on_ev(void *arg, const struct bl_watch_event *ev, size_t n,
		  int64_t rev, int err)
{
	struct rec *r = arg;

	if (err)
		r->err = err;
	else
		r->n += (int)n;
}

/* Put, get and watch under prefix ("/p/"): each must work over e. */
static void kv_and_watch(struct bl_etcd *e, const char *prefix)
{
	struct bl_kvs kvs = { 0 };
	struct rec r = { 0 };
	struct bl_watch *w;
	char a[64], b[64];
	time_t end;
	int rc;

	snprintf(a, sizeof(a), "%sa", prefix);
	snprintf(b, sizeof(b), "%sb", prefix);
	rc = bl_etcd_put(e, a, "1", 1, 0, NULL);
	if (rc)
		fail_msg("put over TLS: %s (%s)", bl_strerror(rc), bl_etcd_errmsg(e));
	assert_int_equal(bl_etcd_get(e, prefix, true, 0, 0, false, &kvs), 0);
	assert_int_equal(kvs.n, 1);
	assert_string_equal(kvs.kvs[0].value, "1");
	bl_kvs_free(&kvs);

	assert_int_equal(bl_etcd_watch(e, prefix, true, 0, on_ev, NULL, &r, &w), 0);
	bl_etcd_dispatch(e, 200);
	assert_int_equal(bl_etcd_put(e, b, "2", 1, 0, NULL), 0);
	end = time(NULL) + 5;
	while (!r.n && !r.err && time(NULL) < end)
		bl_etcd_dispatch(e, 200);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	bl_etcd_watch_cancel(w);
}

static void test_tls_ok(void **state)
{
	struct fx *f = *state;
	struct bl_etcd *e = open_tls(f, f->ep.url, f->ca);

	assert_non_null(strstr(f->ep.url, "https://"));
	kv_and_watch(e, "/tls/");
	bl_etcd_close(e);
}

static void test_tls_refused(void **state)
{
	struct fx *f = *state;
	struct bl_kvs kvs = { 0 };
	struct bl_etcd *e;
	char url[64];
	int rc;

	/* Our CA is not among the system roots: the handshake fails. */
	e = open_tls(f, f->ep.url, NULL);
	rc = bl_etcd_get(e, "/tls/a", false, 0, 0, false, &kvs);
	assert_true(rc == BL_E_UNAVAILABLE || rc == -ETIMEDOUT);
	bl_etcd_close(e);

	/* Plaintext HTTP/2 to a TLS port fails too. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->ep.client_port);
	e = open_tls(f, url, NULL);
	rc = bl_etcd_get(e, "/tls/a", false, 0, 0, false, &kvs);
	assert_true(rc == BL_E_UNAVAILABLE || rc == -ETIMEDOUT);
	bl_etcd_close(e);

	/* A CA file that does not exist is refused at open. */
	{
		struct bl_etcd_opts o = { .endpoints = f->ep.url,
					  .ca_file = "/nonexistent/ca.crt" };
		assert_int_equal(bl_etcd_open(&o, &e), -ENOENT);
	}
}

static void test_tls_client_cert(void **state)
{
	struct fx *f = *state;
	char trusted[160];
	const char *const extra[] = { "--client-cert-auth", trusted, NULL };
	struct etcd_proc_opts po = { .cert_file = f->cert, .key_file = f->key,
				     .ca_file = f->ca, .extra_args = extra };
	struct bl_etcd_opts o = { .ca_file = f->ca, .cert_file = f->ccert,
				  .key_file = f->ckey, .timeout_ms = 3000 };
	struct etcd_proc ep = { 0 };
	struct bl_kvs kvs = { 0 };
	struct bl_etcd *e = NULL;
	int rc;

	snprintf(trusted, sizeof(trusted), "--trusted-ca-file=%s", f->ca);
	rc = etcd_proc_start(&ep, &po);
	if (rc < 0) {
		etcd_proc_cleanup(&ep);
		fail_msg("cannot start etcd with --client-cert-auth: %s", strerror(-rc));
	}
	o.endpoints = ep.url;

	/* The client certificate the CA signed: kv and watch. */
	assert_int_equal(bl_etcd_open(&o, &e), 0);
	kv_and_watch(e, "/cc/");
	bl_etcd_close(e);

	/* No client certificate: etcd refuses the session. */
	o.cert_file = o.key_file = NULL;
	o.timeout_ms = 1500;
	assert_int_equal(bl_etcd_open(&o, &e), 0);
	rc = bl_etcd_get(e, "/cc/a", false, 0, 0, false, &kvs);
	assert_true(rc == BL_E_UNAVAILABLE || rc == -ETIMEDOUT);
	assert_true(bl_etcd_errmsg(e)[0] != '\0');
	bl_etcd_close(e);

	/* A certificate without its key is refused at open. */
	o.cert_file = f->ccert;
	assert_int_equal(bl_etcd_open(&o, &e), -EINVAL);

	etcd_proc_cleanup(&ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_ok),
		cmocka_unit_test(test_tls_refused),
		cmocka_unit_test(test_tls_client_cert),
	};
	return cmocka_run_group_tests_name("etcd_tls", tests, setup, teardown);
}
