/*
 * membdev.c - memory backend for the SCSI tests (see membdev.h).
 */
#include <stdlib.h>
#include <string.h>

#include "membdev.h"

static int mem_open(void *host, const char *path, u32 flags,
		    struct bt_bdev **out, u64 *size)
{
	struct memhost *h = host;
	struct membdev *d;
	char *end;
	unsigned long long n;
	bool keep = false;

	if (strncmp(path, "mem:", 4) != 0)
		return -BT_ENOENT;
	path += 4;
	if (strncmp(path, "keep:", 5) == 0) {
		keep = true;
		path += 5;
		if (h->keep) {        /* reopen the kept device as it is      */
			h->keep->ro = flags & BT_BDEV_RO;
			*out = (struct bt_bdev *)h->keep;
			*size = h->keep->size;
			h->opened++;
			h->last_dev = h->keep;
			return 0;
		}
	}
	n = strtoull(path, &end, 0);
	if (*end || n > (1ULL << 32))
		return -BT_EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -BT_ENOMEM;
	d->data = calloc(1, n ? n : 1);
	if (!d->data) {
		free(d);
		return -BT_ENOMEM;
	}
	d->size = n;
	d->ro = flags & BT_BDEV_RO;
	if (keep)
		h->keep = d;
	*out = (struct bt_bdev *)d;
	*size = n;
	h->opened++;
	h->last_dev = d;
	return 0;
}

static void mem_close(void *host, struct bt_bdev *b)
{
	struct memhost *h = host;
	struct membdev *d = (struct membdev *)b;

	if (h->last_dev == d)
		h->last_dev = NULL;
	h->closed++;
	if (d == h->keep)
		return;
	free(d->data);
	free(d);
}

static void mem_exec(struct memhost *h, struct membdev *d, struct bt_io *io)
{
	if (h->fail_next < 0) {
		io->result = h->fail_next;
		h->fail_next = 0;
		return;
	}
	if (io->op != BT_IO_FLUSH &&
	    (io->offset > d->size || io->len > d->size - io->offset)) {
		io->result = -BT_EINVAL;
		return;
	}
	switch (io->op) {
	case BT_IO_READ:
		memcpy(io->buf, d->data + io->offset, io->len);
		break;
	case BT_IO_WRITE:
		if (d->ro) {
			io->result = -BT_EPERM;
			return;
		}
		memcpy(d->data + io->offset, io->buf, io->len);
		break;
	case BT_IO_DISCARD:
	case BT_IO_WRITE_ZEROES:
		memset(d->data + io->offset, 0, io->len);
		break;
	case BT_IO_FLUSH:
		break;
	}
	io->result = 0;
}

static void mem_submit(void *host, struct bt_bdev *b, struct bt_io *io)
{
	struct memhost *h = host;
	struct membdev *d = (struct membdev *)b;

	if (io->op <= BT_IO_WRITE_ZEROES)
		h->nsubmit[io->op]++;
	h->last = *io;
	if (h->deferred && h->npending < MEMHOST_MAX_PENDING) {
		h->pending[h->npending] = io;
		h->pending_dev[h->npending] = d;
		h->npending++;
		return;
	}
	mem_exec(h, d, io);
	io->done(io);
}

void memhost_complete_one(struct memhost *h, unsigned i)
{
	struct bt_io *io;
	struct membdev *d;

	if (i >= h->npending)
		return;
	io = h->pending[i];
	d = h->pending_dev[i];
	memmove(&h->pending[i], &h->pending[i + 1],
		(h->npending - i - 1) * sizeof(h->pending[0]));
	memmove(&h->pending_dev[i], &h->pending_dev[i + 1],
		(h->npending - i - 1) * sizeof(h->pending_dev[0]));
	h->npending--;
	mem_exec(h, d, io);
	io->done(io);
}

unsigned memhost_run(struct memhost *h)
{
	unsigned n = 0;

	while (h->npending) {
		memhost_complete_one(h, 0);
		n++;
	}
	return n;
}

void memhost_fini(struct memhost *h)
{
	if (h->keep) {
		free(h->keep->data);
		free(h->keep);
		h->keep = NULL;
	}
}

void memhost_init(struct memhost *h, bool deferred)
{
	memset(h, 0, sizeof(*h));
	h->deferred = deferred;
}

static int no_send(void *host, void *host_conn, const struct bt_iov *iov,
		   unsigned n)
{
	return -BT_ECONNRESET;
}

static void no_close(void *host, void *host_conn)
{
}

static void mem_event(void *host, const struct bt_event *ev)
{
	struct memhost *h = host;

	if ((unsigned)ev->type < MEMHOST_NEVENT)
		h->nevent[ev->type]++;
}

static bool page_zero(const struct membdev *d, u64 off)
{
	u64 i, end = off + 4096 < d->size ? off + 4096 : d->size;

	for (i = off; i < end; i++)
		if (d->data[i])
			return false;
	return true;
}

static int mem_map_status(void *host, struct bt_bdev *b, u64 offset, u64 max,
			  u64 *len)
{
	struct memhost *h = host;
	struct membdev *d = (struct membdev *)b;
	u64 p;
	bool hole;

	if (!h->sparse || offset >= d->size) {
		*len = max;
		return 1;
	}
	hole = page_zero(d, offset & ~4095ull);
	for (p = (offset & ~4095ull) + 4096; p < offset + max && p < d->size; p += 4096)
		if (page_zero(d, p) != hole)
			break;
	*len = (p < offset + max ? p : offset + max) - offset;
	return hole ? 0 : 1;
}

const struct bt_host_ops membdev_ops = {
	.bdev_map_status = mem_map_status,
	.bdev_open = mem_open,
	.bdev_close = mem_close,
	.bdev_submit = mem_submit,
	.conn_send = no_send,
	.conn_close = no_close,
	.event = mem_event,
};
