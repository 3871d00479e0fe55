// SPDX-License-Identifier: GPL-2.0
/*
 * bdev.c - backing stores for bollard_target.ko: regular files and block
 * devices, both opened as files and driven through the VFS
 * (vfs_iocb_iter_read/write, vfs_fsync_range, vfs_fallocate) from work
 * items on km->io_wq.
 *
 * Why the VFS for block devices too, for now: the engine hands us one
 * virtually contiguous buffer per I/O that may be vmalloc memory; the block
 * device file path (blkdev_read_iter/blkdev_write_iter) accepts that as a
 * kvec, maps FUA to IOCB_DSYNC (a REQ_FUA write on the device), FLUSH to
 * blkdev_fsync (REQ_PREFLUSH) and DISCARD / WRITE ZEROES to blkdev_fallocate
 * (discard / zero-out bios). A bio path of our own would save the page
 * cache copy; it is the next step (see docs/kernel.md).
 *
 * Completion: the I/O runs without the engine lock; io->done() is then
 * called with the engine lock held, as bt_engine.h requires.
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/uio.h>
#include <linux/slab.h>
#include <linux/blkdev.h>
#include "bt_kmod.h"

struct bt_bdev {
	struct file *filp;
	bool is_blk;
	bool ro;
};

struct bt_kio {
	struct work_struct work;
	struct bt_kmod *km;
	struct bt_bdev *b;
	struct bt_io *io;
};

int bt_bdev_open(void *host, const char *path, u32 flags,
		 struct bt_bdev **out, u64 *size)
{
	bool ro = flags & BT_BDEV_RO;
	struct bt_bdev *b;
	struct inode *inode;
	struct file *f;

	f = filp_open(path, (ro ? O_RDONLY : O_RDWR) | O_LARGEFILE, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	inode = file_inode(f);
	if (!S_ISREG(inode->i_mode) && !S_ISBLK(inode->i_mode)) {
		filp_close(f, NULL);
		return -EINVAL;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		filp_close(f, NULL);
		return -ENOMEM;
	}
	b->filp = f;
	b->ro = ro;
	b->is_blk = S_ISBLK(inode->i_mode);
	/* For a block device the size lives on the bdev's inode. */
	*size = i_size_read(f->f_mapping->host);
	*out = b;
	return 0;
}

void bt_bdev_close(void *host, struct bt_bdev *b)
{
	if (!b)
		return;
	filp_close(b->filp, NULL);
	kfree(b);
}

static int bt_kio_rw(struct bt_bdev *b, struct bt_io *io, bool write)
{
	struct kvec v = { .iov_base = io->buf, .iov_len = io->len };
	struct iov_iter it;
	struct kiocb kiocb;
	u64 done = 0;
	ssize_t n;

	if (write && b->ro)
		return -EROFS;
	while (done < io->len) {
		v.iov_base = (u8 *)io->buf + done;
		v.iov_len = io->len - done;
		iov_iter_kvec(&it, write ? WRITE : READ, &v, 1, v.iov_len);
		init_sync_kiocb(&kiocb, b->filp);
		kiocb.ki_pos = io->offset + done;
		if (write && (io->flags & BT_IO_FUA))
			kiocb.ki_flags |= IOCB_DSYNC;
		n = write ? vfs_iocb_iter_write(b->filp, &kiocb, &it)
			  : vfs_iocb_iter_read(b->filp, &kiocb, &it);
		if (n < 0)
			return n;
		if (n == 0) {
			if (write)
				return -EIO;
			/* Past the end of a file: the engine checks bounds,
			 * so this is a hole at the tail: zeroes. */
			memset((u8 *)io->buf + done, 0, io->len - done);
			break;
		}
		done += n;
	}
	return 0;
}

static int bt_kio_zero(struct bt_bdev *b, struct bt_io *io, bool discard)
{
	int mode = discard ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
			   : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int err;

	if (b->ro)
		return -EROFS;
	err = vfs_fallocate(b->filp, mode, io->offset, io->len);
	if (err == -EOPNOTSUPP && !discard) {
		/* Filesystems without ZERO_RANGE: punch, which reads as zeroes. */
		err = vfs_fallocate(b->filp, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				    io->offset, io->len);
	}
	if (err == -EOPNOTSUPP && discard)
		err = 0;        /* discard is advisory */
	return err;
}

static void bt_kio_work(struct work_struct *w)
{
	struct bt_kio *k = container_of(w, struct bt_kio, work);
	struct bt_io *io = k->io;
	struct bt_kmod *km = k->km;
	int err;

	switch (io->op) {
	case BT_IO_READ:
		err = bt_kio_rw(k->b, io, false);
		break;
	case BT_IO_WRITE:
		err = bt_kio_rw(k->b, io, true);
		break;
	case BT_IO_FLUSH:
		err = vfs_fsync(k->b->filp, 0);
		break;
	case BT_IO_DISCARD:
		err = bt_kio_zero(k->b, io, true);
		break;
	case BT_IO_WRITE_ZEROES:
		err = bt_kio_zero(k->b, io, false);
		break;
	default:
		err = -EINVAL;
		break;
	}
	kfree(k);
	/* The engine's errno values are Linux's (bt_os.h). */
	io->result = err;
	mutex_lock(&km->lock);
	io->done(io);
	mutex_unlock(&km->lock);
}

void bt_bdev_submit(void *host, struct bt_bdev *b, struct bt_io *io)
{
	struct bt_kmod *km = host;
	struct bt_kio *k;

	k = kmalloc(sizeof(*k), GFP_KERNEL);
	if (!k) {
		/* We are inside the engine (lock held): completing inline is
		 * allowed by the contract. */
		io->result = -ENOMEM;
		io->done(io);
		return;
	}
	k->km = km;
	k->b = b;
	k->io = io;
	INIT_WORK(&k->work, bt_kio_work);
	queue_work(km->io_wq, &k->work);
}
