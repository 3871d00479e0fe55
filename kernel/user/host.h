/*
 * host.h - internals of the userspace host bollard-target (kernel/user).
 *
 *   main.c     options, static configuration, signals, shutdown sequence
 *   net.c      listening sockets, connections, output queues
 *   bdev.c     backing files: io_uring (or synchronous pread/pwrite)
 *   loop.c     the epoll loop (bt_loop.h)
 *   os_user.c  bt_os.h over libc
 *
 * One thread runs everything; the engine is only ever called from it.
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

#endif
