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
/* Stop watching fd (does not close it). Safe to call from a callback. */
void bt_loop_del(struct bt_loop *l, int fd);

#endif
