/*
 * mgmt_sock.c - bollard-target's management socket (mgmt_sock.h).
 *
 * SOCK_SEQPACKET keeps message boundaries, so one datagram is one request or
 * one reply message and no length prefix is needed. Replies can be large (a
 * dump of 10,000 LUNs is a couple of megabytes in 8..64 KiB messages), more
 * than the socket buffer holds, and the loop must never block: whatever
 * send() does not take is queued per client and flushed on BT_LOOP_OUT.
 * While a client has output queued its further requests are not read, so a
 * client that does not read its replies cannot make us queue without bound.
 * Event subscribers are the exception (they never send): their queue is
 * capped and a subscriber that falls behind is disconnected.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "bt_loop.h"
#include "bt_engine.h"
#include "bt_mgmt.h"
#include "mgmt_sock.h"

#define REPLY_MSG_SIZE   BT_MGMT_MSG_MAX    /* per reply datagram          */
#define SUB_QUEUE_MAX    (256 * 1024)       /* subscriber backlog cap      */

struct outbuf {
	struct outbuf *next;
	size_t len;
	unsigned char data[];
};

struct client {
	struct client *next;
	struct bt_mgmt_srv *srv;
	int fd;
	bool subscriber;
	bool dead;                    /* close once back in the loop          */
	struct outbuf *oq_head, **oq_tail;
	size_t oq_bytes;
};

struct bt_mgmt_srv {
	struct bt_loop *loop;
	struct bt_engine *e;
	int fd;
	char *path;
	struct client *clients;
	void *rx;                     /* BT_MGMT_MSG_MAX, 8-byte aligned      */
};

static void client_free(struct client *c)
{
	struct client **pp;
	struct outbuf *o;

	for (pp = &c->srv->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bt_loop_del(c->srv->loop, c->fd);
	close(c->fd);
	while ((o = c->oq_head)) {
		c->oq_head = o->next;
		free(o);
	}
	free(c);
}

static void client_update_events(struct client *c)
{
	unsigned ev;

	if (c->dead)
		return;
	ev = c->oq_head ? BT_LOOP_OUT : BT_LOOP_IN;

	bt_loop_mod(c->srv->loop, c->fd, ev);
}

/* Send what is queued. 0, or -errno when the client must go. */
static int client_flush(struct client *c)
{
	struct outbuf *o;

	while ((o = c->oq_head)) {
		ssize_t n = send(c->fd, o->data, o->len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c->oq_head = o->next;
		if (!c->oq_head)
			c->oq_tail = &c->oq_head;
		c->oq_bytes -= o->len;
		free(o);
	}
	return 0;
}

/* Send one message now if possible, else queue it. */
static int client_send(struct client *c, const void *msg, size_t len)
{
	struct outbuf *o;

	if (!c->oq_head) {
		ssize_t n;

		do {
			n = send(c->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n >= 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
	}
	if (c->subscriber && c->oq_bytes + len > SUB_QUEUE_MAX)
		return -ENOBUFS;
	o = malloc(sizeof(*o) + len);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = len;
	memcpy(o->data, msg, len);
	*c->oq_tail = o;
	c->oq_tail = &o->next;
	c->oq_bytes += len;
	return 0;
}

static int reply_cb(void *arg, const void *msg, bt_size_t len)
{
	return client_send(arg, msg, len);
}

static void client_cb(void *arg, int fd, unsigned events)
{
	struct client *c = arg;
	ssize_t n;
	int rc;

	if (c->dead)
		goto out_drop;
	if (events & BT_LOOP_OUT) {
		if (client_flush(c) < 0)
			goto out_drop;
	}
	if ((events & BT_LOOP_IN) && !c->oq_head) {
		n = recv(fd, c->srv->rx, BT_MGMT_MSG_MAX, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			goto out_update;
		if (n <= 0)
			goto out_drop;      /* closed or broken */
		if (n > BT_MGMT_MSG_MAX) {
			bt_warn("mgmt: request of %zd bytes dropped (max %u)", n,
				BT_MGMT_MSG_MAX);
			goto out_drop;
		}
		if (bt_mgmt_req_cmd(c->srv->rx, (bt_size_t)n) == BT_CMD_SUBSCRIBE)
			c->subscriber = true;
		rc = bt_mgmt_handle(c->srv->e, c->srv->rx, (bt_size_t)n,
				    REPLY_MSG_SIZE, reply_cb, c);
		/* The request may have carried CHAP secrets. */
		explicit_bzero(c->srv->rx, (size_t)n);
		if (rc < 0 || c->dead)
			goto out_drop;
	} else if ((events & BT_LOOP_ERR) && !c->oq_head) {
		goto out_drop;
	}
out_update:
	client_update_events(c);
	return;
out_drop:
	client_free(c);
}

static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void accept_cb(void *arg, int fd, unsigned events)
{
	struct bt_mgmt_srv *srv = arg;
	struct client *c;
	int cfd;

	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			return;     /* EAGAIN, or out of fds: try next time */
		}
		if (!peer_allowed(cfd)) {
			bt_warn("mgmt: connection refused: peer is not root");
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->srv = srv;
		c->fd = cfd;
		c->oq_tail = &c->oq_head;
		if (bt_loop_add(srv->loop, cfd, BT_LOOP_IN, client_cb, c) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = srv->clients;
		srv->clients = c;
	}
}

/* mkdir -p for the socket's directory (mode 0755). */
static int mkdir_parent(const char *path)
{
	char *d = strdup(path), *p;
	int rc = 0;

	if (!d)
		return -ENOMEM;
	p = strrchr(d, '/');
	if (!p || p == d)
		goto out;
	*p = 0;
	for (p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(d, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			goto out;
		}
		*p = '/';
	}
	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		rc = -errno;
out:
	free(d);
	return rc;
}

struct bt_mgmt_srv *bt_mgmt_srv_new(struct bt_loop *l, struct bt_engine *e,
				    const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct bt_mgmt_srv *srv;
	struct stat st;
	mode_t old;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	srv->loop = l;
	srv->e = e;
	srv->fd = -1;
	srv->path = strdup(path);
	srv->rx = aligned_alloc(8, BT_MGMT_MSG_MAX);
	if (!srv->path || !srv->rx) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = mkdir_parent(path);
	if (rc < 0)
		goto out_free;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			rc = -EEXIST;
			bt_err("mgmt: %s exists and is not a socket", path);
			goto out_free;
		}
		unlink(path);
	}
	srv->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	/* Created 0600 from the start (umask), chmod again to be sure; the
	 * SO_PEERCRED check on accept is the real gate. */
	old = umask(0177);
	rc = bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0) {
		rc = -errno;
		goto out_close;
	}
	if (chmod(path, 0600) < 0 || listen(srv->fd, 16) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	rc = bt_loop_add(l, srv->fd, BT_LOOP_IN, accept_cb, srv);
	if (rc < 0)
		goto out_unlink;
	return srv;

out_unlink:
	unlink(path);
out_close:
	close(srv->fd);
out_free:
	bt_err("mgmt: cannot listen on %s: %s", path, strerror(-rc));
	free(srv->rx);
	free(srv->path);
	free(srv);
	errno = -rc;
	return NULL;
}

void bt_mgmt_srv_event(struct bt_mgmt_srv *srv, const struct bt_event *ev)
{
	unsigned char msg[1024];
	struct client *c, *next;
	int n;

	if (!srv)
		return;
	n = bt_mgmt_event_msg(ev, BT_MGMT_MSG_TYPE, msg, sizeof(msg));
	if (n < 0)
		return;
	for (c = srv->clients; c; c = next) {
		next = c->next;
		if (!c->subscriber)
			continue;
		if (c->dead)
			continue;
		if (client_send(c, msg, (size_t)n) < 0) {
			/* Not freed here: we may be inside this very client's
			 * request (an event raised by its command). shutdown
			 * makes the loop call client_cb, which frees it. */
			bt_warn("mgmt: event subscriber too slow, disconnected");
			c->dead = true;
			shutdown(c->fd, SHUT_RDWR);
			bt_loop_mod(srv->loop, c->fd, BT_LOOP_IN);
			continue;
		}
		client_update_events(c);
	}
}

void bt_mgmt_srv_free(struct bt_mgmt_srv *srv)
{
	if (!srv)
		return;
	while (srv->clients)
		client_free(srv->clients);
	bt_loop_del(srv->loop, srv->fd);
	close(srv->fd);
	unlink(srv->path);
	free(srv->path);
	free(srv->rx);
	free(srv);
}
