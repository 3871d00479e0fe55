/*
 * test_iscsi_conn.c - the iSCSI transport driven through its public entry
 * points (bt_conn_new / bt_conn_rx / bt_conn_closed) against the real
 * engine.c object model, with a fake host (captures what the engine sends)
 * and a fake SCSI layer (a RAM disk). Covers PDU framing (split input,
 * padding, digests, bad lengths), login negotiation and status classes,
 * CHAP with a challenge/response computed here, discovery and SendTargets,
 * Data-In / R2T / Data-Out, residuals, the CmdSN window, sessions per
 * initiator and reinstatement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iscsi_int.h"
#include "md5.h"

#define TIQN "iqn.2026-01.io.bollard.test:unit"
#define IIQN "iqn.2026-01.io.bollard.test:init"
#define DISK_SIZE (1 << 20)

/* ---- fake host ------------------------------------------------------------ */

struct fconn {
	u8 out[1 << 20];
	size_t len, rd;               /* bytes sent by the engine / consumed */
	bool closed;                  /* conn_close was called              */
	struct bt_conn *c;
};

struct fhost {
	struct bt_engine *e;
	u8 disk[DISK_SIZE];
	unsigned nexus_live;
	u32 resid_extra;              /* fake SCSI: xfer_len = exp + this     */
};

static int f_send(void *host, void *hc, const struct bt_iov *iov, unsigned n)
{
	struct fconn *fc = hc;
	unsigned i;

	(void)host;
	for (i = 0; i < n; i++) {
		assert_true(fc->len + iov[i].len <= sizeof(fc->out));
		memcpy(fc->out + fc->len, iov[i].base, iov[i].len);
		fc->len += iov[i].len;
	}
	return 0;
}

static void f_close(void *host, void *hc)
{
	(void)host;
	((struct fconn *)hc)->closed = true;
}

static int f_bdev_open(void *host, const char *path, u32 flags,
		       struct bt_bdev **out, u64 *size)
{
	(void)host; (void)path; (void)flags;
	*out = (struct bt_bdev *)(uintptr_t)1;
	*size = DISK_SIZE;
	return 0;
}

static void f_bdev_close(void *host, struct bt_bdev *b) { (void)host; (void)b; }
static void f_bdev_submit(void *host, struct bt_bdev *b, struct bt_io *io)
{
	(void)host; (void)b;
	io->result = 0;
	io->done(io);
}

static const struct bt_host_ops fops = {
	.bdev_open = f_bdev_open,
	.bdev_close = f_bdev_close,
	.bdev_submit = f_bdev_submit,
	.conn_send = f_send,
	.conn_close = f_close,
};

/* ---- bt_os.h stand-ins ---------------------------------------------------- */
void *bt_alloc(bt_size_t n) { return malloc(n ? n : 1); }
void *bt_zalloc(bt_size_t n) { return calloc(1, n ? n : 1); }
void *bt_realloc(void *p, bt_size_t n) { return realloc(p, n ? n : 1); }
void bt_free(void *p) { free(p); }
int bt_snprintf(char *buf, bt_size_t n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return rc;
}
u64 bt_now_ms(void) { return 1000; }
/* Deterministic "random": the CHAP test reads the challenge off the wire. */
void bt_random(void *buf, bt_size_t n)
{
	u8 *p = buf;
	bt_size_t i;

	for (i = 0; i < n; i++)
		p[i] = (u8)(0x40 + i);
}
void bt_log(int level, const char *fmt, ...) { (void)level; (void)fmt; }

/* ---- fake SCSI layer (RAM disk) ------------------------------------------- */

struct bt_lu { int dummy; };

int bt_lu_create(struct bt_engine *e, const struct bt_lun_cfg *cfg,
		 const char *fallback_uid, struct bt_lu **out)
{
	(void)e; (void)cfg; (void)fallback_uid;
	*out = calloc(1, sizeof(**out));
	return 0;
}
void bt_lu_destroy(struct bt_lu *lu) { free(lu); }
void bt_scsi_luns_changed(struct bt_target *t) { (void)t; }

int bt_scsi_nexus_add(struct bt_nexus *n)
{
	struct fhost *h = bt_engine_host(bt_target_engine(n->target));

	h->nexus_live++;
	return 0;
}

void bt_scsi_nexus_del(struct bt_nexus *n)
{
	struct fhost *h = bt_engine_host(bt_target_engine(n->target));

	h->nexus_live--;
}

void bt_scsi_submit(struct bt_cmd *cmd)
{
	struct fhost *h = bt_engine_host(bt_target_engine(cmd->target));
	u32 lba = bt_get_be32(cmd->cdb + 2);
	u32 n = bt_get_be16(cmd->cdb + 7) * 512u;

	cmd->status = BT_SAM_GOOD;
	switch (cmd->cdb[0]) {
	case 0x28:                        /* READ(10)                          */
		cmd->xfer_len = n + h->resid_extra;
		cmd->in = malloc(n ? n : 1);
		memcpy(cmd->in, h->disk + lba * 512u, n);
		cmd->in_len = n;
		break;
	case 0x2a:                        /* WRITE(10)                         */
		cmd->xfer_len = n;
		memcpy(h->disk + lba * 512u, cmd->out, BT_MIN(n, cmd->out_len));
		break;
	default:                          /* anything else: CHECK CONDITION    */
		cmd->status = BT_SAM_CHECK_CONDITION;
		cmd->sense[0] = 0x70;
		cmd->sense[2] = 0x05;
		cmd->sense[7] = 10;
		cmd->sense[12] = 0x20;
		cmd->sense_len = 18;
		break;
	}
	cmd->done(cmd);
}

void bt_cmd_release(struct bt_cmd *cmd)
{
	free(cmd->in);
	cmd->in = NULL;
}

int bt_scsi_tmf(struct bt_nexus *n, enum bt_tmf fn, u64 lun, u32 ref_tag)
{
	(void)n; (void)fn; (void)lun; (void)ref_tag;
	return 0;
}

/* ---- PDU helpers ------------------------------------------------------------ */

struct pdu {
	u8 bhs[48];
	u8 data[1 << 16];
	u32 dlen;
};

struct ctx {
	struct fhost *h;
	struct fconn fc;
	bool hd, dd;                  /* digests in effect (both directions) */
	u32 cmdsn;
	struct bt_crc32c crc;
};

static void feed(struct ctx *x, const void *buf, size_t n, bool bytewise)
{
	size_t i;

	if (!bytewise) {
		bt_conn_rx(x->fc.c, buf, n);
		return;
	}
	for (i = 0; i < n && !x->fc.closed; i++)
		bt_conn_rx(x->fc.c, (const u8 *)buf + i, 1);
}

static void send_pdu(struct ctx *x, u8 *bhs, const void *data, u32 len,
		     bool bytewise)
{
	u8 buf[48 + 4 + (1 << 16) + 8];
	size_t n = 0;
	u32 pad = (4 - (len & 3)) & 3;

	bt_put_be24(bhs + 5, len);
	memcpy(buf, bhs, 48);
	n = 48;
	if (x->hd) {
		bt_put_le32(buf + n, bt_crc32c(&x->crc, bhs, 48));
		n += 4;
	}
	if (len) {
		memcpy(buf + n, data, len);
		memset(buf + n + len, 0, pad);
		n += len + pad;
		if (x->dd) {
			bt_put_le32(buf + n, bt_crc32c(&x->crc, buf + n - len - pad, len + pad));
			n += 4;
		}
	}
	feed(x, buf, n, bytewise);
}

/* Next PDU the engine sent; false if none left. */
static bool recv_pdu(struct ctx *x, struct pdu *p)
{
	struct fconn *fc = &x->fc;
	u32 pad;

	if (fc->len - fc->rd < 48)
		return false;
	memcpy(p->bhs, fc->out + fc->rd, 48);
	fc->rd += 48;
	if (x->hd) {
		assert_int_equal(bt_get_le32(fc->out + fc->rd), bt_crc32c(&x->crc, p->bhs, 48));
		fc->rd += 4;
	}
	p->dlen = bt_get_be24(p->bhs + 5);
	pad = (4 - (p->dlen & 3)) & 3;
	assert_true(fc->rd + p->dlen + pad <= fc->len);
	memcpy(p->data, fc->out + fc->rd, p->dlen);
	fc->rd += p->dlen + pad;
	if (x->dd && p->dlen) {
		assert_int_equal(bt_get_le32(fc->out + fc->rd),
				 bt_crc32c(&x->crc, fc->out + fc->rd - p->dlen - pad,
					   p->dlen + pad));
		fc->rd += 4;
	}
	return true;
}

/* Value of key in a text segment, or NULL. */
static const char *key_of(const struct pdu *p, const char *key)
{
	static char val[1024];
	u32 pos = 0;
	size_t kl = strlen(key);

	while (pos < p->dlen) {
		const char *s = (const char *)p->data + pos;
		size_t l = strnlen(s, p->dlen - pos);

		if (l > kl && !strncmp(s, key, kl) && s[kl] == '=') {
			snprintf(val, sizeof(val), "%.*s", (int)(l - kl - 1), s + kl + 1);
			return val;
		}
		pos += (u32)l + 1;
	}
	return NULL;
}

static struct ctx *ctx_new(struct fhost *h)
{
	struct ctx *x = calloc(1, sizeof(*x));

	x->h = h;
	bt_crc32c_init(&x->crc);
	x->fc.c = bt_conn_new(h->e, &x->fc, "127.0.0.1:3260", "127.0.0.1:40000");
	assert_non_null(x->fc.c);
	x->cmdsn = 1;
	return x;
}

static void ctx_free(struct ctx *x)
{
	bt_conn_closed(x->fc.c);
	free(x);
}

static void login_bhs(u8 *b, int csg, int nsg, bool t, u8 isid_last, u16 tsih)
{
	memset(b, 0, 48);
	b[0] = 0x43;
	b[1] = (u8)((t ? 0x80 : 0) | csg << 2 | (t ? nsg : 0));
	b[8] = 0x80;
	b[13] = isid_last;
	bt_put_be16(b + 14, tsih);
	bt_put_be32(b + 16, 0x77);
	bt_put_be32(b + 24, 1);
}

/* text "a=b\0c=d\0" from a list of strings */
static u32 mktext(u8 *buf, const char *const *kv)
{
	u32 n = 0;

	for (; *kv; kv++) {
		size_t l = strlen(*kv) + 1;

		memcpy(buf + n, *kv, l);
		n += (u32)l;
	}
	return n;
}

/* One-PDU login straight to full feature; returns the login status. */
static int login(struct ctx *x, const char *const *kv, u8 isid_last,
		 struct pdu *rsp)
{
	u8 b[48], text[4096];
	u32 n = mktext(text, kv);

	login_bhs(b, 1, 3, true, isid_last, 0);
	send_pdu(x, b, text, n, false);
	assert_true(recv_pdu(x, rsp));
	assert_int_equal(rsp->bhs[0], 0x23);
	return rsp->bhs[36] << 8 | rsp->bhs[37];
}

static const char *const std_keys[] = {
	"InitiatorName=" IIQN, "TargetName=" TIQN, "SessionType=Normal",
	"HeaderDigest=None", "DataDigest=None", "MaxRecvDataSegmentLength=4096",
	"InitialR2T=Yes", "ImmediateData=No", "MaxBurstLength=8192",
	"FirstBurstLength=4096", "MaxOutstandingR2T=1", NULL,
};

static int setup(void **state)
{
	struct fhost *h = calloc(1, sizeof(*h));
	struct bt_lun_cfg lc = { .path = "/ram" };

	h->e = bt_engine_new(&fops, h);
	assert_non_null(h->e);
	assert_int_equal(bt_target_add(h->e, TIQN), 0);
	assert_int_equal(bt_lun_add(h->e, TIQN, 0, &lc), 0);
	assert_int_equal(bt_acl_add(h->e, TIQN, "*", NULL), 0);
	assert_int_equal(bt_target_enable(h->e, TIQN, true), 0);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct fhost *h = *state;

	bt_engine_free(h->e);
	assert_int_equal(h->nexus_live, 0);
	free(h);
	return 0;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_login_bytewise_and_keys(void **state)
{
	struct ctx *x = ctx_new(*state);
	const char *const kv[] = {
		"InitiatorName=" IIQN, "TargetName=" TIQN, "HeaderDigest=CRC32C,None",
		"MaxRecvDataSegmentLength=4096", "X-com.example.Frob=1", "MaxConnections=4",
		NULL,
	};
	u8 b[48], text[1024];
	struct pdu p;
	u32 n = mktext(text, kv);

	login_bhs(b, 1, 3, true, 1, 0);
	send_pdu(x, b, text, n, true);           /* one byte at a time        */
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x23);
	assert_int_equal(p.bhs[36], 0);
	assert_int_equal(p.bhs[1], 0x80 | 1 << 2 | 3);
	assert_int_not_equal(bt_get_be16(p.bhs + 14), 0);   /* TSIH assigned */
	assert_int_equal(bt_get_be32(p.bhs + 16), 0x77);     /* ITT echoed     */
	assert_string_equal(key_of(&p, "HeaderDigest"), "CRC32C");
	assert_string_equal(key_of(&p, "MaxRecvDataSegmentLength"), "262144");
	assert_string_equal(key_of(&p, "X-com.example.Frob"), "NotUnderstood");
	assert_string_equal(key_of(&p, "MaxConnections"), "1");
	assert_string_equal(key_of(&p, "TargetPortalGroupTag"), "1");
	assert_false(x->fc.closed);

	/* Header digest now in force: a good NOP is answered, data padded. */
	x->hd = true;
	memset(b, 0, 48);
	b[0] = 0x40;                             /* immediate NOP-Out         */
	b[1] = 0x80;
	bt_put_be32(b + 16, 5);
	bt_put_be32(b + 20, 0xffffffff);
	bt_put_be32(b + 24, 1);
	send_pdu(x, b, "abcde", 5, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x20);
	assert_int_equal(p.dlen, 5);
	assert_memory_equal(p.data, "abcde", 5);
	/* A header digest error ends the connection. */
	x->hd = false;
	memset(b, 0, 48);
	b[0] = 0x40;
	b[1] = 0x80;
	bt_put_be24(b + 5, 0);
	feed(x, b, 48, false);
	feed(x, "\x01\x02\x03\x04", 4, false);
	assert_true(x->fc.closed);
	ctx_free(x);
}

static void test_login_status_classes(void **state)
{
	struct fhost *h = *state;
	struct pdu p;
	struct ctx *x;
	const char *const nf[] = { "InitiatorName=" IIQN, "TargetName=iqn.nope:x", NULL };
	const char *const ni[] = { "TargetName=" TIQN, NULL };
	const char *const bad_type[] = { "InitiatorName=" IIQN, "SessionType=Weird", NULL };

	x = ctx_new(h);
	assert_int_equal(login(x, nf, 1, &p), ISCSI_LOGIN_NOT_FOUND);
	assert_true(x->fc.closed);
	ctx_free(x);

	x = ctx_new(h);
	assert_int_equal(login(x, ni, 1, &p), ISCSI_LOGIN_MISSING_PARAM);
	ctx_free(x);

	x = ctx_new(h);
	assert_int_equal(login(x, bad_type, 1, &p), ISCSI_LOGIN_BAD_SESSION_TYPE);
	ctx_free(x);

	/* ACL: only one initiator admitted. */
	assert_int_equal(bt_acl_del(h->e, TIQN, "*"), 0);
	assert_int_equal(bt_acl_add(h->e, TIQN, "iqn.2026-01.other:x", NULL), 0);
	x = ctx_new(h);
	assert_int_equal(login(x, std_keys, 1, &p), ISCSI_LOGIN_NOT_AUTHORIZED);
	ctx_free(x);

	/* A disabled target is not found. */
	assert_int_equal(bt_acl_add(h->e, TIQN, "*", NULL), 0);
	assert_int_equal(bt_target_enable(h->e, TIQN, false), 0);
	x = ctx_new(h);
	assert_int_equal(login(x, std_keys, 1, &p), ISCSI_LOGIN_NOT_FOUND);
	ctx_free(x);
	assert_int_equal(bt_target_enable(h->e, TIQN, true), 0);
}

static void test_bad_phase_and_lengths(void **state)
{
	struct fhost *h = *state;
	struct ctx *x;
	struct pdu p;
	u8 b[48];

	/* Not a login before login: dropped. */
	x = ctx_new(h);
	memset(b, 0, 48);
	b[0] = 0x01;
	send_pdu(x, b, NULL, 0, false);
	assert_true(x->fc.closed);
	ctx_free(x);

	/* A login segment over 8192 bytes: dropped at the header. */
	x = ctx_new(h);
	login_bhs(b, 1, 3, true, 1, 0);
	bt_put_be24(b + 5, 9000);
	feed(x, b, 48, false);
	assert_true(x->fc.closed);
	ctx_free(x);

	/* Login again in full feature phase: Reject, dropped. */
	x = ctx_new(h);
	assert_int_equal(login(x, std_keys, 1, &p), 0);
	login_bhs(b, 1, 3, true, 1, 0);
	send_pdu(x, b, NULL, 0, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x3f);
	assert_int_equal(p.bhs[2], ISCSI_REJ_PROTOCOL);
	assert_true(x->fc.closed);
	ctx_free(x);

	/* Unknown opcode: Reject, the connection lives. */
	x = ctx_new(h);
	assert_int_equal(login(x, std_keys, 1, &p), 0);
	memset(b, 0, 48);
	b[0] = 0x1e;
	send_pdu(x, b, NULL, 0, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x3f);
	assert_int_equal(p.bhs[2], ISCSI_REJ_CMD_NOT_SUPP);
	assert_false(x->fc.closed);
	/* Over MaxRecvDataSegmentLength in full feature phase: dropped. */
	memset(b, 0, 48);
	b[0] = 0x40;
	bt_put_be24(b + 5, ISCSI_OUR_MAX_RECV_DSL + 4);
	feed(x, b, 48, false);
	assert_true(x->fc.closed);
	ctx_free(x);

	/* Wrong CSG (security stage expected to continue at 0, got 3). */
	x = ctx_new(h);
	login_bhs(b, 3, 3, true, 1, 0);
	send_pdu(x, b, NULL, 0, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[36], 2);           /* initiator error class  */
	assert_true(x->fc.closed);
	ctx_free(x);
}

static void chap_login(struct fhost *h, const char *secret, int want_status,
		       bool skip_security)
{
	struct ctx *x = ctx_new(h);
	const char *const k1[] = { "InitiatorName=" IIQN, "TargetName=" TIQN,
				   "AuthMethod=CHAP,None", NULL };
	const char *const k2[] = { "CHAP_A=7,5", NULL };
	u8 b[48], text[1024], chal[64], resp[16], id;
	char kv1[128], kv2[128];
	struct pdu p;
	u32 clen, n;
	u64 v;

	if (skip_security) {
		assert_int_equal(login(x, std_keys, 1, &p), want_status);
		ctx_free(x);
		return;
	}
	login_bhs(b, 0, 1, false, 1, 0);
	send_pdu(x, b, text, mktext(text, k1), false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[36], 0);
	assert_string_equal(key_of(&p, "AuthMethod"), "CHAP");
	login_bhs(b, 0, 1, false, 1, 0);
	send_pdu(x, b, text, mktext(text, k2), false);
	assert_true(recv_pdu(x, &p));
	assert_string_equal(key_of(&p, "CHAP_A"), "5");
	assert_int_equal(iscsi_val_num(key_of(&p, "CHAP_I"), 255, &v), 0);
	id = (u8)v;
	assert_int_equal(iscsi_val_bin(key_of(&p, "CHAP_C"), chal, sizeof(chal), &clen), 0);
	assert_int_equal(clen, 16);
	/* The response computed here, independently of the target's verify. */
	{
		struct bt_md5 m;

		bt_md5_init(&m);
		bt_md5_update(&m, &id, 1);
		bt_md5_update(&m, secret, strlen(secret));
		bt_md5_update(&m, chal, clen);
		bt_md5_final(&m, resp);
	}
	snprintf(kv1, sizeof(kv1), "CHAP_N=alice");
	strcpy(kv2, "CHAP_R=");
	iscsi_val_hex(resp, 16, kv2 + 7);
	{
		const char *const k3[] = { kv1, kv2, NULL };

		login_bhs(b, 0, 1, true, 1, 0);
		n = mktext(text, k3);
		send_pdu(x, b, text, n, false);
	}
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[36] << 8 | p.bhs[37], want_status);
	if (want_status == 0) {
		assert_int_equal(p.bhs[1], 0x80 | 0 << 2 | 1);   /* to op stage */
		login_bhs(b, 1, 3, true, 1, 0);
		send_pdu(x, b, NULL, 0, false);
		assert_true(recv_pdu(x, &p));
		assert_int_equal(p.bhs[36], 0);
		assert_int_equal(p.bhs[1] & 0x83, 0x83);
	} else {
		assert_true(x->fc.closed);
	}
	ctx_free(x);
}

static void test_chap(void **state)
{
	struct fhost *h = *state;
	struct bt_chap chap = { "alice", "alicesecret0123" };

	assert_int_equal(bt_auth_set(h->e, TIQN, &chap, NULL), 0);
	chap_login(h, "alicesecret0123", 0, false);
	chap_login(h, "wrongsecret9999", ISCSI_LOGIN_AUTH_FAILED, false);
	chap_login(h, NULL, ISCSI_LOGIN_AUTH_FAILED, true);   /* skip stage 0 */
	assert_int_equal(bt_auth_set(h->e, TIQN, NULL, NULL), 0);
}

static void test_discovery_sendtargets(void **state)
{
	struct ctx *x = ctx_new(*state);
	const char *const kv[] = { "InitiatorName=" IIQN, "SessionType=Discovery",
				   "MaxBurstLength=4096", NULL };
	u8 b[48];
	struct pdu p;

	assert_int_equal(login(x, kv, 1, &p), 0);
	assert_string_equal(key_of(&p, "MaxBurstLength"), "Irrelevant");
	assert_null(key_of(&p, "TargetPortalGroupTag"));
	memset(b, 0, 48);
	b[0] = 0x04;
	b[1] = 0x80;
	bt_put_be32(b + 16, 9);
	bt_put_be32(b + 20, 0xffffffff);
	bt_put_be32(b + 24, 1);
	send_pdu(x, b, "SendTargets=All", 16, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x24);
	assert_int_equal(p.bhs[1], 0x80);
	assert_string_equal(key_of(&p, "TargetName"), TIQN);
	assert_string_equal(key_of(&p, "TargetAddress"), "127.0.0.1:3260,1");

	/* Many targets: the answer exceeds MaxRecvDataSegmentLength (8192 by
	 * default) and comes in pieces (C bit), each fetched with an empty
	 * Text Request carrying the target's TTT. */
	{
		struct fhost *h = *state;
		static u8 all[1 << 20];
		u32 total = 0, pieces = 0, names = 0, i;
		char iqn[64];

		for (i = 0; i < 1500; i++) {
			snprintf(iqn, sizeof(iqn), "iqn.2026-01.io.bollard.test:many%04u", i);
			assert_int_equal(bt_target_add(h->e, iqn), 0);
			assert_int_equal(bt_acl_add(h->e, iqn, "*", NULL), 0);
			assert_int_equal(bt_target_enable(h->e, iqn, true), 0);
		}
		bt_put_be32(b + 24, 2);
		send_pdu(x, b, "SendTargets=All", 16, false);
		for (;;) {
			assert_true(recv_pdu(x, &p));
			assert_int_equal(p.bhs[0], 0x24);
			assert_true(p.dlen <= 8192);
			memcpy(all + total, p.data, p.dlen);
			total += p.dlen;
			pieces++;
			if (p.bhs[1] & 0x80)
				break;
			assert_int_equal(p.bhs[1] & 0x40, 0x40);
			memset(b, 0, 48);
			b[0] = 0x44;                    /* immediate Text Request */
			b[1] = 0x80;
			bt_put_be32(b + 16, 10);
			memcpy(b + 20, p.bhs + 20, 4);  /* the target's TTT      */
			bt_put_be32(b + 24, 3);
			send_pdu(x, b, NULL, 0, false);
		}
		for (i = 0; i + 11 < total; i++)
			if (!memcmp(all + i, "TargetName=", 11))
				names++;
		assert_int_equal(names, 1501);
		assert_true(pieces > 1);
	}
	ctx_free(x);
}

static void scsi_cmd(struct ctx *x, u8 op, u32 lba, u16 blocks, u32 edtl,
		     u32 itt, bool rd, bool wr)
{
	u8 b[48];

	memset(b, 0, 48);
	b[0] = 0x01;
	b[1] = (u8)(0x80 | (rd ? 0x40 : 0) | (wr ? 0x20 : 0) | 1);
	bt_put_be32(b + 16, itt);
	bt_put_be32(b + 20, edtl);
	bt_put_be32(b + 24, x->cmdsn++);
	b[32] = op;
	bt_put_be32(b + 34, lba);
	bt_put_be16(b + 39, blocks);
	send_pdu(x, b, NULL, 0, false);
}

static void test_read_write_r2t(void **state)
{
	struct fhost *h = *state;
	struct ctx *x = ctx_new(h);
	u8 wbuf[16384], b[48];
	struct pdu p;
	u32 off, i, datasn = 0;

	assert_int_equal(login(x, std_keys, 1, &p), 0);
	for (i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (u8)(i * 13 + 1);

	/* WRITE 32 blocks, InitialR2T=Yes, MaxBurstLength 8192, one R2T at a
	 * time: R2T(0, 8192), Data-Out x2 (MRDSL 4096), R2T(8192, 8192) ... */
	scsi_cmd(x, 0x2a, 10, 32, 16384, 0x100, false, true);
	for (off = 0; off < 16384; off += 8192) {
		assert_true(recv_pdu(x, &p));
		assert_int_equal(p.bhs[0], 0x31);
		assert_int_equal(bt_get_be32(p.bhs + 36), off / 8192);   /* R2TSN */
		assert_int_equal(bt_get_be32(p.bhs + 40), off);
		assert_int_equal(bt_get_be32(p.bhs + 44), 8192);
		for (i = 0; i < 2; i++) {
			memset(b, 0, 48);
			b[0] = 0x05;
			b[1] = i == 1 ? 0x80 : 0;
			bt_put_be32(b + 16, 0x100);
			memcpy(b + 20, p.bhs + 20, 4);           /* TTT */
			bt_put_be32(b + 36, i);
			bt_put_be32(b + 40, off + i * 4096);
			send_pdu(x, b, wbuf + off + i * 4096, 4096, false);
		}
	}
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x21);
	assert_int_equal(p.bhs[3], 0);
	assert_int_equal(p.bhs[1], 0x80);                /* no residual      */
	assert_memory_equal(h->disk + 10 * 512, wbuf, 16384);

	/* READ 16 blocks back: Data-In in 4096-byte PDUs, DataSN 0.., status
	 * folded into the last one (S), F at each 8192-byte burst end. */
	scsi_cmd(x, 0x28, 10, 16, 8192, 0x101, true, false);
	for (off = 0; off < 8192; off += 4096) {
		assert_true(recv_pdu(x, &p));
		assert_int_equal(p.bhs[0], 0x25);
		assert_int_equal(bt_get_be32(p.bhs + 36), datasn++);
		assert_int_equal(bt_get_be32(p.bhs + 40), off);
		assert_int_equal(p.dlen, 4096);
		assert_memory_equal(p.data, wbuf + off, 4096);
	}
	assert_int_equal(p.bhs[1], 0x80 | 0x01);
	assert_false(recv_pdu(x, &p));

	/* Overflow: the command moves more than EDTL (fake adds 512). */
	h->resid_extra = 512;
	scsi_cmd(x, 0x28, 0, 1, 512, 0x102, true, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[1], 0x80 | 0x04 | 0x01);  /* F O S            */
	assert_int_equal(bt_get_be32(p.bhs + 44), 512);
	h->resid_extra = 0;
	/* Underflow: EDTL larger than the command's transfer. */
	scsi_cmd(x, 0x28, 0, 1, 2048, 0x103, true, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[1], 0x80 | 0x02 | 0x01);  /* F U S            */
	assert_int_equal(bt_get_be32(p.bhs + 44), 1536);
	assert_int_equal(p.dlen, 512);

	/* CHECK CONDITION: SCSI Response with the sense, 2-byte length first. */
	scsi_cmd(x, 0x99, 0, 0, 0, 0x104, false, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x21);
	assert_int_equal(p.bhs[3], BT_SAM_CHECK_CONDITION);
	assert_int_equal(p.dlen, 20);
	assert_int_equal(bt_get_be16(p.data), 18);
	assert_int_equal(p.data[2 + 2], 0x05);

	/* Bad DataSN on a solicited Data-Out: that command fails with
	 * ABORTED COMMAND, the connection stays. */
	scsi_cmd(x, 0x2a, 0, 16, 8192, 0x105, false, true);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x31);
	memset(b, 0, 48);
	b[0] = 0x05;
	bt_put_be32(b + 16, 0x105);
	memcpy(b + 20, p.bhs + 20, 4);
	bt_put_be32(b + 36, 1);                          /* should be 0      */
	send_pdu(x, b, wbuf, 4096, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x21);
	assert_int_equal(p.bhs[3], BT_SAM_CHECK_CONDITION);
	assert_int_equal(p.data[2 + 2], 0x0b);
	assert_false(x->fc.closed);
	ctx_free(x);
}

static void test_cmdsn_window(void **state)
{
	struct ctx *x = ctx_new(*state);
	struct pdu p;
	u32 exp, max;

	assert_int_equal(login(x, std_keys, 1, &p), 0);
	exp = bt_get_be32(p.bhs + 28);
	max = bt_get_be32(p.bhs + 32);
	assert_int_equal(exp, 1);
	assert_true(sn_lt(exp, max));
	x->cmdsn = max + 1;                               /* beyond MaxCmdSN */
	scsi_cmd(x, 0x28, 0, 1, 512, 1, true, false);
	assert_false(recv_pdu(x, &p));
	x->cmdsn = exp - 1;                               /* below ExpCmdSN  */
	scsi_cmd(x, 0x28, 0, 1, 512, 2, true, false);
	assert_false(recv_pdu(x, &p));
	x->cmdsn = exp;
	scsi_cmd(x, 0x28, 0, 1, 512, 3, true, false);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(bt_get_be32(p.bhs + 16), 3);
	assert_int_equal(bt_get_be32(p.bhs + 28), exp + 1);
	/* A live task (a WRITE waiting for its data) takes one slot of the
	 * window: its R2T shows MaxCmdSN one lower than an idle session. */
	scsi_cmd(x, 0x2a, 0, 1, 512, 4, false, true);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x31);
	assert_int_equal(bt_get_be32(p.bhs + 28), exp + 2);
	assert_int_equal(bt_get_be32(p.bhs + 32), exp + 2 + ISCSI_CMD_WINDOW - 2);
	ctx_free(x);
}

static void test_sessions_per_initiator(void **state)
{
	struct fhost *h = *state;
	struct ctx *a = ctx_new(h), *b = ctx_new(h), *c = ctx_new(h), *d;
	struct pdu p;

	assert_int_equal(login(a, std_keys, 1, &p), 0);
	assert_int_equal(login(b, std_keys, 2, &p), 0);
	assert_int_equal(login(c, std_keys, 3, &p), ISCSI_LOGIN_NO_RESOURCES);
	assert_int_equal(bt_iscsi_target_nsessions(bt_target_find(h->e, TIQN)), 2);
	/* Same ISID as a: reinstatement, a is dropped, still two sessions. */
	d = ctx_new(h);
	assert_int_equal(login(d, std_keys, 1, &p), 0);
	assert_true(a->fc.closed);
	assert_false(b->fc.closed);
	ctx_free(a);
	assert_int_equal(bt_iscsi_target_nsessions(bt_target_find(h->e, TIQN)), 2);
	assert_int_equal(h->nexus_live, 2);
	/* Limit 3: a third ISID is fine. */
	assert_int_equal(bt_target_set_attr(h->e, TIQN, BT_TA_MAX_SESSIONS_PER_INITIATOR, 3), 0);
	ctx_free(c);
	c = ctx_new(h);
	assert_int_equal(login(c, std_keys, 3, &p), 0);
	ctx_free(b);
	ctx_free(c);
	ctx_free(d);
	assert_int_equal(h->nexus_live, 0);
}

static void test_nop_ping_and_shutdown(void **state)
{
	struct fhost *h = *state;
	struct ctx *x = ctx_new(h);
	struct pdu p;

	assert_int_equal(login(x, std_keys, 1, &p), 0);
	assert_int_equal(bt_target_set_attr(h->e, TIQN, BT_TA_NOP_INTERVAL_MS, 1000), 0);
	assert_int_equal(bt_target_set_attr(h->e, TIQN, BT_TA_NOP_TIMEOUT_MS, 3000), 0);
	bt_engine_tick(h->e, 1500);                       /* idle 500 ms     */
	assert_false(recv_pdu(x, &p));
	bt_engine_tick(h->e, 2100);                       /* idle > 1 s      */
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x20);
	assert_int_equal(bt_get_be32(p.bhs + 16), 0xffffffff);
	assert_int_not_equal(bt_get_be32(p.bhs + 20), 0xffffffff);
	bt_engine_tick(h->e, 4000);
	assert_false(x->fc.closed);
	bt_engine_tick(h->e, 5200);                       /* unanswered 3 s  */
	assert_true(x->fc.closed);
	ctx_free(x);

	x = ctx_new(h);
	assert_int_equal(bt_target_set_attr(h->e, TIQN, BT_TA_NOP_INTERVAL_MS, 0), 0);
	assert_int_equal(login(x, std_keys, 1, &p), 0);
	bt_engine_shutdown(h->e);
	assert_true(recv_pdu(x, &p));
	assert_int_equal(p.bhs[0], 0x32);                 /* Async Message   */
	assert_int_equal(p.bhs[36], 1);                   /* logout request  */
	ctx_free(x);
}

static void test_target_deleted_under_session(void **state)
{
	struct fhost *h = *state;
	struct ctx *x = ctx_new(h), *y = ctx_new(h);
	struct pdu p;
	u8 b[48];

	assert_int_equal(login(x, std_keys, 1, &p), 0);
	assert_int_equal(login(y, std_keys, 2, &p), 0);
	/* y logs out: its session is dropped but its socket not yet gone. */
	memset(b, 0, 48);
	b[0] = 0x46;
	b[1] = 0x80;
	bt_put_be32(b + 16, 0x55);
	bt_put_be32(b + 24, 1);
	send_pdu(y, b, NULL, 0, false);
	assert_true(recv_pdu(y, &p));
	assert_int_equal(p.bhs[0], 0x26);
	assert_true(y->fc.closed);
	assert_int_equal(bt_target_del(h->e, TIQN, false), BT_E_IN_USE);
	assert_int_equal(bt_target_del(h->e, TIQN, true), 0);
	assert_true(x->fc.closed);
	/* Both nexuses are gone with the target; closing the sockets
	 * afterwards touches nothing of it (ASan checks this). */
	assert_int_equal(h->nexus_live, 0);
	ctx_free(x);
	ctx_free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_bytewise_and_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_status_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_phase_and_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_sendtargets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write_r2t, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdsn_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions_per_initiator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nop_ping_and_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_deleted_under_session, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
