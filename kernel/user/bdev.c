/*
 * bdev.c - backing files and block devices for the userspace host.
 *
 * I/O goes through io_uring: bdev_submit only prepares an SQE; the loop's
 * "after" hook submits everything prepared in that round with one
 * io_uring_submit, and completions arrive through an eventfd registered with
 * the ring, which the loop watches. If the ring cannot be set up (old kernel,
 * seccomp) the host falls back to synchronous pread/pwrite in the loop
 * thread, completing before bdev_submit returns (bt_engine.h allows that).
 *
 * Priority lane and bulk limit. I/O the engine marks BT_IO_PRIO (CAW,
 * persistent reservations) never waits behind bulk I/O: a read the page
 * cache holds is done inline as any read; everything else goes to the
 * priority threads (prio.c), not to the ring. Bulk I/O of one backing is
 * limited to BULK_MAX_IOS / BULK_MAX_BYTES in flight; the rest waits here,
 * in order, and is submitted as earlier bulk I/O completes. So the device
 * and the kernel's queues hold a bounded amount of bulk work in front of a
 * priority I/O, whatever the initiators' queue depths (64 sessions x 128
 * commands x 16 MiB would otherwise all be in the kernel at once).
 * BOLLARD_TARGET_NO_PRIO=1 turns both off (for before/after figures).
 *
 * Durability is honest: a BT_IO_FUA write is submitted with RWF_DSYNC (and
 * the synchronous path uses pwritev2 with RWF_DSYNC), BT_IO_FLUSH is
 * fdatasync. Plain writes land in the page cache, which survives a crash of
 * this process but not of the machine: exactly SCSI's write-back semantics,
 * which the SCSI layer only uses when the initiator set WCE=1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bt_loop.h"
#include "host.h"

#define RING_DEPTH 256
#define BULK_MAX_IOS   32
#define BULK_MAX_BYTES (8ull << 20)
#define ASYNC_MIN_BYTES (64u << 10)  /* bigger: copied by io-wq, not inline */
#define IOWQ_MAX_WORKERS 16

struct bt_bdev {
	int fd;
	bool blockdev;
	u32 phys_block;               /* bytes; 0: none to report             */
	/* bulk I/O submitted to the ring or executed, and waiting here */
	unsigned bulk_ios;
	uint64_t bulk_bytes;
	struct bt_io *wait_head, *wait_tail; /* linked through host_priv  */
};

struct host_io {
	struct host *h;
	struct io_uring ring;
	bool have_ring;
	int efd;
	unsigned inflight;
	unsigned queued;              /* prepared, not yet submitted          */
	bool try_nowait;              /* preadv2(RWF_NOWAIT) works here       */
	bool no_prio;                 /* BOLLARD_TARGET_NO_PRIO               */
	struct host_prio *prio;       /* NULL: not started (yet)              */
	bool prio_failed;             /* could not start: priority I/O takes
	                               * the ring                             */
};

static void bulk_start(struct host_io *hio, struct bt_bdev *b, struct bt_io *io);

static void io_complete(struct host_io *hio, struct bt_io *io, int result)
{
	io->result = result;
	io->host_priv = NULL;
	hio->inflight--;
	io->done(io);
}

/* A bulk io (counted against its backing's limit) is done. */
static void bulk_complete(struct host_io *hio, struct bt_io *io, int result)
{
	struct bt_bdev *b = io->host_priv;
	struct bt_io *w;

	b->bulk_ios--;
	b->bulk_bytes -= io->len;
	/* admit waiters first: the completion may queue more behind them */
	while ((w = b->wait_head) != NULL &&
	       b->bulk_ios < BULK_MAX_IOS &&
	       (b->bulk_ios == 0 || b->bulk_bytes + w->len <= BULK_MAX_BYTES)) {
		b->wait_head = w->host_priv;
		if (!b->wait_head)
			b->wait_tail = NULL;
		bulk_start(hio, b, w);
	}
	io_complete(hio, io, result);
}

static void prio_complete(struct host *h, struct bt_io *io, int result)
{
	io_complete(h->io, io, result);
}

int host_bdev_exec(struct bt_bdev *b, struct bt_io *io)
{
	uint64_t done = 0;

	switch (io->op) {
	case BT_IO_READ:
		while (done < io->len) {
			ssize_t r = pread(b->fd, (char *)io->buf + done,
					  io->len - done, (off_t)(io->offset + done));
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (r == 0) {         /* past EOF: zeroes               */
				memset((char *)io->buf + done, 0, io->len - done);
				break;
			}
			done += (uint64_t)r;
		}
		return 0;
	case BT_IO_WRITE:
		while (done < io->len) {
			struct iovec v = { (char *)io->buf + done, io->len - done };
			ssize_t r = pwritev2(b->fd, &v, 1, (off_t)(io->offset + done),
					     (io->flags & BT_IO_FUA) ? RWF_DSYNC : 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			done += (uint64_t)r;
		}
		return 0;
	case BT_IO_FLUSH:
		return fdatasync(b->fd) < 0 ? -errno : 0;
	case BT_IO_DISCARD:
	case BT_IO_WRITE_ZEROES:
		if (b->blockdev) {
			uint64_t range[2] = { io->offset, io->len };

			if (ioctl(b->fd, io->op == BT_IO_DISCARD ? BLKDISCARD :
				  BLKZEROOUT, range) == 0)
				return 0;
		} else if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				     (off_t)io->offset, (off_t)io->len) == 0) {
			return 0;
		}
		if (io->op == BT_IO_DISCARD)
			return 0;             /* discard is advisory             */
		{
			/* Zero by writing. */
			static const char zero[65536];

			while (done < io->len) {
				size_t n = io->len - done < sizeof(zero) ?
					   io->len - done : sizeof(zero);
				ssize_t r = pwrite(b->fd, zero, n,
						   (off_t)(io->offset + done));
				if (r < 0) {
					if (errno == EINTR)
						continue;
					return -errno;
				}
				done += (uint64_t)r;
			}
		}
		return 0;
	}
	return -EINVAL;
}

static struct io_uring_sqe *get_sqe(struct host_io *hio)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&hio->ring);

	if (!sqe) {
		io_uring_submit(&hio->ring);
		hio->queued = 0;
		sqe = io_uring_get_sqe(&hio->ring);
	}
	return sqe;
}

/* Queue (the rest of) io on the ring. False if it cannot go there. */
static bool ring_queue(struct host_io *hio, struct bt_bdev *b, struct bt_io *io)
{
	struct io_uring_sqe *sqe;

	if (io->op != BT_IO_READ && io->op != BT_IO_WRITE && io->op != BT_IO_FLUSH)
		return false;
	sqe = get_sqe(hio);
	if (!sqe)
		return false;
	switch (io->op) {
	case BT_IO_READ:
		io_uring_prep_read(sqe, b->fd, io->buf, (unsigned)io->len, io->offset);
		break;
	case BT_IO_WRITE:
		io_uring_prep_write(sqe, b->fd, io->buf, (unsigned)io->len, io->offset);
		if (io->flags & BT_IO_FUA)
			sqe->rw_flags = RWF_DSYNC;
		break;
	default:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	/*
	 * Large transfers go straight to io-wq's workers (IOSQE_ASYNC)
	 * instead of being tried inline during io_uring_submit: copying a
	 * cached MiB is then done beside the loop thread, not in it, so a
	 * round of the loop (and the next command, maybe a CAW, waiting for
	 * it) does not grow with the bulk I/O's size.
	 */
	if (io->len >= ASYNC_MIN_BYTES)
		sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data(sqe, io);
	hio->queued++;
	return true;
}

/* Counted against b's bulk limit: to the ring, or executed here. */
static void bulk_start(struct host_io *hio, struct bt_bdev *b, struct bt_io *io)
{
	b->bulk_ios++;
	b->bulk_bytes += io->len;
	io->host_priv = b;            /* for completion and short transfers */
	if (hio->have_ring && io->len < (1ull << 31) && ring_queue(hio, b, io))
		return;
	bulk_complete(hio, io, host_bdev_exec(b, io));
}

void host_bdev_submit(void *host, struct bt_bdev *b, struct bt_io *io)
{
	struct host *h = host;
	struct host_io *hio = h->io;
	bool prio = (io->flags & BT_IO_PRIO) && !hio->no_prio;

	hio->inflight++;
	io->host_priv = b;
	/*
	 * A read the page cache can serve is done right here with one
	 * preadv2(RWF_NOWAIT): cheaper than a trip through the ring, whose
	 * buffered reads on some filesystems (tmpfs) go to io-wq worker
	 * threads and come back through the eventfd. Anything not cached
	 * (EAGAIN, short) takes the ring; so do large reads (see ring_queue).
	 */
	if (io->op == BT_IO_READ && hio->try_nowait &&
	    (io->len < ASYNC_MIN_BYTES || prio || !hio->have_ring)) {
		struct iovec v = { io->buf, io->len };
		ssize_t r = preadv2(b->fd, &v, 1, (off_t)io->offset, RWF_NOWAIT);

		if (r == (ssize_t)io->len) {
			io_complete(hio, io, 0);
			return;
		}
		if (r < 0 && errno == EOPNOTSUPP)
			hio->try_nowait = false;
	}
	/* The lane starts at its first use: after --daemon's fork (a fork
	 * keeps only the calling thread), and never for hosts without CAW. */
	if (prio && !hio->prio && !hio->prio_failed &&
	    !(hio->prio = host_prio_new(h, prio_complete))) {
		hio->prio_failed = true;
		bt_warn("no priority I/O lane: %s\n", strerror(errno));
	}
	if (prio && host_prio_submit(hio->prio, b, io) == 0)
		return;
	/* bulk over the limit waits; priority I/O (no lane) never does */
	if (!prio && !hio->no_prio &&
	    (b->wait_head || b->bulk_ios >= BULK_MAX_IOS ||
	     (b->bulk_ios && b->bulk_bytes + io->len > BULK_MAX_BYTES))) {
		io->host_priv = NULL;
		if (b->wait_tail)
			b->wait_tail->host_priv = io;
		else
			b->wait_head = io;
		b->wait_tail = io;
		return;
	}
	bulk_start(hio, b, io);
}

/*
 * A short read/write from the ring: finish synchronously. This is rare
 * (EOF on a file that shrank, signal interruption) and keeps the ring path
 * free of per-I/O bookkeeping.
 */
static void ring_finish_short(struct host_io *hio, struct bt_io *io, int res)
{
	struct bt_bdev *b = io->host_priv;
	struct bt_io rest = *io;

	rest.buf = (char *)io->buf + res;
	rest.offset = io->offset + (uint64_t)res;
	rest.len = io->len - (uint64_t)res;
	bulk_complete(hio, io, host_bdev_exec(b, &rest));
}

/* Complete every I/O whose CQE is posted. */
static void ring_reap(struct host_io *hio)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&hio->ring, &cqe) == 0 && cqe) {
		struct bt_io *io = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&hio->ring, cqe);
		if (!io)
			continue;
		if (res < 0) {
			bulk_complete(hio, io, res);
		} else if ((io->op == BT_IO_READ || io->op == BT_IO_WRITE) &&
			   (uint64_t)res < io->len) {
			if (io->op == BT_IO_READ && res == 0) {
				memset(io->buf, 0, io->len);
				bulk_complete(hio, io, 0);
			} else {
				ring_finish_short(hio, io, res);
			}
		} else {
			bulk_complete(hio, io, 0);
		}
	}
}

static void ring_event(void *arg, int fd, unsigned events)
{
	struct host_io *hio = arg;
	uint64_t v;

	if (read(hio->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		bt_warn("eventfd read: %s\n", strerror(errno));
	ring_reap(hio);
}

void host_io_flush(struct host *h)
{
	struct host_io *hio = h->io;

	unsigned rounds;

	/*
	 * Submit what this round prepared, then reap at once: reads served
	 * from the page cache complete during the submit itself, so their
	 * responses go out in this same round without another trip through
	 * epoll. The eventfd is registered for every completion, not only
	 * asynchronous ones: a completion the kernel posts through task work
	 * in this thread while it sleeps in epoll_wait does not count as
	 * asynchronous and would otherwise be noticed by nobody (that hung
	 * iscsi-test-cu). A completion may queue new I/O: a few rounds.
	 */
	if (!hio || !hio->have_ring)
		return;
	for (rounds = 0; rounds < 4 && hio->queued; rounds++) {
		io_uring_submit(&hio->ring);
		hio->queued = 0;
		ring_reap(hio);
	}
}

void host_io_poll(struct host *h)
{
	if (h->io && h->io->have_ring)
		ring_reap(h->io);
	if (h->io)
		host_prio_poll(h->io->prio);
}

unsigned host_io_inflight(struct host *h)
{
	return h->io ? h->io->inflight : 0;
}

const char *host_io_backend(struct host *h)
{
	return h->io && h->io->have_ring ? "io_uring" : "synchronous";
}

int host_io_init(struct host *h)
{
	struct host_io *hio = calloc(1, sizeof(*hio));

	if (!hio)
		return -ENOMEM;
	hio->h = h;
	hio->efd = -1;
	hio->try_nowait = !getenv("BOLLARD_TARGET_NO_NOWAIT");
	hio->no_prio = getenv("BOLLARD_TARGET_NO_PRIO") != NULL;
	if (!getenv("BOLLARD_TARGET_NO_URING") &&
	    io_uring_queue_init(RING_DEPTH, &hio->ring, 0) == 0) {
		hio->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (hio->efd >= 0 &&
		    io_uring_register_eventfd(&hio->ring, hio->efd) == 0 &&
		    bt_loop_add(h->loop, hio->efd, BT_LOOP_IN, ring_event, hio) == 0) {
			/*
			 * Few io-wq workers: every one is a thread competing
			 * with the loop thread for the CPU, and unbounded they
			 * grow to one per large I/O in flight. A handful keeps
			 * a device busy; more only delays the loop (and every
			 * command waiting for its next round). Best effort.
			 */
			unsigned maxw[2] = { IOWQ_MAX_WORKERS, IOWQ_MAX_WORKERS };

			io_uring_register_iowq_max_workers(&hio->ring, maxw);
			hio->have_ring = true;
		} else {
			if (hio->efd >= 0)
				close(hio->efd);
			hio->efd = -1;
			io_uring_queue_exit(&hio->ring);
		}
	}
	h->io = hio;
	return 0;
}

void host_io_fini(struct host *h)
{
	struct host_io *hio = h->io;

	if (!hio)
		return;
	host_prio_free(hio->prio);
	if (hio->have_ring) {
		bt_loop_del(h->loop, hio->efd);
		close(hio->efd);
		io_uring_queue_exit(&hio->ring);
	}
	free(hio);
	h->io = NULL;
}

/*
 * A regular file has no physical block of its own worth reporting (the file
 * system's block is an allocation unit, not an atomicity unit), so files
 * report none unless BOLLARD_TARGET_FILE_PHYS_BLOCK says otherwise (a power
 * of two, 512..65536): a test or a deployment on 4 KiB-sector storage can
 * then present 512-byte logical blocks on 4 KiB physical ones.
 */
static u32 file_phys_block(void)
{
	const char *v = getenv("BOLLARD_TARGET_FILE_PHYS_BLOCK");
	unsigned long n = v ? strtoul(v, NULL, 0) : 0;

	if (n < 512 || n > 65536 || (n & (n - 1)))
		return 0;
	return (u32)n;
}

u32 host_bdev_phys_block(void *host, struct bt_bdev *b)
{
	(void)host;
	return b->phys_block;
}

/*
 * Allocation status from SEEK_DATA/SEEK_HOLE. A block device (or a file
 * system that cannot tell) answers "mapped". ENXIO from SEEK_DATA means no
 * data at or after offset: a hole to the end.
 */
int host_bdev_map_status(void *host, struct bt_bdev *b, u64 offset, u64 max,
			 u64 *len)
{
	off_t data, hole;

	(void)host;
	*len = max;
	if (b->blockdev || max == 0)
		return 1;
	data = lseek(b->fd, (off_t)offset, SEEK_DATA);
	if (data < 0) {
		if (errno == ENXIO)
			return 0;
		return errno == EINVAL || errno == EOPNOTSUPP ? 1 : -errno;
	}
	if ((u64)data > offset) {
		if ((u64)data - offset < max)
			*len = (u64)data - offset;
		return 0;
	}
	hole = lseek(b->fd, (off_t)offset, SEEK_HOLE);
	if (hole < 0)
		return errno == EINVAL || errno == EOPNOTSUPP ? 1 : -errno;
	if ((u64)hole > offset && (u64)hole - offset < max)
		*len = (u64)hole - offset;
	return 1;
}

int host_bdev_open(void *host, const char *path, u32 flags,
		   struct bt_bdev **out, u64 *size)
{
	struct bt_bdev *b;
	struct stat st;
	int fd;

	(void)host;
	fd = open(path, ((flags & BT_BDEV_RO) ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	b->fd = fd;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes = 0;
		unsigned int pbs = 0;

		if (ioctl(fd, BLKPBSZGET, &pbs) == 0)
			b->phys_block = pbs;

		b->blockdev = true;
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
			close(fd);
			free(b);
			return -EIO;
		}
		*size = bytes;
	} else if (S_ISREG(st.st_mode)) {
		*size = (u64)st.st_size;
		b->phys_block = file_phys_block();
	} else {
		close(fd);
		free(b);
		return -EINVAL;
	}
	*out = b;
	return 0;
}

void host_bdev_close(void *host, struct bt_bdev *b)
{
	(void)host;
	if (!b)
		return;
	close(b->fd);
	free(b);
}
