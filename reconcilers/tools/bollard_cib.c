/*
 * bollard-cib - the CIB calls DRBD's fence-peer handler makes, sent
 * straight to Pacemaker's CIB manager (pacemaker-based) over its IPC, in
 * a process that links libqb and libbz2 (11 libraries in all on Debian 12,
 * with what libqb pulls in) instead of cibadmin's 43. Why:
 * reconcilers/cib_ipc.h.
 *
 *   bollard-cib [-t SECS] [--no-fallback] -Q [-l] [-o SECTION]
 *   bollard-cib [-t SECS] [--no-fallback] -C -o SECTION -X XML
 *   bollard-cib [-t SECS] [--no-fallback] -D -o SECTION -X XML
 *   bollard-cib [-t SECS] [--no-fallback] -C -o SECTION -X XML --then-query [-l]
 *
 * The options mean what they mean to cibadmin (-Q query, -C create, -D
 * delete, -l this node's copy, -o section, -X the input element, -t the
 * call's timeout in seconds, 30 by default), and the query prints the
 * element the CIB manager answered with (unindented, one line).
 *
 * Exit status: 0 done; 1 the CIB manager refused the call (its reason on
 * stderr, e.g. "File exists (cib_rc=-17)" for a create whose id is
 * taken); 2 usage; 3 no answer (no CIB manager, disconnected, timeout);
 * 4 an answer this program does not understand, or a CIB manager that is
 * not running as root or hacluster. In case 4 it runs cibadmin with the
 * same arguments instead (a Pacemaker that changed its protocol costs
 * speed, not a failover), unless --no-fallback is given, which the tests
 * use to check that the fast path itself works.
 *
 * --then-query: the create, then a query of the whole CIB (this node's
 * copy with -l; -l does not apply to the create, which goes to the
 * cluster as a plain -C does; -t bounds both calls together), over ONE
 * connection and registration: the
 * fence-peer handler needs both, and in tests/ha's emulated guests every
 * process start (~0.27 s), connect and registration it saves is on a
 * failover's critical path. The query is sent only once the create has
 * been answered, so it shows the CIB after the create: the new element
 * when the create succeeded, whatever holds the id when it failed with
 * "File exists". The query's answer is printed on stdout as -Q prints
 * it, and the exit status is about both calls:
 *   0  the create succeeded, the query's answer printed;
 *   1  the CIB manager refused the create (its reason on stderr, as
 *      above), the query's answer printed all the same;
 *   3  no usable answer to the query (none in time, disconnected, or the
 *      CIB manager refused it), nothing printed. This includes a create
 *      that got no answer: it may still have been applied (the CIB
 *      manager may have received it before the connection broke or the
 *      time ran out), so after 3 the create's fate is unknown unless
 *      stderr says otherwise: when the create was answered and the query
 *      then failed, the one stderr line starts "bollard-cib: cib_create
 *      SECTION: OK; then cib_query failed: " (or the create's refusal
 *      reason in place of "OK"); any other line means the create's fate
 *      is unknown;
 *   4  an answer not understood (to the registration, the create or the
 *      query), nothing printed; stderr as for 3 (a create answered with
 *      something not understood has an unknown fate too). Unlike the
 *      single calls, cibadmin does NOT run instead: it has no such
 *      combined call, and running only the create or only the query would
 *      hide half of the answer. The caller falls back to separate calls
 *      (the handler does: a create, which then fails with "File exists"
 *      if this one was applied, beside a query); --no-fallback changes
 *      nothing here;
 *   2  usage, nothing sent.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <bzlib.h>
#include <qb/qbipc_common.h>
#include <qb/qbipcc.h>

#include "bl_err.h"
#include "bl_time.h"
#include "cib_ipc.h"

/* cib_ipc.h's header must be libqb's response header plus Pacemaker's
 * fields, byte for byte. */
_Static_assert(sizeof(struct qb_ipc_response_header) == 24 &&
	       offsetof(struct bl_cib_ipc_hdr, size_uncompressed) ==
	       sizeof(struct qb_ipc_response_header) &&
	       offsetof(struct bl_cib_ipc_hdr, qb.size) ==
	       offsetof(struct qb_ipc_response_header, size) &&
	       offsetof(struct bl_cib_ipc_hdr, qb.error) ==
	       offsetof(struct qb_ipc_response_header, error) &&
	       sizeof(struct bl_cib_ipc_hdr) == 40,
	       "struct bl_cib_ipc_hdr does not match Pacemaker's IPC header");

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_NOANSWER = 3, EXIT_PROTO = 4 };

#define BUF_SIZE (512 * 1024)   /* what Pacemaker's own CIB clients ask for */

struct conn {
	qb_ipcc_connection_t *qb;
	char *buf;              /* one received message               */
	size_t buf_size;        /* the connection's, libqb negotiated */
	char *plain;            /* a decompressed payload, when one   */
	uint32_t next_id;       /* IPC request id                     */
	long long deadline_ms;
	char err[512];          /* why the last call failed           */
};

/* The deadline for what libqb does not bound: qb_ipcc_connect() waits
 * for the server's handshake without a timeout, so a CIB manager that is
 * alive but not serving (stopped, stuck) held bollard-cib, and the
 * fence-peer handler waiting for it, for ever whatever -t said. SIGALRM
 * one second after the deadline (call() reports a late answer itself
 * before that) ends the process with the "no answer" status. The timer
 * stays armed across the exec of cibadmin, which it bounds as well. */
static void on_alarm(int sig)
{
	static const char msg[] = "bollard-cib: no answer from the CIB manager in time\n";
	ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void)sig;
	(void)w;
	_exit(EXIT_NOANSWER);
}

/* The CIB manager must run as root or as Pacemaker's daemon user or group
 * (what libcrmcommon checks too): any local process may bind the abstract
 * socket name "cib_rw" when Pacemaker is down. */
static int check_server(struct conn *c)
{
	pid_t pid;
	uid_t uid;
	gid_t gid;
	struct passwd *pw;
	struct group *gr;
	int rc = qb_ipcc_auth_get(c->qb, &pid, &uid, &gid);

	if (rc < 0) {
		snprintf(c->err, sizeof(c->err), "cannot read the CIB manager's credentials: %s",
			 strerror(-rc));
		return BL_E_AUTH;
	}
	if (uid == 0)
		return 0;
	pw = getpwnam("hacluster");
	gr = getgrnam("haclient");
	if ((pw && uid == pw->pw_uid) || (gr && gid == gr->gr_gid))
		return 0;
	snprintf(c->err, sizeof(c->err),
		 "the process serving cib_rw (pid %d) runs as uid %u gid %u, not root or hacluster",
		 (int)pid, (unsigned)uid, (unsigned)gid);
	return BL_E_AUTH;
}

/* Send MSG and wait for the reply to it; *xml then points at the reply's
 * NUL-terminated XML (valid until the next call), *len its length. */
static int call(struct conn *c, const char *msg, char **xml, size_t *len)
{
	struct bl_cib_ipc_hdr h;
	struct iovec iov[2];
	uint32_t id = ++c->next_id;
	ssize_t n;

	memset(&h, 0, sizeof(h));
	h.version = BL_CIB_IPC_VERSION;
	h.flags = BL_CIB_IPC_WANT_RESPONSE;
	h.size_uncompressed = (uint32_t)strlen(msg) + 1;
	if (sizeof(h) + h.size_uncompressed > BUF_SIZE) {
		snprintf(c->err, sizeof(c->err), "request of %u bytes is too large", h.size_uncompressed);
		return -EMSGSIZE;
	}
	h.qb.id = (int32_t)id;
	h.qb.size = (int32_t)(sizeof(h) + h.size_uncompressed);
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)msg;
	iov[1].iov_len = h.size_uncompressed;
	do {
		n = qb_ipcc_sendv(c->qb, iov, 2);
		if (n == -EAGAIN)
			poll(NULL, 0, 10);
	} while (n == -EAGAIN && (long long)bl_now_ms() < c->deadline_ms);
	if (n < 0) {
		snprintf(c->err, sizeof(c->err), "send to the CIB manager: %s", strerror((int)-n));
		return (int)n;
	}
	for (;;) {
		struct bl_cib_ipc_hdr *r = (struct bl_cib_ipc_hdr *)(void *)c->buf;
		long long left = c->deadline_ms - (long long)bl_now_ms();
		unsigned int size_u;

		if (left <= 0) {
			snprintf(c->err, sizeof(c->err), "no answer from the CIB manager in time");
			return -ETIMEDOUT;
		}
		n = qb_ipcc_recv(c->qb, c->buf, c->buf_size, left > 1000 ? 1000 : (int)left);
		if (n == -EAGAIN || n == -ETIMEDOUT)
			continue;
		if (n < 0) {
			snprintf(c->err, sizeof(c->err), "receive from the CIB manager: %s",
				 strerror((int)-n));
			return (int)n;
		}
		if ((size_t)n < sizeof(*r) || r->version > BL_CIB_IPC_VERSION ||
		    r->size_uncompressed == 0 || r->size_uncompressed > 64u * 1024 * 1024) {
			snprintf(c->err, sizeof(c->err), "unexpected IPC header (%zd bytes, version %u)",
				 n, n >= (ssize_t)sizeof(*r) ? r->version : 0);
			return BL_E_PROTO;
		}
		if ((uint32_t)r->qb.id != id)
			continue;       /* an older call's late answer */
		if (r->flags & BL_CIB_IPC_COMPRESSED) {
			if (r->size_compressed > (size_t)n - sizeof(*r)) {
				snprintf(c->err, sizeof(c->err), "truncated compressed answer");
				return BL_E_PROTO;
			}
			free(c->plain);
			c->plain = malloc(r->size_uncompressed);
			if (!c->plain)
				return -ENOMEM;
			size_u = r->size_uncompressed;
			if (BZ2_bzBuffToBuffDecompress(c->plain, &size_u, c->buf + sizeof(*r),
						       r->size_compressed, 1, 0) != BZ_OK ||
			    size_u != r->size_uncompressed) {
				snprintf(c->err, sizeof(c->err), "cannot decompress the answer");
				return BL_E_PROTO;
			}
			*xml = c->plain;
		} else {
			if (r->size_uncompressed > (size_t)n - sizeof(*r)) {
				snprintf(c->err, sizeof(c->err), "truncated answer");
				return BL_E_PROTO;
			}
			*xml = c->buf + sizeof(*r);
		}
		if ((*xml)[r->size_uncompressed - 1] != '\0') {
			snprintf(c->err, sizeof(c->err), "answer is not NUL-terminated");
			return BL_E_PROTO;
		}
		*len = r->size_uncompressed - 1;
		return 0;
	}
}

static void usage(FILE *f)
{
	fputs("usage: bollard-cib [-t SECS] [--no-fallback] -Q [-l] [-o SECTION]\n"
	      "       bollard-cib [-t SECS] [--no-fallback] -C|-D -o SECTION -X XML\n"
	      "       bollard-cib [-t SECS] [--no-fallback] -C -o SECTION -X XML --then-query [-l]\n"
	      "Query, create or delete in Pacemaker's CIB through its IPC, as cibadmin would.\n"
	      "Exit: 0 done, 1 refused by the CIB, 2 usage, 3 no answer, 4 protocol not understood\n"
	      "(then cibadmin runs instead, unless --no-fallback).\n"
	      "--then-query: the create, then a query of the whole CIB (-l: this node's copy) on one\n"
	      "connection; the query's answer is printed whether the create succeeded (exit 0) or\n"
	      "was refused (exit 1); 3/4: the query got no usable answer, nothing printed, the\n"
	      "create's fate unknown unless stderr says \"cib_create SECTION: ...; then cib_query\n"
	      "failed\"; cibadmin never runs instead (it has no such call).\n", f);
}

/* One operation on a registered connection: build its request (callid
 * CALLID), send it, wait for the answer and check that the answer is one
 * to it. 0 with *rep filled (rep->rc the CIB manager's verdict), -EINVAL
 * when no request can be made of the arguments (usage), or the call's
 * failure with c->err saying why. */
static int op_call(struct conn *c, const char *op, const char *section, int callid,
		   const char *token, unsigned opts, const char *data, struct bl_cib_reply *rep)
{
	char *msg = NULL, *xml;
	size_t len;
	int rc = bl_cib_op_msg(op, section, callid, token, opts, data, &msg);

	if (rc < 0) {
		snprintf(c->err, sizeof(c->err), "cannot build the %s request: %s", op,
			 bl_strerror(rc));
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	rc = call(c, msg, &xml, &len);
	free(msg);
	if (rc < 0)
		return rc;
	if ((rc = bl_cib_reply_parse(xml, len, rep)) < 0 || !rep->have_rc ||
	    !rep->have_callid || rep->callid != callid) {
		snprintf(c->err, sizeof(c->err), "unexpected answer to %s", op);
		return BL_E_PROTO;
	}
	return 0;
}

/* Print a query's answer, the payload of REP. */
static int print_query(struct conn *c, const struct bl_cib_reply *rep)
{
	if (!rep->data) {
		snprintf(c->err, sizeof(c->err), "query answer without data");
		return BL_E_PROTO;
	}
	fwrite(rep->data, 1, rep->data_len, stdout);
	putchar('\n');
	if (fflush(stdout) != 0) {
		snprintf(c->err, sizeof(c->err), "writing the answer: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

static void say_refused(const char *op, const char *section, int rc)
{
	fprintf(stderr, "bollard-cib: %s%s%s: %s (cib_rc=%d)\n", op,
		section ? " " : "", section ? section : "", bl_cib_rc_str(rc), rc);
}

/*
 * --then-query: the create, answered, then the query, on the one
 * registered connection. The create's verdict goes to *created (0 or the
 * CIB manager's code); the query's answer is printed. A failure of
 * either call returns its code with c->err saying why; once the create
 * has been answered, c->err starts with its verdict (see the header
 * comment: the handler reads that line to know whether its create
 * landed).
 */
static int create_then_query(struct conn *c, const char *section, const char *data,
			     const char *token, unsigned query_opts, int *created)
{
	struct bl_cib_reply rep;
	char why[256];
	int rc = op_call(c, "cib_create", section, 1, token, BL_CIB_SYNC_CALL, data, &rep);

	if (rc < 0)
		return rc;
	*created = rep.rc;
	rc = op_call(c, "cib_query", NULL, 2, token, query_opts, NULL, &rep);
	if (rc == 0 && rep.rc != 0) {
		/* A refused query is no CIB to read: for the caller as
		 * good as no answer (3), so that it falls back and retries. */
		snprintf(c->err, sizeof(c->err), "%s (cib_rc=%d)", bl_cib_rc_str(rep.rc), rep.rc);
		rc = -EREMOTEIO;
	}
	if (rc == 0)
		rc = print_query(c, &rep);
	if (rc < 0) {
		snprintf(why, sizeof(why), "%.200s", c->err);
		snprintf(c->err, sizeof(c->err), "cib_create %.64s: %.64s; then cib_query failed: %.200s",
			 section, *created ? bl_cib_rc_str(*created) : "OK", why);
		return rc;
	}
	if (*created != 0)
		say_refused("cib_create", section, *created);
	return 0;
}

int main(int argc, char **argv)
{
	const char *op = NULL, *section = NULL, *data = NULL;
	unsigned opts = BL_CIB_SYNC_CALL;
	int fallback = 1, then_query = 0, timeout_s = 30, rc = 0, status, created = 0;
	struct conn c = { 0 };
	struct bl_cib_reply rep;
	char *msg = NULL, *xml, *token = NULL;
	size_t len;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-Q"))
			op = "cib_query";
		else if (!strcmp(a, "-C"))
			op = "cib_create";
		else if (!strcmp(a, "-D"))
			op = "cib_delete";
		else if (!strcmp(a, "-l"))
			opts |= BL_CIB_SCOPE_LOCAL;
		else if (!strcmp(a, "--no-fallback"))
			fallback = 0;
		else if (!strcmp(a, "--then-query"))
			then_query = 1;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if ((!strcmp(a, "-o") || !strcmp(a, "-X") || !strcmp(a, "-t")) && i + 1 < argc) {
			const char *v = argv[++i];

			if (a[1] == 'o') {
				section = v;
			} else if (a[1] == 'X') {
				data = v;
			} else {
				char *end;
				long t = strtol(v, &end, 10);

				if (*end || t < 1 || t > 3600) {
					fprintf(stderr, "bollard-cib: -t %s: not a number of seconds (1-3600)\n", v);
					return EXIT_USAGE;
				}
				timeout_s = (int)t;
			}
		} else {
			fprintf(stderr, "bollard-cib: unknown or incomplete argument '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!op || (strcmp(op, "cib_query") && (!section || !data)) ||
	    (!strcmp(op, "cib_query") && data) || (then_query && strcmp(op, "cib_create"))) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* No cibadmin can do what --then-query does (see the header). */
	if (then_query)
		fallback = 0;
	c.deadline_ms = (long long)bl_now_ms() + timeout_s * 1000LL;
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		alarm((unsigned)timeout_s + 1);
	}

	c.qb = qb_ipcc_connect("cib_rw", BUF_SIZE);
	if (!c.qb) {
		rc = errno > 0 ? -errno : -ENOTCONN;
		snprintf(c.err, sizeof(c.err), "cannot connect to the CIB manager (cib_rw): %s",
			 strerror(-rc));
		goto out_free;
	}
	if ((rc = check_server(&c)) < 0)
		goto out_disconnect;
	/* The server may enforce a larger buffer than BUF_SIZE (based does
	 * with PCMK_ipc_buffer) and then sends answers up to that size
	 * uncompressed: receive into what libqb negotiated, as Pacemaker's
	 * own clients do. */
	c.buf_size = BUF_SIZE;
	if (qb_ipcc_get_buffer_size(c.qb) > BUF_SIZE)
		c.buf_size = (size_t)qb_ipcc_get_buffer_size(c.qb);
	c.buf = malloc(c.buf_size);
	if (!c.buf) {
		rc = -ENOMEM;
		snprintf(c.err, sizeof(c.err), "out of memory");
		goto out_disconnect;
	}
	if ((rc = bl_cib_register_msg("bollard-cib", &msg)) < 0 ||
	    (rc = call(&c, msg, &xml, &len)) < 0)
		goto out_disconnect;
	if ((rc = bl_cib_reply_parse(xml, len, &rep)) < 0 || !rep.op ||
	    strcmp(rep.op, "register") || !rep.clientid) {
		rc = BL_E_PROTO;
		snprintf(c.err, sizeof(c.err), "unexpected answer to the registration");
		goto out_disconnect;
	}
	token = strdup(rep.clientid);
	if (!token) {
		rc = -ENOMEM;
		snprintf(c.err, sizeof(c.err), "out of memory");
		goto out_disconnect;
	}
	if (then_query) {
		rc = create_then_query(&c, section, data, token,
				       BL_CIB_SYNC_CALL | (opts & BL_CIB_SCOPE_LOCAL), &created);
		if (rc == -EINVAL)
			goto usage_error;
		if (rc < 0)
			goto out_disconnect;
		status = created ? EXIT_REFUSED : 0;
		goto done;
	}
	rc = op_call(&c, op, section, 1, token, opts, data, &rep);
	if (rc == -EINVAL)
		goto usage_error;
	if (rc < 0)
		goto out_disconnect;
	if (rep.rc != 0) {
		say_refused(op, section, rep.rc);
		status = EXIT_REFUSED;
		goto done;
	}
	if (!strcmp(op, "cib_query") && (rc = print_query(&c, &rep)) < 0) {
		if (rc == BL_E_PROTO)
			goto out_disconnect;
		fprintf(stderr, "bollard-cib: %s\n", c.err);
		status = EXIT_NOANSWER;
		goto done;
	}
	status = 0;
	goto done;

usage_error:
	fprintf(stderr, "bollard-cib: %s\n", c.err);
	status = EXIT_USAGE;
	goto done;
out_disconnect:
	qb_ipcc_disconnect(c.qb);
	c.qb = NULL;
out_free:
	status = (rc == BL_E_PROTO || rc == BL_E_AUTH) ? EXIT_PROTO : EXIT_NOANSWER;
	if (status == EXIT_PROTO && fallback) {
		/* No '<' in this line: callers that capture stderr with the
		 * query's output scan the XML by its tags. */
		fprintf(stderr, "bollard-cib: %s; running cibadmin instead\n", c.err);
		fflush(stderr);
		argv[0] = "cibadmin";
		execvp("cibadmin", argv);
		fprintf(stderr, "bollard-cib: cannot run cibadmin: %s\n", strerror(errno));
	} else if (status == EXIT_PROTO && then_query) {
		fprintf(stderr, "bollard-cib: %s; not running cibadmin (it has no --then-query): "
			"the caller falls back to separate calls\n", c.err);
	} else {
		fprintf(stderr, "bollard-cib: %s\n", c.err[0] ? c.err : bl_strerror(rc));
	}
done:
	if (c.qb)
		qb_ipcc_disconnect(c.qb);
	free(token);
	free(msg);
	free(c.plain);
	free(c.buf);
	return status;
}
