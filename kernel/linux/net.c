// SPDX-License-Identifier: GPL-2.0
/*
 * net.c - kernel TCP sockets for bollard_target.ko: a listener (and its
 * accept kthread) per portal, a receive kthread and a transmit work item per
 * connection.
 *
 * Connection lifetime. The receive thread owns the connection: it feeds
 * bytes to the engine (bt_conn_rx, under the engine lock) until the socket
 * reads EOF or fails, or the engine says drop. Whoever wants a connection
 * gone (the engine through conn_close, a failed send, module teardown) only
 * shuts the socket down; the receive thread then sees EOF and alone calls
 * bt_conn_closed() (exactly once, as bt_engine.h demands), waits out the
 * transmit work, frees everything and exits. The thread holds a reference
 * on the module for its whole life, so the module text cannot go away under
 * it and rmmod refuses (EBUSY) while initiators are connected.
 *
 * Transmit. conn_send runs under the engine lock. When the connection's
 * queue is empty it first tries a non-blocking send of the PDU in place;
 * whatever the socket does not take is copied into one buffer on the
 * queue, and the transmit work does the (blocking) kernel_sendmsg without
 * the engine lock. A peer that stops reading thus stalls only its own
 * queue. The queue is capped
 * (BT_TXQ_MAX): past it the connection is declared broken and conn_send
 * fails, which the engine treats as a dead connection.
 */
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/inet.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/tcp.h>
#include <linux/socket.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/net_namespace.h>
#include "bt_kmod.h"

#define BT_RX_BUF   (64 * 1024)
#define BT_TXQ_MAX  (64u * 1024 * 1024)
#define BT_ADDR_LEN 64

struct bt_listener {
	struct list_head node;
	char addr[BT_ADDR_LEN];       /* as configured: "ip:port"             */
	struct socket *sock;
	struct task_struct *task;
	struct bt_kmod *km;
};

struct bt_txbuf {
	struct list_head node;
	size_t len;
	size_t off;
	u8 data[];
};

struct bt_kconn {
	struct list_head node;        /* km->conns                            */
	struct bt_kmod *km;
	struct socket *sock;
	struct bt_conn *conn;         /* the engine's; NULL if bt_conn_new failed */
	spinlock_t txlock;
	struct list_head txq;
	size_t txbytes;
	bool broken;                  /* send failed or queue overflow        */
	struct work_struct tx_work;
	char local[BT_ADDR_LEN];
	char peer[BT_ADDR_LEN];
};

/* "a.b.c.d:port" or "[v6]:port" -> sockaddr. */
static int bt_parse_portal(const char *s, struct sockaddr_storage *ss, int *alen)
{
	const char *colon, *end;
	unsigned int port;
	char host[BT_ADDR_LEN];
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		hl = end - s - 1;
		colon = end + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = colon - s;
	}
	if (hl == 0 || hl >= sizeof(host) || kstrtouint(colon + 1, 10, &port) ||
	    port == 0 || port > 65535)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (!in6_pton(host, -1, a->sin6_addr.s6_addr, -1, NULL))
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*alen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (!in4_pton(host, -1, (u8 *)&a->sin_addr.s_addr, -1, NULL))
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*alen = sizeof(*a);
	}
	return 0;
}

static void bt_fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		snprintf(buf, n, "[%pI6c]:%u", &a->sin6_addr, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		snprintf(buf, n, "%pI4:%u", &a->sin_addr, ntohs(a->sin_port));
	}
}

/* ---- transmit ----------------------------------------------------------- */

static void bt_txq_free(struct bt_kconn *kc)
{
	struct bt_txbuf *t, *tmp;
	LIST_HEAD(q);

	spin_lock(&kc->txlock);
	list_splice_init(&kc->txq, &q);
	kc->txbytes = 0;
	spin_unlock(&kc->txlock);
	list_for_each_entry_safe(t, tmp, &q, node)
		kvfree(t);
}

static void bt_tx_work(struct work_struct *w)
{
	struct bt_kconn *kc = container_of(w, struct bt_kconn, tx_work);
	struct bt_txbuf *t;

	for (;;) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		struct kvec v;
		int n;

		spin_lock(&kc->txlock);
		t = list_first_entry_or_null(&kc->txq, struct bt_txbuf, node);
		spin_unlock(&kc->txlock);
		if (!t || READ_ONCE(kc->broken))
			break;
		v.iov_base = t->data + t->off;
		v.iov_len = t->len - t->off;
		n = kernel_sendmsg(kc->sock, &msg, &v, 1, v.iov_len);
		if (n <= 0) {
			WRITE_ONCE(kc->broken, true);
			kernel_sock_shutdown(kc->sock, SHUT_RDWR);
			break;
		}
		t->off += n;
		if (t->off < t->len)
			continue;
		spin_lock(&kc->txlock);
		list_del(&t->node);
		kc->txbytes -= t->len;
		spin_unlock(&kc->txlock);
		kvfree(t);
	}
	if (READ_ONCE(kc->broken))
		bt_txq_free(kc);
}

int bt_net_conn_send(void *host, void *host_conn, const struct bt_iov *iov,
		     unsigned n)
{
	struct bt_kmod *km = host;
	struct bt_kconn *kc = host_conn;
	struct bt_txbuf *t;
	size_t len = 0, off = 0, skip = 0;
	bool idle;
	unsigned i;

	if (READ_ONCE(kc->broken))
		return -ECONNRESET;
	for (i = 0; i < n; i++)
		len += iov[i].len;
	if (!len)
		return 0;

	/*
	 * Fast path: with nothing queued, nobody else is sending on this
	 * socket (the transmit work only sends queued buffers, and only
	 * conn_send queues, serialised by the engine lock). So try a
	 * non-blocking send right here and queue only what the socket did not
	 * take, saving the work item hop and the copy for most PDUs.
	 */
	spin_lock(&kc->txlock);
	idle = list_empty(&kc->txq);
	spin_unlock(&kc->txlock);
	if (idle && n <= 8) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT };
		struct kvec v[8];
		int sent;

		for (i = 0; i < n; i++) {
			v[i].iov_base = (void *)iov[i].base;
			v[i].iov_len = iov[i].len;
		}
		sent = kernel_sendmsg(kc->sock, &msg, v, n, len);
		if (sent == (int)len)
			return 0;
		if (sent < 0 && sent != -EAGAIN) {
			WRITE_ONCE(kc->broken, true);
			kernel_sock_shutdown(kc->sock, SHUT_RDWR);
			return -ECONNRESET;
		}
		if (sent > 0)
			skip = sent;
	}

	t = kvmalloc(sizeof(*t) + len - skip, GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	/* Copy what was not sent: skip the first `skip` bytes of the iovecs. */
	for (i = 0; i < n; i++) {
		size_t l = iov[i].len;
		const u8 *b = iov[i].base;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		memcpy(t->data + off, b + skip, l - skip);
		off += l - skip;
		skip = 0;
	}
	t->len = off;
	t->off = 0;
	spin_lock(&kc->txlock);
	if (kc->txbytes + t->len > BT_TXQ_MAX) {
		spin_unlock(&kc->txlock);
		kvfree(t);
		pr_warn("bollard_target: %s: transmit queue over %u bytes, dropping\n",
			kc->peer, BT_TXQ_MAX);
		WRITE_ONCE(kc->broken, true);
		kernel_sock_shutdown(kc->sock, SHUT_RDWR);
		return -ECONNRESET;
	}
	list_add_tail(&t->node, &kc->txq);
	kc->txbytes += t->len;
	spin_unlock(&kc->txlock);
	queue_work(km->wq, &kc->tx_work);
	return 0;
}

void bt_net_conn_close(void *host, void *host_conn)
{
	struct bt_kconn *kc = host_conn;

	/*
	 * Let queued PDUs (a Logout Response, a Reject) go out first: the
	 * receive thread sees EOF once the peer closes, or the shutdown below
	 * after the queue drained. SHUT_RD wakes our own reader now; the peer
	 * still gets the queued bytes, then FIN from SHUT_WR in teardown.
	 */
	kernel_sock_shutdown(kc->sock, SHUT_RD);
}

/* ---- receive ------------------------------------------------------------ */

static int bt_rx_thread(void *arg)
{
	struct bt_kconn *kc = arg;
	struct bt_kmod *km = kc->km;
	void *buf;
	int n, rc = 0;

	buf = kvmalloc(BT_RX_BUF, GFP_KERNEL);
	while (buf && kc->conn) {
		struct msghdr msg = { 0 };
		struct kvec v = { .iov_base = buf, .iov_len = BT_RX_BUF };

		n = kernel_recvmsg(kc->sock, &msg, &v, 1, BT_RX_BUF, 0);
		if (n <= 0)
			break;
		mutex_lock(&km->lock);
		rc = bt_conn_rx(kc->conn, buf, n);
		mutex_unlock(&km->lock);
		if (rc < 0)
			break;
	}
	kvfree(buf);

	/* Let the transmit queue drain (a final Logout Response), then close. */
	flush_work(&kc->tx_work);
	kernel_sock_shutdown(kc->sock, SHUT_RDWR);
	if (kc->conn) {
		mutex_lock(&km->lock);
		bt_conn_closed(kc->conn);
		mutex_unlock(&km->lock);
	}
	/* The engine no longer refers to kc: nothing queues transmit work. */
	WRITE_ONCE(kc->broken, true);
	cancel_work_sync(&kc->tx_work);
	bt_txq_free(kc);

	spin_lock(&km->conns_lock);
	list_del(&kc->node);
	km->nconns--;
	spin_unlock(&km->conns_lock);
	wake_up_all(&km->conns_wq);
	sock_release(kc->sock);
	kfree(kc);
	module_put_and_kthread_exit(0);
}

static void bt_net_accepted(struct bt_kmod *km, struct socket *ns)
{
	struct sockaddr_storage ss;
	struct task_struct *task;
	struct bt_kconn *kc;

	kc = kzalloc(sizeof(*kc), GFP_KERNEL);
	if (!kc)
		goto out_release;
	kc->km = km;
	kc->sock = ns;
	spin_lock_init(&kc->txlock);
	INIT_LIST_HEAD(&kc->txq);
	INIT_WORK(&kc->tx_work, bt_tx_work);
	tcp_sock_set_nodelay(ns->sk);
	memset(&ss, 0, sizeof(ss));
	if (kernel_getsockname(ns, (struct sockaddr *)&ss) >= 0)
		bt_fmt_addr(&ss, kc->local, sizeof(kc->local));
	memset(&ss, 0, sizeof(ss));
	if (kernel_getpeername(ns, (struct sockaddr *)&ss) >= 0)
		bt_fmt_addr(&ss, kc->peer, sizeof(kc->peer));

	if (!try_module_get(THIS_MODULE))
		goto out_free;
	mutex_lock(&km->lock);
	kc->conn = km->stopping ? NULL : bt_conn_new(km->engine, kc, kc->local, kc->peer);
	mutex_unlock(&km->lock);
	if (!kc->conn)
		goto out_put;

	spin_lock(&km->conns_lock);
	list_add_tail(&kc->node, &km->conns);
	km->nconns++;
	spin_unlock(&km->conns_lock);
	task = kthread_run(bt_rx_thread, kc, "bt_rx/%s", kc->peer);
	if (IS_ERR(task)) {
		/* Nobody reads: tell the engine and undo. */
		mutex_lock(&km->lock);
		bt_conn_closed(kc->conn);
		mutex_unlock(&km->lock);
		spin_lock(&km->conns_lock);
		list_del(&kc->node);
		km->nconns--;
		spin_unlock(&km->conns_lock);
		WRITE_ONCE(kc->broken, true);
		cancel_work_sync(&kc->tx_work);
		bt_txq_free(kc);
		goto out_put;
	}
	return;

out_put:
	module_put(THIS_MODULE);
out_free:
	kfree(kc);
out_release:
	sock_release(ns);
}

/* ---- listeners ---------------------------------------------------------- */

static int bt_accept_thread(void *arg)
{
	struct bt_listener *l = arg;

	while (!kthread_should_stop()) {
		struct socket *ns = NULL;
		int err = kernel_accept(l->sock, &ns, 0);

		if (err) {
			if (kthread_should_stop())
				break;
			/* Shut down (we are being stopped) or a transient error
			 * (ENOMEM, ECONNABORTED): do not spin. */
			schedule_timeout_interruptible(HZ / 20);
			continue;
		}
		bt_net_accepted(l->km, ns);
	}
	return 0;
}

static int bt_listener_start(struct bt_kmod *km, const char *addr)
{
	struct sockaddr_storage ss;
	struct bt_listener *l;
	int alen, err;

	err = bt_parse_portal(addr, &ss, &alen);
	if (err) {
		pr_err("bollard_target: bad portal '%s' (want ip:port or [ip6]:port)\n", addr);
		return err;
	}
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return -ENOMEM;
	l->km = km;
	strscpy(l->addr, addr, sizeof(l->addr));
	err = sock_create_kern(&init_net, ss.ss_family, SOCK_STREAM, IPPROTO_TCP, &l->sock);
	if (err)
		goto out_free;
	sock_set_reuseaddr(l->sock->sk);
	tcp_sock_set_nodelay(l->sock->sk);
	err = kernel_bind(l->sock, (struct sockaddr *)&ss, alen);
	if (err)
		goto out_release;
	err = kernel_listen(l->sock, 64);
	if (err)
		goto out_release;
	l->task = kthread_run(bt_accept_thread, l, "bt_accept/%s", addr);
	if (IS_ERR(l->task)) {
		err = PTR_ERR(l->task);
		goto out_release;
	}
	list_add_tail(&l->node, &km->listeners);
	pr_info("bollard_target: listening on %s\n", addr);
	return 0;

out_release:
	sock_release(l->sock);
out_free:
	pr_err("bollard_target: cannot listen on %s: error %d\n", addr, err);
	kfree(l);
	return err;
}

static void bt_listener_stop(struct bt_listener *l)
{
	list_del(&l->node);
	/* Shutting a listening socket wakes its accept() with an error. */
	kernel_sock_shutdown(l->sock, SHUT_RDWR);
	kthread_stop(l->task);
	sock_release(l->sock);
	pr_info("bollard_target: stopped listening on %s\n", l->addr);
	kfree(l);
}

/* Module parameter portals, comma separated; remembered for bt_net_sync. */
static char bt_param_portals[512];

static bool bt_portal_in(const char *list, const char *addr)
{
	size_t n = strlen(addr);
	const char *p = list;

	while (p && *p) {
		if (!strncmp(p, addr, n) && (p[n] == ',' || p[n] == 0))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* A wildcard listener on the same port already accepts for addr. */
static bool bt_portal_covered(struct bt_kmod *km, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	struct bt_listener *l;

	if (!colon)
		return false;
	list_for_each_entry(l, &km->listeners, node) {
		const char *lc = strrchr(l->addr, ':');

		if (!strcmp(l->addr, addr))
			return true;
		if (lc && !strcmp(lc, colon) &&
		    ((!strncmp(l->addr, "0.0.0.0:", 8) && addr[0] != '[') ||
		     !strncmp(l->addr, "[::]:", 5)))
			return true;
	}
	return false;
}

/*
 * The wanted portals, comma separated: the module parameter's plus every
 * portal of every target (read under the engine lock). kmalloc'd.
 */
static char *bt_net_wanted(struct bt_kmod *km)
{
	struct bt_target *t = NULL;
	const size_t cap = 4096;
	const char *p;
	unsigned i;
	size_t len;
	char *want;

	want = kzalloc(cap, GFP_KERNEL);
	if (!want)
		return NULL;
	len = strlen(bt_param_portals);
	memcpy(want, bt_param_portals, len + 1);
	mutex_lock(&km->lock);
	while (km->engine && (t = bt_target_next(km->engine, t))) {
		for (i = 0; (p = bt_target_portal(t, i)); i++) {
			if (bt_portal_in(want, p))
				continue;
			if (len + strlen(p) + 2 >= cap) {
				pr_warn("bollard_target: too many portals, %s ignored\n", p);
				continue;
			}
			len += scnprintf(want + len, cap - len, "%s%s", len ? "," : "", p);
		}
	}
	mutex_unlock(&km->lock);
	return want;
}

static bool bt_is_wildcard(const char *a)
{
	return !strncmp(a, "0.0.0.0:", 8) || !strncmp(a, "[::]:", 5);
}

/*
 * Make the listener set match bt_net_wanted(): stop the unwanted, start
 * the wildcards, then the specific addresses a wildcard does not cover
 * (binding those would fail with EADDRINUSE anyway).
 */
void bt_net_sync(struct bt_kmod *km)
{
	struct bt_listener *l, *tmp;
	char *want, *s, *tok;
	int pass;

	want = bt_net_wanted(km);
	if (!want)
		return;
	mutex_lock(&km->net_lock);
	list_for_each_entry_safe(l, tmp, &km->listeners, node)
		if (!bt_portal_in(want, l->addr))
			bt_listener_stop(l);
	for (pass = 0; pass < 2; pass++) {
		s = kstrdup(want, GFP_KERNEL);
		if (!s)
			break;
		tok = s;
		while (tok) {
			char *a = strsep(&tok, ",");

			if (*a && bt_is_wildcard(a) == (pass == 0) &&
			    !bt_portal_covered(km, a))
				bt_listener_start(km, a);
		}
		kfree(s);
	}
	mutex_unlock(&km->net_lock);
	kfree(want);
}

int bt_net_init(struct bt_kmod *km, const char *portals)
{
	INIT_LIST_HEAD(&km->listeners);
	INIT_LIST_HEAD(&km->conns);
	spin_lock_init(&km->conns_lock);
	init_waitqueue_head(&km->conns_wq);
	mutex_init(&km->net_lock);
	strscpy(bt_param_portals, portals ? portals : "", sizeof(bt_param_portals));
	bt_net_sync(km);
	return 0;
}

void bt_net_stop_listeners(struct bt_kmod *km)
{
	struct bt_listener *l, *tmp;

	mutex_lock(&km->net_lock);
	list_for_each_entry_safe(l, tmp, &km->listeners, node)
		bt_listener_stop(l);
	mutex_unlock(&km->net_lock);
}

void bt_net_drop_all(struct bt_kmod *km, bool wait)
{
	struct bt_kconn *kc;

	spin_lock(&km->conns_lock);
	list_for_each_entry(kc, &km->conns, node)
		kernel_sock_shutdown(kc->sock, SHUT_RDWR);
	spin_unlock(&km->conns_lock);
	if (wait)
		wait_event(km->conns_wq, READ_ONCE(km->nconns) == 0);
}
