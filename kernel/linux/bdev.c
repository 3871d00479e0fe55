// SPDX-License-Identifier: GPL-2.0
/*
 * bdev.c - backing stores for bollard_target.ko: regular files and block
 * devices. All I/O runs in work items on km->io_wq, without the engine
 * lock; io->done() is then called with the engine lock held, as
 * bt_engine.h requires.
 *
 * Block devices are claimed exclusively (blkdev_get_by_path, FMODE_EXCL: no
 * one mounts them under us) and driven with bios: READ and WRITE (REQ_FUA
 * for BT_IO_FUA) straight from the engine's buffer, page by page (the
 * buffer may be vmalloc memory), FLUSH as blkdev_issue_flush (an empty
 * REQ_PREFLUSH bio), DISCARD and WRITE ZEROES as blkdev_issue_zeroout (the
 * engine promises zeroes after a discard, which a bare REQ_OP_DISCARD does
 * not; zeroout uses the device's write-zeroes/unmap when it has one and
 * writes zero pages otherwise). Every block device I/O is a bio: a buffer
 * the device cannot DMA from as is (address or length not aligned to its
 * DMA alignment) is bounced through an aligned copy. Never mix in the
 * device's page cache: buffered and direct I/O to the same blocks would
 * serve stale data (an early version did, and ext4 on the LUN caught it).
 * A range not aligned to the logical block size is refused (-EINVAL); the
 * engine's LU block size is a multiple of it in any sane setup.
 *
 * Regular files go through the VFS: vfs_iocb_iter_read/write on a kvec
 * (IOCB_DSYNC for FUA), vfs_fsync, vfs_fallocate (PUNCH_HOLE / ZERO_RANGE).
 *
 * Priority lane. km->io_wq runs at most 64 work items at once, in queue
 * order. Bulk I/O of one backing is held to BT_BULK_MAX work items queued
 * or running (the rest waits on the backing's list, in order, and is queued
 * as earlier bulk work finishes), so an I/O the engine marks BT_IO_PRIO
 * (COMPARE AND WRITE, persistent reservations), which skips that limit,
 * finds a free worker at once instead of waiting behind hundreds of large
 * requests; its bios carry the real-time I/O priority class, which the
 * block layer's schedulers (mq-deadline, bfq) serve first, and REQ_SYNC.
 * The limit is per backing: many backings saturated at once can still fill
 * the 64 workers (then a priority I/O waits for one bulk I/O, not all).
 *
 * Allocation status (bdev_map_status): SEEK_DATA / SEEK_HOLE through
 * vfs_llseek on files; a block device reports everything mapped. Physical
 * block size (bdev_phys_block): the device's; files report the
 * file_phys_block module parameter (default 0: none).
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/uio.h>
#include <linux/slab.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/ioprio.h>
#include <linux/moduleparam.h>
#include "bt_kmod.h"

#define BT_BULK_MAX 32                /* bulk work items per backing          */

static unsigned int file_phys_block;
module_param(file_phys_block, uint, 0444);
MODULE_PARM_DESC(file_phys_block,
		 "Physical block size (bytes, power of two, 512..65536) that regular "
		 "file backings report (READ CAPACITY(16) LBPPBE); 0 = none (default)");

struct bt_kio {
	struct work_struct work;
	struct bt_kmod *km;
	struct bt_bdev *b;
	struct bt_io *io;
	bool bulk;                    /* counted in b->bulk                   */
	struct list_head wait;        /* on b->waiting                        */
};

struct bt_bdev {
	struct file *filp;            /* regular files: the VFS path          */
	struct block_device *bdev;    /* block devices: the bio path          */
	fmode_t mode;
	bool ro;
	u32 phys_block;
	/* under km->lock: bulk work items queued or running, and waiting */
	unsigned int bulk;
	struct list_head waiting;
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
	b->ro = ro;
	INIT_LIST_HEAD(&b->waiting);
	b->mode = FMODE_READ | (ro ? 0 : FMODE_WRITE) | FMODE_EXCL;
	if (S_ISBLK(inode->i_mode)) {
		struct block_device *bdev;

		/* Bios only: no file (and page cache) on the device. */
		filp_close(f, NULL);
		bdev = blkdev_get_by_path(path, b->mode, b);
		if (IS_ERR(bdev)) {
			kfree(b);
			return PTR_ERR(bdev);
		}
		b->bdev = bdev;
		b->phys_block = bdev_physical_block_size(bdev);
		*size = bdev_nr_bytes(bdev);
	} else {
		b->filp = f;
		if (file_phys_block >= 512 && file_phys_block <= 65536 &&
		    is_power_of_2(file_phys_block))
			b->phys_block = file_phys_block;
		*size = i_size_read(inode);
	}
	*out = b;
	return 0;
}

void bt_bdev_close(void *host, struct bt_bdev *b)
{
	if (!b)
		return;
	if (b->bdev)
		blkdev_put(b->bdev, b->mode);
	else
		filp_close(b->filp, NULL);
	kfree(b);
}

/* Can the device DMA from/to buf as is? */
static bool bt_dma_ok(struct bt_bdev *b, const void *buf, u64 len)
{
	unsigned int dma = bdev_dma_alignment(b->bdev);

	return !((unsigned long)buf & dma) && !(len & dma);
}

static struct page *bt_buf_page(void *p)
{
	return is_vmalloc_addr(p) ? vmalloc_to_page(p) : virt_to_page(p);
}

/*
 * Synchronous bios over the engine's buffer: as many pages per bio as the
 * device takes, one bio after the other (the work item may block; io_wq
 * runs up to 64 of them side by side).
 */
static int bt_bio_rw_buf(struct bt_bdev *b, u8 *p, u64 left, sector_t sector,
			 blk_opf_t opf, bool prio)
{
	int err = 0;

	while (left && !err) {
		unsigned int npages = DIV_ROUND_UP(offset_in_page(p) +
						   min_t(u64, left, (u64)BIO_MAX_VECS * PAGE_SIZE),
						   PAGE_SIZE);
		struct bio *bio = bio_alloc(b->bdev, min_t(unsigned int, npages, BIO_MAX_VECS),
					    opf, GFP_KERNEL);
		u64 in_bio = 0;

		bio->bi_iter.bi_sector = sector;
		if (prio)
			bio->bi_ioprio = IOPRIO_PRIO_VALUE(IOPRIO_CLASS_RT, 0);
		while (left) {
			unsigned int chunk = min_t(u64, left, PAGE_SIZE - offset_in_page(p));

			if (bio_add_page(bio, bt_buf_page(p), chunk, offset_in_page(p)) != chunk)
				break;
			p += chunk;
			left -= chunk;
			in_bio += chunk;
		}
		if (!in_bio) {
			bio_put(bio);
			return -EIO;
		}
		err = submit_bio_wait(bio);
		bio_put(bio);
		sector += in_bio >> SECTOR_SHIFT;
	}
	return err;
}

/* An aligned bounce buffer: power-of-two kmalloc sizes are naturally
 * aligned, page-sized and bigger kvmalloc memory is page aligned. */
static void *bt_bounce_alloc(u64 len)
{
	size_t sz = len < PAGE_SIZE ? roundup_pow_of_two(len) : PAGE_ALIGN(len);

	return kvmalloc(sz, GFP_KERNEL);
}

/*
 * Synchronous bios over the engine's buffer (or a bounce copy of it): as
 * many pages per bio as the device takes, one bio after the other. The work
 * item may block; io_wq runs up to 64 of them side by side.
 */
static int bt_bio_rw(struct bt_bdev *b, struct bt_io *io, bool write)
{
	bool prio = io->flags & BT_IO_PRIO;
	blk_opf_t opf = write || prio ? (write ? REQ_OP_WRITE : REQ_OP_READ) | REQ_SYNC :
				       REQ_OP_READ;
	unsigned int lbs = bdev_logical_block_size(b->bdev);
	sector_t sector = io->offset >> SECTOR_SHIFT;
	u8 *bounce = NULL;
	int err;

	if (write && b->ro)
		return -EROFS;
	if (!io->len)
		return 0;
	if ((io->offset | io->len) & (lbs - 1))
		return -EINVAL;
	if (write && (io->flags & BT_IO_FUA))
		opf |= REQ_FUA;
	if (bt_dma_ok(b, io->buf, io->len))
		return bt_bio_rw_buf(b, io->buf, io->len, sector, opf, prio);

	bounce = bt_bounce_alloc(io->len);
	if (!bounce)
		return -ENOMEM;
	if (!bt_dma_ok(b, bounce, io->len)) {
		kvfree(bounce);
		return -ENOMEM;
	}
	if (write)
		memcpy(bounce, io->buf, io->len);
	err = bt_bio_rw_buf(b, bounce, io->len, sector, opf, prio);
	if (!err && !write)
		memcpy(io->buf, bounce, io->len);
	kvfree(bounce);
	return err;
}

static int bt_kio_rw(struct bt_bdev *b, struct bt_io *io, bool write)
{
	struct kvec v;
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
		if (io->flags & BT_IO_PRIO)
			kiocb.ki_ioprio = IOPRIO_PRIO_VALUE(IOPRIO_CLASS_RT, 0);
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

/* Last resort for files without fallocate: write zero buffers. */
static int bt_file_write_zeroes(struct bt_bdev *b, u64 off, u64 len)
{
	const size_t zlen = 64 * 1024;
	void *z = kvzalloc(zlen, GFP_KERNEL);
	int err = 0;

	if (!z)
		return -ENOMEM;
	while (len && !err) {
		struct kvec v = { .iov_base = z, .iov_len = min_t(u64, len, zlen) };
		struct iov_iter it;
		struct kiocb kiocb;
		ssize_t n;

		iov_iter_kvec(&it, WRITE, &v, 1, v.iov_len);
		init_sync_kiocb(&kiocb, b->filp);
		kiocb.ki_pos = off;
		n = vfs_iocb_iter_write(b->filp, &kiocb, &it);
		if (n <= 0) {
			err = n ? n : -EIO;
			break;
		}
		off += n;
		len -= n;
	}
	kvfree(z);
	return err;
}

/*
 * DISCARD promises zeroes on later reads (bt_engine.h), so it is a hole
 * punch, then a zero range, then written zeroes, whatever the file system
 * supports. WRITE ZEROES prefers ZERO_RANGE (keeps the blocks allocated).
 */
static int bt_kio_zero(struct bt_bdev *b, struct bt_io *io, bool discard)
{
	const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	const int zero = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int err;

	if (b->ro)
		return -EROFS;
	err = vfs_fallocate(b->filp, discard ? punch : zero, io->offset, io->len);
	if (err == -EOPNOTSUPP)
		err = vfs_fallocate(b->filp, discard ? zero : punch, io->offset, io->len);
	if (err == -EOPNOTSUPP)
		err = bt_file_write_zeroes(b, io->offset, io->len);
	return err;
}

static void bt_kio_work(struct work_struct *w)
{
	struct bt_kio *k = container_of(w, struct bt_kio, work);
	struct bt_io *io = k->io;
	struct bt_kmod *km = k->km;
	int err;

	struct bt_bdev *b = k->b;

	switch (io->op) {
	case BT_IO_READ:
	case BT_IO_WRITE:
		if (b->bdev)
			err = bt_bio_rw(b, io, io->op == BT_IO_WRITE);
		else
			err = bt_kio_rw(b, io, io->op == BT_IO_WRITE);
		break;
	case BT_IO_FLUSH:
		err = b->bdev ? blkdev_issue_flush(b->bdev) : vfs_fsync(b->filp, 0);
		break;
	case BT_IO_DISCARD:
	case BT_IO_WRITE_ZEROES:
		if (b->ro) {
			err = -EROFS;
		} else if (b->bdev) {
			unsigned int lbs = bdev_logical_block_size(b->bdev);

			if ((io->offset | io->len) & (lbs - 1))
				err = -EINVAL;
			else
				err = blkdev_issue_zeroout(b->bdev, io->offset >> SECTOR_SHIFT,
							   io->len >> SECTOR_SHIFT, GFP_KERNEL,
							   io->op == BT_IO_DISCARD ? 0 : BLKDEV_ZERO_NOUNMAP);
		} else {
			err = bt_kio_zero(b, io, io->op == BT_IO_DISCARD);
		}
		break;
	default:
		err = -EINVAL;
		break;
	}
	/* The engine's errno values are Linux's (bt_os.h). */
	io->result = err;
	mutex_lock(&km->lock);
	if (k->bulk) {
		/* before done(): the last completion may close the backing */
		struct bt_kio *w = list_first_entry_or_null(&b->waiting,
							    struct bt_kio, wait);

		if (w) {
			list_del(&w->wait);
			queue_work(km->io_wq, &w->work);  /* inherits the slot */
		} else {
			b->bulk--;
		}
	}
	kfree(k);
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
	k->bulk = !(io->flags & BT_IO_PRIO);
	INIT_WORK(&k->work, bt_kio_work);
	/* engine lock held: b->bulk and b->waiting are ours */
	if (k->bulk && b->bulk >= BT_BULK_MAX) {
		list_add_tail(&k->wait, &b->waiting);
		return;
	}
	if (k->bulk)
		b->bulk++;
	queue_work(km->io_wq, &k->work);
}

u32 bt_bdev_phys_block(void *host, struct bt_bdev *b)
{
	return b->phys_block;
}

/*
 * SEEK_DATA / SEEK_HOLE on a file: -ENXIO from SEEK_DATA means no data at
 * or after offset (a hole to the end); a file system that cannot tell
 * (-EINVAL, -EOPNOTSUPP) counts as mapped. Called under the engine lock,
 * which is a mutex: the llseek may sleep.
 */
int bt_bdev_map_status(void *host, struct bt_bdev *b, u64 offset, u64 max,
		       u64 *len)
{
	loff_t data, hole;

	*len = max;
	if (b->bdev || !max)
		return 1;
	data = vfs_llseek(b->filp, offset, SEEK_DATA);
	if (data < 0) {
		if (data == -ENXIO)
			return 0;
		return data == -EINVAL || data == -EOPNOTSUPP ? 1 : (int)data;
	}
	if ((u64)data > offset) {
		if ((u64)data - offset < max)
			*len = (u64)data - offset;
		return 0;
	}
	hole = vfs_llseek(b->filp, offset, SEEK_HOLE);
	if (hole < 0)
		return hole == -EINVAL || hole == -EOPNOTSUPP ? 1 : (int)hole;
	if ((u64)hole > offset && (u64)hole - offset < max)
		*len = (u64)hole - offset;
	return 1;
}
