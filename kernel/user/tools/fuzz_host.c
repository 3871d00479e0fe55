/*
 * fuzz_host.c - a minimal in-memory host for the libFuzzer targets in
 * tests/fuzz (fuzz_pdu.c, fuzz_login.c): bt_os.h over libc, RAM-backed
 * LUNs completing synchronously, sends discarded (counted), closes
 * recorded. One engine per process with two targets:
 *   FUZZ_TIQN       any initiator, LUN 0 (1 MiB RAM)
 *   FUZZ_TIQN_CHAP  CHAP user "u" secret "secretsecret"
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_engine.h"
#include "fuzz_host.h"

#define RAM_SIZE (1 << 20)

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
static u64 fake_now = 1000;
u64 bt_now_ms(void) { return fake_now; }
void bt_random(void *buf, bt_size_t n) { memset(buf, 0x5a, n); }
void bt_log(int level, const char *fmt, ...) { (void)level; (void)fmt; }

struct bt_bdev { u8 *mem; };

static int h_open(void *host, const char *path, u32 flags, struct bt_bdev **out,
		  u64 *size)
{
	struct bt_bdev *b = calloc(1, sizeof(*b));

	(void)host; (void)path; (void)flags;
	b->mem = calloc(1, RAM_SIZE);
	*out = b;
	*size = RAM_SIZE;
	return 0;
}

static void h_close(void *host, struct bt_bdev *b)
{
	(void)host;
	free(b->mem);
	free(b);
}

static void h_submit(void *host, struct bt_bdev *b, struct bt_io *io)
{
	(void)host;
	io->result = 0;
	if (io->offset > RAM_SIZE || io->len > RAM_SIZE - io->offset) {
		io->result = -BT_EIO;
	} else if (io->op == BT_IO_READ) {
		memcpy(io->buf, b->mem + io->offset, io->len);
	} else if (io->op == BT_IO_WRITE) {
		memcpy(b->mem + io->offset, io->buf, io->len);
	} else if (io->op == BT_IO_DISCARD || io->op == BT_IO_WRITE_ZEROES) {
		memset(b->mem + io->offset, 0, io->len);
	}
	io->done(io);
}

static int h_send(void *host, void *hc, const struct bt_iov *iov, unsigned n)
{
	struct fuzz_conn *fc = hc;
	unsigned i;

	(void)host;
	for (i = 0; i < n; i++) {
		/* touch every byte so ASan sees reads of what is sent */
		const volatile u8 *p = iov[i].base;
		bt_size_t j;
		u8 x = 0;

		for (j = 0; j < iov[i].len; j++)
			x ^= p[j];
		fc->sent += iov[i].len + (x & 0);
	}
	return 0;
}

static void h_close_conn(void *host, void *hc)
{
	(void)host;
	((struct fuzz_conn *)hc)->closed = 1;
}

static const struct bt_host_ops ops = {
	.bdev_open = h_open,
	.bdev_close = h_close,
	.bdev_submit = h_submit,
	.conn_send = h_send,
	.conn_close = h_close_conn,
};

struct bt_engine *fuzz_engine(void)
{
	static struct bt_engine *e;
	struct bt_lun_cfg lc = { .path = "ram" };
	struct bt_chap chap = { "u", "secretsecret" };

	if (e)
		return e;
	e = bt_engine_new(&ops, NULL);
	if (!e)
		abort();
	if (bt_target_add(e, FUZZ_TIQN) || bt_lun_add(e, FUZZ_TIQN, 0, &lc) ||
	    bt_acl_add(e, FUZZ_TIQN, "*", NULL) || bt_target_enable(e, FUZZ_TIQN, 1))
		abort();
	if (bt_target_add(e, FUZZ_TIQN_CHAP) || bt_lun_add(e, FUZZ_TIQN_CHAP, 0, &lc) ||
	    bt_acl_add(e, FUZZ_TIQN_CHAP, "*", NULL) ||
	    bt_auth_set(e, FUZZ_TIQN_CHAP, &chap, NULL) ||
	    bt_target_enable(e, FUZZ_TIQN_CHAP, 1))
		abort();
	return e;
}

void fuzz_tick(struct bt_engine *e, u64 advance_ms)
{
	fake_now += advance_ms;
	bt_engine_tick(e, fake_now);
}
