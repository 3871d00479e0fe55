/*
 * bt_loop.h - the userspace host's event loop (one thread, epoll).
 * The engine and the management socket run on it; nothing else touches the
 * engine. Callbacks run on the loop thread.
 */
#ifndef BT_LOOP_H
#define BT_LOOP_H

#include <stdint.h>

struct bt_loop;

#define BT_LOOP_IN  0x1
#define BT_LOOP_OUT 0x2
#define BT_LOOP_ERR 0x4

typedef void (*bt_loop_fd_cb)(void *arg, int fd, unsigned events);

/* Watch fd for events (BT_LOOP_IN|OUT). Returns 0 or -errno. */
int  bt_loop_add(struct bt_loop *l, int fd, unsigned events,
		 bt_loop_fd_cb cb, void *arg);
int  bt_loop_mod(struct bt_loop *l, int fd, unsigned events);
/* Stop watching fd (does not close it). Safe to call from a callback: an
 * event already fetched for fd in the same round is not delivered. */
void bt_loop_del(struct bt_loop *l, int fd);

/* ---- lifetime and driving (used by main.c) ------------------------------ */

/* NULL on failure (errno set). */
struct bt_loop *bt_loop_new(void);
/* Every fd must have been deleted (or is simply forgotten). */
void bt_loop_free(struct bt_loop *l);
/*
 * Call cb(arg) about every ms milliseconds (0 disables). One timer per loop:
 * the host's engine tick.
 */
void bt_loop_set_timer(struct bt_loop *l, unsigned ms, void (*cb)(void *arg),
		       void *arg);
/*
 * Call cb(arg) after every round of fd callbacks, before sleeping again: the
 * host flushes its output queues and submits batched I/O there, so a round
 * that produced many PDUs costs one send per connection.
 */
void bt_loop_set_after(struct bt_loop *l, void (*cb)(void *arg), void *arg);
/* Run until bt_loop_stop. Returns 0, or -errno if epoll_wait failed. */
int  bt_loop_run(struct bt_loop *l);
void bt_loop_stop(struct bt_loop *l);

#endif
