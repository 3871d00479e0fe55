/*
 * net.c - TCP side of the host: listeners, accepted connections and their
 * output queues.
 *
 * Output. conn_send (called by the engine) appends the PDU bytes to the
 * connection's queue and marks it dirty; nothing is written yet. After each
 * round of events the loop calls host_net_flush, which writes each dirty
 * queue with one send(). A read burst that completes 32 commands thus costs
 * one syscall, not 32. Whatever the socket does not take stays queued and
 * EPOLLOUT is armed until it drains.
 *
 * Close. conn_close (from the engine) only marks the connection: the engine
 * is mid-call and must not see bt_conn_closed re-entrantly. The flush then
 * writes what is queued (a final Login or Logout Response), shuts the socket
 * and reports bt_conn_closed. A peer that hangs up is closed at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bt_loop.h"
#include "host.h"

#define OUTQ_MAX (256u << 20)     /* a peer that never reads is dropped   */
#define RX_ROUNDS 4               /* reads per readiness event (fairness) */
#define DIRECT_MIN (64u << 10)    /* PDUs this big try a direct send     */
#define OUTQ_KEEP (4u << 20)      /* queue buffer kept after a drain     */

struct host_conn {
	struct host *h;
	int fd;
	struct bt_conn *bc;
	unsigned char *out;
	size_t head, tail, cap;
	struct host_conn *dirty_next;
	struct host_conn *next, *prev;  /* h->all                           */
	bool in_dirty;
	bool want_close;
	bool out_armed;
	bool dead;                      /* fd closed; free when off dirty  */
};

static void conn_unlink(struct host *h, struct host_conn *hc)
{
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		h->all = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	hc->next = hc->prev = NULL;
}

/* Close the socket and tell the engine. Frees hc unless it is queued on the
 * dirty list (then the flush frees it). */
static void conn_destroy(struct host_conn *hc)
{
	struct host *h = hc->h;

	if (hc->dead)
		return;
	hc->dead = true;
	bt_loop_del(h->loop, hc->fd);
	close(hc->fd);
	conn_unlink(h, hc);
	h->nconns--;
	bt_conn_closed(hc->bc);
	hc->bc = NULL;
	free(hc->out);
	hc->out = NULL;
	if (!hc->in_dirty)
		free(hc);
}

static void mark_dirty(struct host_conn *hc)
{
	if (hc->in_dirty)
		return;
	hc->in_dirty = true;
	hc->dirty_next = hc->h->dirty;
	hc->h->dirty = hc;
}

static ssize_t writev_nb(int fd, struct iovec *v, int n)
{
	struct msghdr mh;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = v;
	mh.msg_iovlen = (size_t)n;
	return sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int host_conn_send(void *host, void *host_conn, const struct bt_iov *iov,
		   unsigned n);

/* The first `sent` of total bytes of iov went out directly: queue the rest. */
static int queue_rest(struct host_conn *hc, const struct bt_iov *iov,
		      unsigned n, size_t sent, size_t total)
{
	struct bt_iov rest[8];
	unsigned i, k = 0;

	if (sent >= total)
		return 0;
	for (i = 0; i < n; i++) {
		if (sent >= iov[i].len) {
			sent -= iov[i].len;
			continue;
		}
		rest[k].base = (const u8 *)iov[i].base + sent;
		rest[k].len = iov[i].len - sent;
		sent = 0;
		k++;
	}
	return host_conn_send(hc->h, hc, rest, k);
}

int host_conn_send(void *host, void *host_conn, const struct bt_iov *iov,
		   unsigned n)
{
	struct host_conn *hc = host_conn;
	size_t total = 0, need;
	unsigned i;

	(void)host;
	if (hc->dead || hc->want_close)
		return -BT_ECONNRESET;
	for (i = 0; i < n; i++)
		total += iov[i].len;
	/*
	 * A large PDU (read data) with nothing queued before it is sent at
	 * once from the engine's buffers, and only what the socket does not
	 * take is copied: saves a copy of every large read, and the page
	 * faults of growing the queue for it.
	 */
	if (total >= DIRECT_MIN && hc->head == hc->tail && n <= 8) {
		struct iovec v[8];
		ssize_t w;

		for (i = 0; i < n; i++) {
			v[i].iov_base = (void *)iov[i].base;
			v[i].iov_len = iov[i].len;
		}
		do {
			w = writev_nb(hc->fd, v, (int)n);
		} while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -BT_ECONNRESET;
		if (w > 0)
			return queue_rest(hc, iov, n, (size_t)w, total);
	}
	need = hc->tail + total;
	if (need > hc->cap) {
		/* Compact first; grow only if that is not enough. */
		if (hc->head) {
			memmove(hc->out, hc->out + hc->head, hc->tail - hc->head);
			hc->tail -= hc->head;
			hc->head = 0;
			need = hc->tail + total;
		}
		if (need > hc->cap) {
			size_t cap = hc->cap ? hc->cap : 65536;
			unsigned char *nb;

			while (cap < need)
				cap *= 2;
			if (cap > OUTQ_MAX)
				return -BT_ENOMEM;
			nb = realloc(hc->out, cap);
			if (!nb)
				return -BT_ENOMEM;
			hc->out = nb;
			hc->cap = cap;
		}
	}
	for (i = 0; i < n; i++) {
		memcpy(hc->out + hc->tail, iov[i].base, iov[i].len);
		hc->tail += iov[i].len;
	}
	mark_dirty(hc);
	return 0;
}

void host_conn_close(void *host, void *host_conn)
{
	struct host_conn *hc = host_conn;

	(void)host;
	if (hc->dead)
		return;
	hc->want_close = true;
	mark_dirty(hc);
}

/* Write what we can. Returns 0, or -1 if the connection died. */
static int conn_flush(struct host_conn *hc)
{
	while (hc->head < hc->tail) {
		ssize_t w = send(hc->fd, hc->out + hc->head, hc->tail - hc->head,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		hc->head += (size_t)w;
	}
	if (hc->head == hc->tail) {
		hc->head = hc->tail = 0;
		if (hc->cap > OUTQ_KEEP) {    /* give back a burst's buffer  */
			free(hc->out);
			hc->out = NULL;
			hc->cap = 0;
		}
		if (hc->out_armed) {
			hc->out_armed = false;
			bt_loop_mod(hc->h->loop, hc->fd, BT_LOOP_IN);
		}
		return 0;
	}
	if (!hc->out_armed) {
		hc->out_armed = true;
		bt_loop_mod(hc->h->loop, hc->fd, BT_LOOP_IN | BT_LOOP_OUT);
	}
	return 0;
}

void host_net_flush(struct host *h)
{
	while (h->dirty) {
		struct host_conn *hc = h->dirty;

		h->dirty = hc->dirty_next;
		hc->in_dirty = false;
		if (hc->dead) {
			free(hc);
			continue;
		}
		if (conn_flush(hc) < 0) {
			conn_destroy(hc);
			continue;
		}
		if (hc->want_close && hc->head == hc->tail) {
			shutdown(hc->fd, SHUT_RDWR);
			conn_destroy(hc);
		}
	}
}

static void conn_event(void *arg, int fd, unsigned events)
{
	struct host_conn *hc = arg;
	struct host *h = hc->h;
	int round;

	if (events & BT_LOOP_OUT) {
		if (conn_flush(hc) < 0) {
			conn_destroy(hc);
			return;
		}
		if (hc->want_close && hc->head == hc->tail) {
			conn_destroy(hc);
			return;
		}
	}
	if (!(events & (BT_LOOP_IN | BT_LOOP_ERR)))
		return;
	for (round = 0; round < RX_ROUNDS; round++) {
		ssize_t r = recv(fd, h->rxbuf, h->rxcap, MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_destroy(hc);
			return;
		}
		if (r == 0) {
			conn_destroy(hc);
			return;
		}
		if (hc->want_close)
			continue;         /* draining a connection we close   */
		if (bt_conn_rx(hc->bc, h->rxbuf, (size_t)r) < 0)
			return;           /* engine called conn_close          */
		if ((size_t)r < h->rxcap)
			return;
	}
}

static void fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, n, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, n, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

static void listen_event(void *arg, int lfd, unsigned events)
{
	struct host *h = arg;

	for (;;) {
		struct sockaddr_storage peer, local;
		socklen_t plen = sizeof(peer), llen = sizeof(local);
		char pbuf[80], lbuf[80];
		struct host_conn *hc;
		int one = 1, fd;

		fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				bt_warn("accept: %s\n", strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		getsockname(fd, (struct sockaddr *)&local, &llen);
		fmt_addr(&peer, pbuf, sizeof(pbuf));
		fmt_addr(&local, lbuf, sizeof(lbuf));
		hc = calloc(1, sizeof(*hc));
		if (!hc) {
			close(fd);
			continue;
		}
		hc->h = h;
		hc->fd = fd;
		hc->bc = bt_conn_new(h->e, hc, lbuf, pbuf);
		if (!hc->bc || bt_loop_add(h->loop, fd, BT_LOOP_IN, conn_event, hc)) {
			if (hc->bc)
				bt_conn_closed(hc->bc);
			free(hc);
			close(fd);
			continue;
		}
		hc->next = h->all;
		if (h->all)
			h->all->prev = hc;
		h->all = hc;
		h->nconns++;
		bt_debug("connection from %s to %s\n", pbuf, lbuf);
	}
}

int host_listen(struct host *h, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	char ip[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(addr, ':');
	long port;
	char *end;
	int fd, one = 1;

	if (!colon || h->nlfds >= sizeof(h->lfds) / sizeof(h->lfds[0]))
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535 || (size_t)(colon - addr) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, addr, (size_t)(colon - addr));
	ip[colon - addr] = 0;
	memset(&ss, 0, sizeof(ss));
	if (ip[0] == '[') {
		struct sockaddr_in6 *s6 = (void *)&ss;
		size_t l = strlen(ip);

		if (l < 2 || ip[l - 1] != ']')
			return -EINVAL;
		ip[l - 1] = 0;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, ip + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		slen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, ip[0] ? ip : "0.0.0.0", &s4->sin_addr) != 1)
			return -EINVAL;
		slen = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, slen) < 0 || listen(fd, 128) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	if (bt_loop_add(h->loop, fd, BT_LOOP_IN, listen_event, h)) {
		close(fd);
		return -ENOMEM;
	}
	h->lfds[h->nlfds++] = fd;
	return 0;
}

void host_unlisten(struct host *h)
{
	unsigned i;

	for (i = 0; i < h->nlfds; i++) {
		bt_loop_del(h->loop, h->lfds[i]);
		close(h->lfds[i]);
	}
	h->nlfds = 0;
}

void host_close_all(struct host *h)
{
	host_net_flush(h);
	while (h->all)
		conn_destroy(h->all);
	host_net_flush(h);
}
