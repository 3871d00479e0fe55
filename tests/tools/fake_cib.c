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
 *       refuse   registration ok; the call is answered with cib_rc -203
 *                (schema validation failed);
 *       nobody   as bz2, but the server runs as uid/gid 65534: a client
 *                must not believe it;
 *       big      the service enforces a 1 MiB IPC buffer (as pacemaker-based
 *                does with PCMK_ipc_buffer=1048576) and answers the call
 *                uncompressed with a 600 KB <cib-reply> (based compresses
 *                only what does not fit its own buffer): a client must
 *                receive into the buffer size libqb negotiated, not the
 *                one it asked for.
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

static int32_t on_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	const struct bl_cib_ipc_hdr *h = data;
	const char *xml = (const char *)data + sizeof(*h);
	const char *mode = the_fake.mode;

	if (size <= sizeof(*h))
		return 0;
	if (strstr(xml, "cib_op=\"register\"")) {
		send_xml(c, h->qb.id, !strcmp(mode, "garbage")
			 ? "<nonsense cib_op=\"cib_query\"/>"
			 : "<ack cib_op=\"register\" cib_clientid=\"fake-1\"/>", 0);
	} else if (!strcmp(mode, "refuse")) {
		send_xml(c, h->qb.id, "<cib-reply t=\"cib\" cib_op=\"cib_create\" "
			 "cib_callid=\"1\" cib_rc=\"-203\"/>", 0);
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

	if (argc != 3) {
		fprintf(stderr, "usage: fake-cib garbage|bz2|refuse|nobody|big READY-FILE\n");
		return 2;
	}
	the_fake.mode = argv[1];
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
