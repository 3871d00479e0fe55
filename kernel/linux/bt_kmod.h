/*
 * bt_kmod.h - internals of bollard_target.ko shared by its files.
 *
 * One engine per module instance (struct bt_kmod, a single static object in
 * main.c: a module is its own singleton). Every call into the engine is
 * made with km->lock held, from process context (kthreads, workqueues, the
 * generic netlink handler). That is bt_os.h's serialisation rule; a mutex,
 * not a spinlock, because the engine allocates with GFP_KERNEL and the host
 * callbacks it makes (conn_send, bdev_submit) only queue work.
 *
 * Threads:
 *   - one accept kthread per listening portal (net.c);
 *   - one receive kthread per connection; it holds a module reference, so
 *     `rmmod` while initiators are connected fails with EBUSY (refuses)
 *     instead of racing the teardown; disabling or deleting the target
 *     through management drops the sessions, then rmmod works;
 *   - a transmit work item per connection (km->wq), so the engine never
 *     blocks on a slow peer while holding the lock;
 *   - backing I/O work items (km->io_wq, bdev.c), completing under the lock;
 *   - a 250 ms tick (delayed work) for the engine's timers.
 */
#ifndef BT_KMOD_H
#define BT_KMOD_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/wait.h>
#include "bt_engine.h"

#define BT_KMOD_NAME "bollard_target"

struct bt_kmod {
	struct mutex lock;            /* the engine lock                      */
	struct bt_engine *engine;
	struct workqueue_struct *wq;  /* connection transmit                  */
	struct workqueue_struct *io_wq; /* backing I/O                        */
	struct delayed_work tick;
	bool stopping;

	/* net.c */
	struct mutex net_lock;        /* listeners (taken before km->lock)    */
	struct list_head listeners;
	spinlock_t conns_lock;
	struct list_head conns;
	unsigned nconns;
	wait_queue_head_t conns_wq;
};

extern const struct bt_host_ops bt_kmod_ops;

/* net.c */
int  bt_net_init(struct bt_kmod *km, const char *portals);
/* Listen on the module parameter portals plus every portal of every target
 * (after a management change). Call without km->lock. */
void bt_net_sync(struct bt_kmod *km);
/* Stop listening. Connections are left alone. */
void bt_net_stop_listeners(struct bt_kmod *km);
/* Shut every connection's socket; with wait, until all are gone. */
void bt_net_drop_all(struct bt_kmod *km, bool wait);
int  bt_net_conn_send(void *host, void *host_conn, const struct bt_iov *iov,
		      unsigned n);
void bt_net_conn_close(void *host, void *host_conn);

/* bdev.c */
int  bt_bdev_open(void *host, const char *path, u32 flags,
		  struct bt_bdev **out, u64 *size);
void bt_bdev_close(void *host, struct bt_bdev *b);
void bt_bdev_submit(void *host, struct bt_bdev *b, struct bt_io *io);
int bt_bdev_map_status(void *host, struct bt_bdev *b, u64 offset, u64 max,
		       u64 *len);
u32 bt_bdev_phys_block(void *host, struct bt_bdev *b);

/* genl.c */
int  bt_genl_init(struct bt_kmod *km);
void bt_genl_exit(struct bt_kmod *km);
void bt_genl_event(void *host, const struct bt_event *ev);

#endif
