/*
 * mgmt_sock.h - the management socket of the userspace host bollard-target.
 *
 * A unix SOCK_SEQPACKET socket: every datagram is one management message in
 * the TLV format of kernel/core/bt_mgmt.h (the same bytes the kernel module
 * carries as generic netlink). The server hands each request to the engine's
 * management front end (bt_mgmt_handle) and sends the reply messages back on
 * the same connection; a dump may take several datagrams.
 *
 * Access: the socket file is created mode 0600 and every accepted peer is
 * checked with SO_PEERCRED: only uid 0 or the daemon's own uid may talk to
 * it; anyone else is disconnected at once.
 *
 * Everything runs on the host's event loop thread (bt_loop.h), the same
 * thread that runs the engine, so no locking is needed.
 */
#ifndef BT_MGMT_SOCK_H
#define BT_MGMT_SOCK_H

struct bt_loop;
struct bt_engine;
struct bt_event;
struct bt_mgmt_srv;

/*
 * Create the listening socket at path (an existing socket file there is
 * replaced; a path that exists and is not a socket is an error), chmod it
 * 0600 and register it with the loop. The parent directory is created
 * (mode 0755) if missing. e must outlive the server.
 * Returns NULL on failure with errno set; the reason is logged.
 */
struct bt_mgmt_srv *bt_mgmt_srv_new(struct bt_loop *l, struct bt_engine *e,
				    const char *path);

/*
 * Forward an engine event (struct bt_host_ops.event) to every client that
 * sent BT_CMD_SUBSCRIBE. Never blocks: a subscriber whose socket is full is
 * disconnected. srv may be NULL (no-op), so the host's event callback can
 * call this unconditionally.
 */
void bt_mgmt_srv_event(struct bt_mgmt_srv *srv, const struct bt_event *ev);

/* Close every client and the listening socket, unlink the socket file and
 * free srv. NULL is a no-op. */
void bt_mgmt_srv_free(struct bt_mgmt_srv *srv);

#endif
