/*
 * host.h - internals of the userspace host bollard-target (kernel/user).
 *
 *   main.c     options, static configuration, signals, shutdown sequence
 *   net.c      listening sockets, connections, output queues
 *   bdev.c     backing files: io_uring (or synchronous pread/pwrite)
 *   prio.c     the priority lane: threads for BT_IO_PRIO I/O
 *   loop.c     the epoll loop (bt_loop.h)
 *   os_user.c  bt_os.h over libc
 *
 * One thread runs everything; the engine is only ever called from it. (The
 * priority lane's workers only execute I/O; completions return to it.)
 */
#ifndef BT_HOST_H
#define BT_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "bt_engine.h"

struct bt_loop;
struct bt_mgmt_srv;
struct host_conn;
struct host_io;
struct host_prio;

struct host {
	struct bt_loop *loop;
	struct bt_engine *e;
	struct bt_mgmt_srv *mgmt;
	struct host_io *io;
	struct host_conn *dirty;      /* conns with output or a close pending */
	struct host_conn *all;        /* every open conn                      */
	unsigned nconns;
	int lfds[16];
	unsigned nlfds;
	unsigned char *rxbuf;
	size_t rxcap;
};

void host_set_log_level(int level);

/* net.c */
/* Listen on "ip:port" / "[ip6]:port". Returns 0 or -errno. */
int  host_listen(struct host *h, const char *addr);
void host_unlisten(struct host *h);
/* Flush output and carry out pending closes (the loop's "after" hook). */
void host_net_flush(struct host *h);
/* Close every connection now (end of shutdown). */
void host_close_all(struct host *h);
int  host_conn_send(void *host, void *host_conn, const struct bt_iov *iov,
		    unsigned n);
void host_conn_close(void *host, void *host_conn);

/* bdev.c */
int  host_io_init(struct host *h);
void host_io_fini(struct host *h);
/* Submit what was queued this round (the loop's "after" hook). */
void host_io_flush(struct host *h);
/* Reap completions without waiting for the eventfd (timer backstop). */
void host_io_poll(struct host *h);
/* Backend I/Os not yet completed. */
unsigned host_io_inflight(struct host *h);
const char *host_io_backend(struct host *h);
int  host_bdev_open(void *host, const char *path, u32 flags,
		    struct bt_bdev **out, u64 *size);
void host_bdev_close(void *host, struct bt_bdev *b);
void host_bdev_submit(void *host, struct bt_bdev *b, struct bt_io *io);
/* bt_host_ops bdev_map_status / bdev_phys_block (bt_engine.h). */
int  host_bdev_map_status(void *host, struct bt_bdev *b, u64 offset, u64 max,
			  u64 *len);
u32  host_bdev_phys_block(void *host, struct bt_bdev *b);
/* Execute io synchronously on the calling thread; returns 0 or -errno.
 * Touches only io's buffer and b's descriptor (any thread may call it). */
int  host_bdev_exec(struct bt_bdev *b, struct bt_io *io);

/* prio.c */
/* Start the lane's workers; complete() is later called on the loop thread
 * for every submitted io. NULL on failure (errno set). */
struct host_prio *host_prio_new(struct host *h,
				void (*complete)(struct host *h, struct bt_io *io,
						 int result));
/* After the engine is freed: stops the workers. NULL is fine. */
void host_prio_free(struct host_prio *p);
/* Queue io on the lane: 0, or -errno (no lane, no memory: caller runs it
 * elsewhere). */
int  host_prio_submit(struct host_prio *p, struct bt_bdev *b, struct bt_io *io);
/* Complete finished jobs now (timer backstop). */
void host_prio_poll(struct host_prio *p);

#endif
