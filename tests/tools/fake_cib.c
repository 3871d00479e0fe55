/*
 * fake-cib - a stand-in for pacemaker-based's "cib_rw" IPC service that
 * answers the way a real one cannot be made to, for
 * tests/integration/cib_client.sh: bollard-cib's handling of answers it
 * must not trust or must decompress. (pacemaker_live.sh runs bollard-cib
 * against the real CIB manager.)
 *
 *   fake-cib MODE READY-FILE
 *
 * MODE: garbage  the registration is answered with an element that is
 *                not a registration ack;
 *       bz2      registration ok; the call is answered with a bzip2-
 *                compressed <cib-reply cib_rc="0"> holding <cib fake="bz2"/>
 *                (what based does with answers larger than its buffer);
 *       refuse   registration ok; every call is answered with cib_rc -203
 *                (schema validation failed), with the call's cib_callid;
 *       nobody   as bz2, but the server runs as uid/gid 65534: a client
 *                must not believe it;
 *       big      the service enforces a 1 MiB IPC buffer (as pacemaker-based
 *                does with PCMK_ipc_buffer=1048576) and answers the call
 *                uncompressed with a 600 KB <cib-reply> (based compresses
 *                only what does not fit its own buffer): a client must
 *                receive into the buffer size libqb negotiated, not the
 *                one it asked for.
 *
 *   fake-cib store|store-badquery1|store-dropcreate1 READY-FILE CIB-FILE LOG-FILE
 *
 *       store    a CIB kept in memory, read from CIB-FILE (one line of XML
 *                with a <constraints> or <constraints/> element), for
 *                running the fence-peer handler through bollard-cib:
 *                cib_query answers the whole CIB (the <status> element
 *                with section status), cib_create adds its element to
 *                <constraints> unless its id is in the CIB already (then
 *                cib_rc -17, File exists, as based), cib_delete removes
 *                the <rsc_location> with its id. Answers carry the
 *                request's cib_callid. Every registration and call is
 *                appended to LOG-FILE as a line ("register", "cib_create
 *                constraints opts=4096 rc=0", "cib_query - opts=4352",
 *                ...: section, cib_callopt, cib_rc), so that a test can
 *                count the handler's connections;
 *       store-badquery1   as store, but the first cib_query is answered
 *                with a wrong cib_callid (a protocol problem after the
 *                create was answered);
 *       store-dropcreate1 as store, but the first cib_create is applied
 *                and its connection dropped without an answer (a create
 *                whose fate the client cannot know).
 * READY-FILE is created once the service listens. Runs until killed.
 * Run it in a network namespace of its own (unshare -n): the service name
 * is an abstract socket, one per namespace.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <bzlib.h>
#include <qb/qbipcs.h>
#include <qb/qbloop.h>

#include "cib_ipc.h"

struct fake {
	const char *mode;
	qb_loop_t *loop;
	char *cib;              /* store modes: the CIB, one line        */
	FILE *log;              /* store modes: one line per message     */
	int queries, creates;   /* store modes: calls answered so far    */
};

static struct fake the_fake;   /* one per process: this is a test program */

static int32_t on_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	return 0;
}

static void send_xml(qb_ipcs_connection_t *c, int32_t id, const char *xml, int compress)
{
	struct bl_cib_ipc_hdr h;
	struct iovec iov[2];
	char packed[4096];
	unsigned int plen = sizeof(packed);

	memset(&h, 0, sizeof(h));
	h.version = BL_CIB_IPC_VERSION;
	h.size_uncompressed = (uint32_t)strlen(xml) + 1;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)xml;
	iov[1].iov_len = h.size_uncompressed;
	if (compress) {
		if (BZ2_bzBuffToBuffCompress(packed, &plen, (char *)xml, h.size_uncompressed,
					     9, 0, 0) != BZ_OK) {
			fprintf(stderr, "fake-cib: compress failed\n");
			exit(1);
		}
		h.flags = BL_CIB_IPC_COMPRESSED;
		h.size_compressed = plen;
		iov[1].iov_base = packed;
		iov[1].iov_len = plen;
	}
	h.qb.id = id;
	h.qb.size = (int32_t)(sizeof(h) + iov[1].iov_len);
	if (qb_ipcs_response_sendv(c, iov, 2) < 0)
		fprintf(stderr, "fake-cib: send failed\n");
}

#define BIG_BUFFER (1024 * 1024)
#define BIG_ANSWER (600 * 1024)

/* The "big" mode's answer: a query result of BIG_ANSWER bytes, one
 * <cib> whose attribute pads it ("xxx..."). */
static char *big_answer(void)
{
	static const char head[] = "<cib-reply t=\"cib\" cib_op=\"cib_query\" cib_callid=\"1\" "
		"cib_rc=\"0\"><cib_calldata><cib fake=\"big\" pad=\"";
	static const char tail[] = "\"/></cib_calldata></cib-reply>";
	char *s = malloc(BIG_ANSWER + 1);

	if (!s) {
		fprintf(stderr, "fake-cib: out of memory\n");
		exit(1);
	}
	memset(s, 'x', BIG_ANSWER);
	memcpy(s, head, sizeof(head) - 1);
	memcpy(s + BIG_ANSWER - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	s[BIG_ANSWER] = '\0';
	return s;
}

/* The value of attribute NAME in the first tag of XML, malloc'd, or
 * NULL. */
static char *attr_of(const char *xml, const char *name)
{
	char pat[64];
	const char *p, *q;

	snprintf(pat, sizeof(pat), " %s=\"", name);
	p = strstr(xml, pat);
	if (!p || (strchr(xml, '>') && p > strchr(xml, '>')))
		return NULL;
	p += strlen(pat);
	q = strchr(p, '"');
	return q ? strndup(p, (size_t)(q - p)) : NULL;
}

/* Replace LEN bytes of the CIB at OFF by INS. */
static void cib_splice(size_t off, size_t len, const char *ins)
{
	char *old = the_fake.cib, *n;

	if (asprintf(&n, "%.*s%s%s", (int)off, old, ins, old + off + len) < 0) {
		fprintf(stderr, "fake-cib: out of memory\n");
		exit(1);
	}
	the_fake.cib = n;
	free(old);
}

static int store_create(const char *data)
{
	char *id = attr_of(data, "id"), pat[256];
	const char *c = the_fake.cib, *p;
	int rc = 0;

	if (!id)
		return -22;
	snprintf(pat, sizeof(pat), " id=\"%s\"", id);
	if (strstr(c, pat)) {
		rc = -17;
	} else if ((p = strstr(c, "<constraints/>"))) {
		char *el;

		if (asprintf(&el, "<constraints>%s</constraints>", data) < 0)
			exit(1);
		cib_splice((size_t)(p - c), strlen("<constraints/>"), el);
		free(el);
	} else if ((p = strstr(c, "</constraints>"))) {
		cib_splice((size_t)(p - c), 0, data);
	} else {
		rc = -6;
	}
	free(id);
	return rc;
}

static void store_delete(const char *data)
{
	char *id = attr_of(data, "id"), pat[256];
	const char *c = the_fake.cib, *p, *e, *t;

	if (!id)
		return;
	snprintf(pat, sizeof(pat), "<rsc_location id=\"%s\"", id);
	free(id);
	p = strstr(c, pat);
	if (!p)
		return;
	t = strchr(p, '>');
	if (t && t[-1] == '/')
		e = t + 1;
	else if ((e = strstr(p, "</rsc_location>")))
		e += strlen("</rsc_location>");
	else
		return;
	cib_splice((size_t)(p - c), (size_t)(e - p), "");
}

static void drop_job(void *data)
{
	qb_ipcs_connection_t *conn = data;

	qb_ipcs_disconnect(conn);
	qb_ipcs_connection_unref(conn);
}

/* A store mode's answer to one call. */
static void store_call(qb_ipcs_connection_t *conn, int32_t id, const char *xml)
{
	char *op = attr_of(xml, "cib_op"), *sec = attr_of(xml, "cib_section");
	char *callid = attr_of(xml, "cib_callid"), *reply = NULL;
	char *opts = attr_of(xml, "cib_callopt");
	const char *data = strstr(xml, "<cib_calldata>");
	int rc = 0;

	if (data)
		data += strlen("<cib_calldata>");
	if (!op || !callid) {
		fprintf(stderr, "fake-cib: a call without cib_op or cib_callid\n");
		goto out;
	}
	if (!strcmp(op, "cib_query")) {
		const char *s = the_fake.cib, *e = s + strlen(s);
		int bad = !strcmp(the_fake.mode, "store-badquery1") && the_fake.queries == 0;

		the_fake.queries++;
		if (sec && !strcmp(sec, "status") && (s = strstr(s, "<status"))) {
			e = strstr(s, "</status>");
			e = e ? e + strlen("</status>") : s + strlen(s);
		} else if (!s) {
			s = e = "";
		}
		fprintf(the_fake.log, "cib_query %s opts=%s%s\n", sec ? sec : "-", opts ? opts : "-",
			bad ? " (wrong callid)" : "");
		if (asprintf(&reply, "<cib-reply t=\"cib\" cib_op=\"cib_query\" cib_callid=\"%s\" "
			     "cib_rc=\"0\"><cib_calldata>%.*s</cib_calldata></cib-reply>",
			     bad ? "999" : callid, (int)(e - s), s) < 0)
			exit(1);
	} else if (!strcmp(op, "cib_create") || !strcmp(op, "cib_delete")) {
		char *end = data ? strstr(data, "</cib_calldata>") : NULL;
		char *el = end ? strndup(data, (size_t)(end - data)) : NULL;
		int drop = !strcmp(op, "cib_create") &&
			   !strcmp(the_fake.mode, "store-dropcreate1") && the_fake.creates == 0;

		if (!el) {
			rc = -22;
		} else if (!strcmp(op, "cib_create")) {
			the_fake.creates++;
			rc = store_create(el);
		} else {
			store_delete(el);
		}
		free(el);
		fprintf(the_fake.log, "%s %s opts=%s rc=%d%s\n", op, sec ? sec : "-",
			opts ? opts : "-", rc, drop ? " (connection dropped)" : "");
		if (drop) {
			/* not from inside msg_process: libqb aborts */
			fflush(the_fake.log);
			qb_ipcs_connection_ref(conn);
			qb_loop_job_add(the_fake.loop, QB_LOOP_HIGH, conn, drop_job);
			goto out;
		}
		if (asprintf(&reply, "<cib-reply t=\"cib\" cib_op=\"%s\" cib_callid=\"%s\" "
			     "cib_rc=\"%d\"/>", op, callid, rc) < 0)
			exit(1);
	} else {
		fprintf(the_fake.log, "%s (not understood)\n", op);
		goto out;
	}
	fflush(the_fake.log);
	send_xml(conn, id, reply, 0);
out:
	fflush(the_fake.log);
	free(reply);
	free(op);
	free(sec);
	free(callid);
	free(opts);
}

static int32_t on_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	const struct bl_cib_ipc_hdr *h = data;
	const char *xml = (const char *)data + sizeof(*h);
	const char *mode = the_fake.mode;

	if (size <= sizeof(*h))
		return 0;
	if (the_fake.log) {
		if (strstr(xml, "cib_op=\"register\"")) {
			fprintf(the_fake.log, "register\n");
			fflush(the_fake.log);
			send_xml(c, h->qb.id, "<ack cib_op=\"register\" cib_clientid=\"fake-1\"/>", 0);
		} else {
			store_call(c, h->qb.id, xml);
		}
	} else if (strstr(xml, "cib_op=\"register\"")) {
		send_xml(c, h->qb.id, !strcmp(mode, "garbage")
			 ? "<nonsense cib_op=\"cib_query\"/>"
			 : "<ack cib_op=\"register\" cib_clientid=\"fake-1\"/>", 0);
	} else if (!strcmp(mode, "refuse")) {
		char *callid = attr_of(xml, "cib_callid"), *reply;

		if (asprintf(&reply, "<cib-reply t=\"cib\" cib_op=\"cib_create\" "
			     "cib_callid=\"%s\" cib_rc=\"-203\"/>", callid ? callid : "1") < 0)
			exit(1);
		send_xml(c, h->qb.id, reply, 0);
		free(reply);
		free(callid);
	} else if (!strcmp(mode, "big")) {
		char *big = big_answer();

		send_xml(c, h->qb.id, big, 0);
		free(big);
	} else {
		send_xml(c, h->qb.id, "<cib-reply t=\"cib\" cib_op=\"cib_query\" cib_callid=\"1\" "
			 "cib_rc=\"0\"><cib_calldata><cib fake=\"bz2\"/></cib_calldata></cib-reply>", 1);
	}
	return 0;
}

static int32_t on_closed(qb_ipcs_connection_t *c)
{
	return 0;
}

static void on_destroyed(qb_ipcs_connection_t *c)
{
}

/* libqb's IPC server runs on a poll loop through these four hooks. */
static qb_loop_t *the_loop(void)
{
	return the_fake.loop;
}

static int32_t job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(the_loop(), p, data, fn);
}

static int32_t dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events,
			    void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(the_loop(), p, fd, events, data, fn);
}

static int32_t dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events,
			    void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(the_loop(), p, fd, events, data, fn);
}

static int32_t dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(the_loop(), fd);
}

int main(int argc, char **argv)
{
	struct qb_ipcs_service_handlers sh = {
		.connection_accept = on_accept,
		.msg_process = on_msg,
		.connection_closed = on_closed,
		.connection_destroyed = on_destroyed,
	};
	struct qb_ipcs_poll_handlers ph = {
		.job_add = job_add,
		.dispatch_add = dispatch_add,
		.dispatch_mod = dispatch_mod,
		.dispatch_del = dispatch_del,
	};
	qb_ipcs_service_t *s;
	FILE *f;

	if (!strncmp(argv[1 < argc ? 1 : 0], "store", 5) ? argc != 5 : argc != 3) {
		fprintf(stderr, "usage: fake-cib garbage|bz2|refuse|nobody|big READY-FILE\n"
			"       fake-cib store|store-badquery1|store-dropcreate1 READY-FILE CIB-FILE LOG-FILE\n");
		return 2;
	}
	the_fake.mode = argv[1];
	if (argc == 5) {
		size_t n = 0;
		FILE *in = fopen(argv[3], "r");

		if (!in || getline(&the_fake.cib, &n, in) < 0) {
			fprintf(stderr, "fake-cib: cannot read %s\n", argv[3]);
			return 1;
		}
		fclose(in);
		the_fake.cib[strcspn(the_fake.cib, "\n")] = '\0';
		the_fake.log = fopen(argv[4], "a");
		if (!the_fake.log) {
			perror(argv[4]);
			return 1;
		}
	}
	if (!strcmp(argv[1], "nobody") && (setgid(65534) || setuid(65534))) {
		perror("fake-cib: setuid");
		return 1;
	}
	the_fake.loop = qb_loop_create();
	s = qb_ipcs_create("cib_rw", 0, QB_IPC_SHM, &sh);
	if (!the_fake.loop || !s) {
		fprintf(stderr, "fake-cib: cannot create the service\n");
		return 1;
	}
	if (!strcmp(argv[1], "big"))
		qb_ipcs_enforce_buffer_size(s, BIG_BUFFER);
	qb_ipcs_poll_handlers_set(s, &ph);
	if (qb_ipcs_run(s) != 0) {
		fprintf(stderr, "fake-cib: qb_ipcs_run failed\n");
		return 1;
	}
	f = fopen(argv[2], "w");
	if (!f)
		return 1;
	fclose(f);
	qb_loop_run(the_fake.loop);
	return 0;
}
