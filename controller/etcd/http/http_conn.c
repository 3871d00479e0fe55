/*
 * http_conn.c - connection side of the etcd client over etcd's v3 JSON
 * gateway: endpoints, TCP and TLS, HTTP/1.1 framing and the unary call loop.
 *
 * Why a second transport at all: the `bollard` CLI is a short-lived
 * process, and linking the gRPC C core costs it ~40 ms of dynamic loading
 * (~90 shared libraries: gRPC, abseil, re2, upb, c-ares) before main()
 * runs. etcd serves the same v3 API as JSON over HTTP/1.1 on its client
 * port (grpc-gateway), which needs nothing beyond libc, jansson and, for
 * https, OpenSSL. bollardd keeps the gRPC client (docs/etcd.md).
 *
 * One keep-alive connection per handle carries the unary calls, one at a
 * time, each a POST with a JSON body and a JSON answer (Content-Length, or
 * chunked for errors and for the streaming methods). The connection is
 * opened lazily on the first call and kept; any I/O failure, a timeout or
 * "Connection: close" drops it, so a late answer to a timed-out request can
 * never be read as the answer to the next one.
 *
 * Failover: a call goes to e->cur. A refused/failed connect, a connection
 * reset or a gateway answer with gRPC code UNAVAILABLE moves to the next
 * endpoint; after a whole round of failures it sleeps with capped
 * exponential backoff (100 ms .. 2 s, never past the call's deadline). A
 * connect gives up after BL_HTTP_CONNECT_MS so a black-holed endpoint does
 * not take the whole deadline. As with the gRPC client, a Txn whose answer
 * was lost may be retried (a CAS then reports succeeded = false).
 *
 * TLS (https://): OpenSSL, peer verification always on, against ca_file or
 * the system roots, host name (or IP address) checked against the
 * certificate, optional client certificate. There is no fallback to
 * plaintext: a failed handshake is a failed endpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bl_err.h"
#include "http_internal.h"

void bl__seterr(struct bl_etcd *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->errmsg, sizeof(e->errmsg), fmt, ap);
	va_end(ap);
}

const char *bl_etcd_errmsg(const struct bl_etcd *e)
{
	return e ? e->errmsg : "";
}

struct bl_watches *bl__watches(struct bl_etcd *e)
{
	return &e->ws;
}

/* ---- endpoints ----------------------------------------------------------*/

/* "host:port", "[v6]:port" or "host" (port 2379). */
static int add_endpoint(struct bl_etcd *e, const char *p, size_t len)
{
	struct bl_hep *eps, *ep;
	const char *colon;
	size_t hlen;

	eps = realloc(e->eps, (e->neps + 1) * sizeof(*eps));
	if (!eps)
		return -ENOMEM;
	e->eps = eps;
	ep = &eps[e->neps];
	memset(ep, 0, sizeof(*ep));
	ep->hostport = strndup(p, len);
	if (!ep->hostport)
		return -ENOMEM;
	e->neps++;
	if (p[0] == '[') {
		const char *rb = memchr(p, ']', len);
		if (!rb) {
			bl__seterr(e, "endpoint '%.*s': missing ']'", (int)len, p);
			return -EINVAL;
		}
		ep->host = strndup(p + 1, (size_t)(rb - p - 1));
		colon = (size_t)(rb + 1 - p) < len && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memrchr(p, ':', len);
		hlen = colon ? (size_t)(colon - p) : len;
		ep->host = strndup(p, hlen);
	}
	ep->port = colon ? strndup(colon + 1, len - (size_t)(colon + 1 - p))
			 : strdup("2379");
	if (!ep->host || !ep->port)
		return -ENOMEM;
	if (!*ep->host || !*ep->port) {
		bl__seterr(e, "endpoint '%.*s': no host or port", (int)len, p);
		return -EINVAL;
	}
	return 0;
}

/* ---- TLS ------------------------------------------------------------------*/

static void ssl_errstr(const struct bl_tls *t, char *buf, size_t len)
{
	unsigned long err = t->ERR_get_error();

	if (err)
		t->ERR_error_string_n(err, buf, len);
	else
		snprintf(buf, len, "unknown TLS error");
	t->ERR_clear_error();
}

const char *bl__hconn_lost(const struct bl_hconn *c, bool tls, char *buf,
			   size_t len)
{
	static const char refused[] = "the server refused this client: no client "
				      "certificate, or one it does not trust";
	const char *why = strrchr(c->tls_err, ':');

	/* "error:0A00045C:SSL routines::tlsv13 alert certificate required":
	 * the reason is what follows the last colon. */
	why = why ? why + 1 : c->tls_err;
	if (*why && strstr(why, "alert") && strstr(why, "certificate"))
		snprintf(buf, len, "connection lost: TLS: %s (%s)", why, refused);
	else if (*why)
		snprintf(buf, len, "connection lost: TLS: %s", why);
	else if (tls && !c->nread)
		snprintf(buf, len, "connection lost right after the TLS handshake "
			 "(%s?)", refused);
	else
		snprintf(buf, len, "connection lost");
	return buf;
}

static int check_readable(struct bl_etcd *e, const char *path)
{
	if (path && access(path, R_OK) < 0) {
		int rc = -errno;
		bl__seterr(e, "%s: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

static int make_ssl_ctx(struct bl_etcd *e, const struct bl_etcd_opts *o)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	const struct bl_tls *t;
	char msg[256];
	int rc;

	if ((rc = check_readable(e, o->ca_file)) < 0 ||
	    (rc = check_readable(e, o->cert_file)) < 0 ||
	    (rc = check_readable(e, o->key_file)) < 0)
		return rc;
	if (!!o->cert_file != !!o->key_file) {
		bl__seterr(e, "a client certificate needs both cert_file and key_file");
		return -EINVAL;
	}
	if (!e->tls_on)
		return 0;
	t = e->tls = bl__tls_load(msg, sizeof(msg));
	if (!t) {
		bl__seterr(e, "%s", msg);
		return -ENOPROTOOPT;
	}
	e->ssl_ctx = t->SSL_CTX_new(t->TLS_client_method());
	if (!e->ssl_ctx)
		return -ENOMEM;
	t->SSL_CTX_ctrl(e->ssl_ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	t->SSL_CTX_set_verify(e->ssl_ctx, SSL_VERIFY_PEER, NULL);
	/* etcd's TLS port also speaks HTTP/2 (gRPC); the gateway wants 1.1. */
	t->SSL_CTX_set_alpn_protos(e->ssl_ctx, alpn, sizeof(alpn) - 1);
	if (o->ca_file ? t->SSL_CTX_load_verify_locations(e->ssl_ctx, o->ca_file, NULL) != 1
		       : t->SSL_CTX_set_default_verify_paths(e->ssl_ctx) != 1) {
		ssl_errstr(t, msg, sizeof(msg));
		bl__seterr(e, "%s: %s", o->ca_file ? o->ca_file : "system CA roots", msg);
		return -EINVAL;
	}
	if (o->cert_file) {
		if (t->SSL_CTX_use_certificate_chain_file(e->ssl_ctx, o->cert_file) != 1 ||
		    t->SSL_CTX_use_PrivateKey_file(e->ssl_ctx, o->key_file,
						   SSL_FILETYPE_PEM) != 1 ||
		    t->SSL_CTX_check_private_key(e->ssl_ctx) != 1) {
			ssl_errstr(t, msg, sizeof(msg));
			bl__seterr(e, "client certificate %s / %s: %s",
				   o->cert_file, o->key_file, msg);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- connections ------------------------------------------------------------*/

void bl__hconn_init(struct bl_hconn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void bl__hconn_close(struct bl_hconn *c)
{
	if (c->ssl) {
		/* No close_notify round trip: the socket goes away anyway. */
		c->tls->SSL_set_quiet_shutdown(c->ssl, 1);
		c->tls->SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->off = c->len = c->cap = 0;
}

static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline_ms - bl__now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int tcp_connect(struct bl_etcd *e, const struct bl_hep *ep,
		       int64_t deadline_ms, int *out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	int rc, fd = -1, one = 1, err = 0;

	rc = getaddrinfo(ep->host, ep->port, &hints, &res);
	if (rc) {
		bl__seterr(e, "%s: %s", ep->hostport, gai_strerror(rc));
		return BL_E_UNAVAILABLE;
	}
	rc = BL_E_UNAVAILABLE;
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t sl = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
			    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			goto out_ok;
		err = errno;
		if (err == EINPROGRESS) {
			int w = wait_fd(fd, POLLOUT, deadline_ms);
			if (w == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 &&
			    err == 0)
				goto out_ok;
			if (w == -ETIMEDOUT)
				err = ETIMEDOUT;
		}
		close(fd);
		fd = -1;
	}
	bl__seterr(e, "connect to %s: %s", ep->hostport, strerror(err));
	freeaddrinfo(res);
	return rc;

out_ok:
	freeaddrinfo(res);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = fd;
	return 0;
}

static int tls_handshake(struct bl_etcd *e, struct bl_hconn *c,
			 const struct bl_hep *ep, int64_t deadline_ms)
{
	const struct bl_tls *t = e->tls;
	char msg[256];
	int rc;

	c->tls = t;
	c->ssl = t->SSL_new(e->ssl_ctx);
	if (!c->ssl)
		return -ENOMEM;
	t->SSL_set_fd(c->ssl, c->fd);
	/* An IP literal is matched against the certificate's IP SANs, a
	 * name against its DNS names (and sent as SNI). */
	if (t->X509_VERIFY_PARAM_set1_ip_asc(t->SSL_get0_param(c->ssl), ep->host) != 1) {
		t->SSL_ctrl(c->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
			    TLSEXT_NAMETYPE_host_name, ep->host);
		t->SSL_set1_host(c->ssl, ep->host);
	}
	for (;;) {
		int r = t->SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		switch (t->SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			rc = wait_fd(c->fd, POLLIN, deadline_ms);
			break;
		case SSL_ERROR_WANT_WRITE:
			rc = wait_fd(c->fd, POLLOUT, deadline_ms);
			break;
		default: {
			long v = t->SSL_get_verify_result(c->ssl);
			if (v != X509_V_OK)
				snprintf(msg, sizeof(msg), "certificate verify failed: %s",
					 t->X509_verify_cert_error_string(v));
			else
				ssl_errstr(t, msg, sizeof(msg));
			bl__seterr(e, "TLS handshake with %s: %s", ep->hostport, msg);
			return BL_E_UNAVAILABLE;
		}
		}
		if (rc < 0) {
			bl__seterr(e, "TLS handshake with %s: %s", ep->hostport,
				   strerror(-rc));
			return rc == -ETIMEDOUT ? -ETIMEDOUT : BL_E_UNAVAILABLE;
		}
	}
}

int bl__hconn_open(struct bl_etcd *e, struct bl_hconn *c, size_t ep,
		   int64_t deadline_ms)
{
	int64_t cdl = bl__now_ms() + BL_HTTP_CONNECT_MS;
	int rc;

	bl__hconn_close(c);
	if (cdl > deadline_ms)
		cdl = deadline_ms;
	c->ep = ep;
	c->tls_err[0] = '\0';
	c->nread = 0;
	rc = tcp_connect(e, &e->eps[ep], cdl, &c->fd);
	if (rc < 0)
		return rc;
	if (e->ssl_ctx) {
		rc = tls_handshake(e, c, &e->eps[ep], cdl);
		if (rc < 0) {
			bl__hconn_close(c);
			return rc;
		}
	}
	return 0;
}

/* Write all of p; a closed or reset connection is -EIO. */
static int conn_write(struct bl_etcd *e, struct bl_hconn *c, const char *p,
		      size_t n, int64_t deadline_ms)
{
	while (n) {
		ssize_t w;
		int rc = 0;

		if (c->ssl) {
			int r = c->tls->SSL_write(c->ssl, p, (int)n);
			if (r > 0) {
				w = r;
			} else {
				int err = c->tls->SSL_get_error(c->ssl, r);
				if (err == SSL_ERROR_WANT_READ)
					rc = wait_fd(c->fd, POLLIN, deadline_ms);
				else if (err == SSL_ERROR_WANT_WRITE)
					rc = wait_fd(c->fd, POLLOUT, deadline_ms);
				else
					return -EIO;
				if (rc < 0)
					return rc;
				continue;
			}
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					return -EIO;
				rc = wait_fd(c->fd, POLLOUT, deadline_ms);
				if (rc < 0)
					return rc;
				continue;
			}
		}
		p += w;
		n -= (size_t)w;
	}
	(void)e;
	return 0;
}

int bl__hconn_post(struct bl_etcd *e, struct bl_hconn *c, const char *path,
		   const char *body, size_t len, const char *extra,
		   int64_t deadline_ms)
{
	char *req = NULL;
	int n, rc;

	/* Head and body in one write: one segment for a small request. */
	n = asprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\n"
		     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		     "%s%s%s%s\r\n%.*s",
		     path, e->eps[c->ep].hostport, len,
		     e->token ? "Authorization: " : "", e->token ? e->token : "",
		     e->token ? "\r\n" : "", extra ? extra : "", (int)len, body);
	if (n < 0)
		return -ENOMEM;
	rc = conn_write(e, c, req, (size_t)n, deadline_ms);
	explicit_bzero(req, (size_t)n);    /* may hold a password or token */
	free(req);
	return rc;
}

int bl__hconn_fill(struct bl_etcd *e, struct bl_hconn *c, int64_t deadline_ms)
{
	if (c->off == c->len)
		c->off = c->len = 0;
	if (c->cap - c->len < 16384) {
		size_t cap = c->cap ? c->cap * 2 : 65536;
		char *b;

		if (c->off) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->cap - c->len < 16384) {
			b = realloc(c->buf, cap + 1);
			if (!b)
				return -ENOMEM;
			c->buf = b;
			c->cap = cap;
		}
	}
	for (;;) {
		ssize_t r;
		int rc = 0;

		if (c->ssl) {
			const struct bl_tls *t = c->tls;
			int n = t->SSL_read(c->ssl, c->buf + c->len, (int)(c->cap - c->len));
			if (n > 0) {
				r = n;
			} else {
				int err = t->SSL_get_error(c->ssl, n);
				if (err == SSL_ERROR_ZERO_RETURN)
					return 0;
				if (err == SSL_ERROR_WANT_READ) {
					if (deadline_ms < 0)
						return -EAGAIN;
					rc = wait_fd(c->fd, POLLIN, deadline_ms);
				} else if (err == SSL_ERROR_WANT_WRITE) {
					if (deadline_ms < 0)
						return -EAGAIN;
					rc = wait_fd(c->fd, POLLOUT, deadline_ms);
				} else {
					/* An EOF without close_notify is an EOF. */
					if (err == SSL_ERROR_SYSCALL && !t->ERR_peek_error())
						return 0;
					ssl_errstr(t, c->tls_err, sizeof(c->tls_err));
					return -EIO;
				}
				if (rc < 0)
					return rc;
				continue;
			}
		} else {
			r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					return -EIO;
				if (deadline_ms < 0)
					return -EAGAIN;
				rc = wait_fd(c->fd, POLLIN, deadline_ms);
				if (rc < 0)
					return rc;
				continue;
			}
		}
		c->len += (size_t)r;
		c->nread += (size_t)r;
		c->buf[c->len] = '\0';
		(void)e;
		return (int)(r > 0 ? r : 0);
	}
}

/* ---- responses --------------------------------------------------------------*/

void bl__hresp_init(struct bl_hresp *r)
{
	memset(r, 0, sizeof(*r));
}

void bl__hresp_free(struct bl_hresp *r)
{
	free(r->body);
	bl__hresp_init(r);
}

static int body_add(struct bl_hresp *r, const char *p, size_t n)
{
	if (r->body_len + n + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;
		char *b;

		while (cap < r->body_len + n + 1)
			cap *= 2;
		b = realloc(r->body, cap);
		if (!b)
			return -ENOMEM;
		r->body = b;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

/* Parse the status line and the headers we care about. */
static int parse_head(struct bl_etcd *e, struct bl_hresp *r, char *h)
{
	char *line, *save = NULL;
	bool first = true;

	for (line = strtok_r(h, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		if (first) {
			first = false;
			if (sscanf(line, "HTTP/1.%*d %d", &r->status) != 1) {
				bl__seterr(e, "not an HTTP response: '%.60s'", line);
				return BL_E_PROTO;
			}
			continue;
		}
		if (!strncasecmp(line, "Content-Length:", 15)) {
			r->left = strtoull(line + 15, NULL, 10);
			r->st = HR_BODY_LEN;
		} else if (!strncasecmp(line, "Transfer-Encoding:", 18) &&
			   strcasestr(line + 18, "chunked")) {
			r->chunked = true;
		} else if (!strncasecmp(line, "Connection:", 11) &&
			   strcasestr(line + 11, "close")) {
			r->close = true;
		}
	}
	if (first) {
		bl__seterr(e, "empty HTTP response head");
		return BL_E_PROTO;
	}
	if (r->chunked)
		r->st = HR_CHUNK_SIZE;
	else if (r->st != HR_BODY_LEN)
		r->st = HR_DONE;      /* etcd always frames its bodies */
	else if (!r->left)
		r->st = HR_DONE;
	return 0;
}

int bl__hresp_feed(struct bl_etcd *e, struct bl_hresp *r, struct bl_hconn *c)
{
	for (;;) {
		char *p = c->buf + c->off, *nl;
		size_t avail = c->len - c->off, n;
		int rc;

		if (r->st == HR_DONE)
			return 1;
		if (!avail)
			return 0;
		switch (r->st) {
		case HR_HEAD:
			nl = memmem(p, avail, "\r\n\r\n", 4);
			if (!nl) {
				if (avail > BL_HTTP_MAX_HEADER) {
					bl__seterr(e, "HTTP response head too long");
					return BL_E_PROTO;
				}
				return 0;
			}
			*nl = '\0';
			c->off += (size_t)(nl - p) + 4;
			rc = parse_head(e, r, p);
			if (rc < 0)
				return rc;
			/* 100 Continue and friends: the real head follows. */
			if (r->status >= 100 && r->status < 200) {
				bl__hresp_init(r);
				continue;
			}
			break;
		case HR_BODY_LEN:
		case HR_CHUNK_DATA:
			n = avail < r->left ? avail : (size_t)r->left;
			if (body_add(r, p, n) < 0)
				return -ENOMEM;
			c->off += n;
			r->left -= n;
			if (!r->left)
				r->st = r->st == HR_BODY_LEN ? HR_DONE : HR_CHUNK_CRLF;
			break;
		case HR_CHUNK_SIZE:
		case HR_CHUNK_CRLF:
		case HR_TRAILER:
			nl = memmem(p, avail, "\r\n", 2);
			if (!nl) {
				if (avail > BL_HTTP_MAX_HEADER) {
					bl__seterr(e, "HTTP chunk framing line too long");
					return BL_E_PROTO;
				}
				return 0;
			}
			c->off += (size_t)(nl - p) + 2;
			if (r->st == HR_CHUNK_CRLF) {
				if (nl != p) {
					bl__seterr(e, "HTTP chunk not followed by CRLF");
					return BL_E_PROTO;
				}
				r->st = HR_CHUNK_SIZE;
			} else if (r->st == HR_TRAILER) {
				if (nl == p)
					r->st = HR_DONE;   /* end of trailers */
			} else {
				char *end;
				*nl = '\0';
				r->left = strtoull(p, &end, 16);
				if (end == p) {
					bl__seterr(e, "bad HTTP chunk size '%.20s'", p);
					return BL_E_PROTO;
				}
				r->st = r->left ? HR_CHUNK_DATA : HR_TRAILER;
			}
			break;
		case HR_DONE:
			return 1;
		}
	}
}

/* ---- the unary call loop --------------------------------------------------*/

void bl__drop_token(struct bl_etcd *e)
{
	free(e->token);
	e->token = NULL;
}

struct hresult {
	int status;                    /* HTTP status                        */
	int code;                      /* gRPC code from an error body       */
	char msg[256];
	json_t *body;
};

/*
 * One attempt on e->cur over the kept connection (opened if needed).
 * Returns 0 with r filled when an answer was read; BL_E_UNAVAILABLE when
 * the endpoint could not be reached or the connection broke; -ETIMEDOUT.
 * A kept connection that turns out closed by the peer before any byte of
 * the answer is retried once on a fresh one (idle keep-alive race).
 */
static int attempt(struct bl_etcd *e, const char *path, const char *body,
		   size_t len, int64_t deadline_ms, struct hresult *res)
{
	struct bl_hconn *c = &e->uc;
	struct bl_hresp r;
	bool reused;
	int rc, tries;
	json_error_t jerr;
	char lost[256];

	for (tries = 0; tries < 2; tries++) {
		reused = c->fd >= 0 && c->ep == e->cur;
		if (!reused) {
			rc = bl__hconn_open(e, c, e->cur, deadline_ms);
			if (rc < 0)
				return rc;
		}
		bl__hresp_init(&r);
		rc = bl__hconn_post(e, c, path, body, len, NULL, deadline_ms);
		while (rc == 0 && (rc = bl__hresp_feed(e, &r, c)) == 0) {
			rc = bl__hconn_fill(e, c, deadline_ms);
			if (rc == 0) {
				rc = -EPIPE;       /* EOF before a whole answer */
				break;
			}
			rc = rc > 0 ? 0 : rc;
		}
		if (rc == 1)
			break;
		bl__hconn_close(c);
		if ((rc == -EPIPE || rc == -EIO) && reused && r.st == HR_HEAD &&
		    !r.body_len && bl__now_ms() < deadline_ms) {
			bl__hresp_free(&r);
			continue;
		}
		if (rc == -ETIMEDOUT)
			bl__seterr(e, "%s on %s: no answer before the deadline",
				   path, e->eps[e->cur].hostport);
		else if (rc == -EPIPE || rc == -EIO)
			bl__seterr(e, "%s on %s: %s", path, e->eps[e->cur].hostport,
				   bl__hconn_lost(c, e->tls_on, lost, sizeof(lost)));
		bl__hresp_free(&r);
		if (rc == BL_E_PROTO || rc == -ENOMEM)
			return rc;
		return rc == -ETIMEDOUT ? -ETIMEDOUT : BL_E_UNAVAILABLE;
	}
	if (r.close)
		bl__hconn_close(c);
	res->status = r.status;
	res->body = r.body_len ? json_loadb(r.body, r.body_len,
					    JSON_DISABLE_EOF_CHECK, &jerr) : NULL;
	res->code = -1;
	res->msg[0] = '\0';
	if (r.status != 200) {
		res->code = res->body ? bl__jerror(res->body, res->msg,
						   sizeof(res->msg)) : -1;
		if (res->code < 0) {
			/* Not the gateway's error body: whatever answered is
			 * no etcd v3 gateway (a proxy, plaintext to a TLS
			 * port, ...). The endpoint is unusable: fail over. */
			snprintf(res->msg, sizeof(res->msg),
				 "HTTP %d from something that is not etcd's v3 "
				 "gateway: %.150s", r.status, r.body ? r.body : "");
			res->code = BL_GRPC_UNAVAILABLE;
		}
	} else if (!res->body) {
		bl__seterr(e, "%s on %s: undecodable JSON answer: %s", path,
			   e->eps[e->cur].hostport, jerr.text);
		bl__hresp_free(&r);
		return BL_E_PROTO;
	}
	bl__hresp_free(&r);
	return 0;
}

static int call_loop(struct bl_etcd *e, const char *path, const char *body,
		     size_t len, int64_t deadline_ms, bool with_token,
		     json_t **resp)
{
	int backoff = BL_ETCD_BACKOFF_MIN_MS;
	size_t failed_in_round = 0;
	bool reauthed = false;
	int rc;

	for (;;) {
		struct hresult r = { 0 };
		size_t ep = e->cur;

		if (with_token && e->user && !e->token) {
			rc = bl__ensure_token(e, deadline_ms);
			if (rc < 0)
				return rc;
		}
		rc = attempt(e, path, body, len, deadline_ms, &r);
		if (rc == 0 && r.status == 200) {
			*resp = r.body;
			return 0;
		}
		if (rc == 0) {
			json_decref(r.body);
			bl__seterr(e, "%s on %s: %s (grpc status %d)", path,
				   e->eps[ep].hostport, r.msg[0] ? r.msg : "no details",
				   r.code);
			if (r.code == BL_GRPC_UNAUTHENTICATED && e->user &&
			    with_token && !reauthed) {
				reauthed = true;
				bl__drop_token(e);
				continue;
			}
			if (r.code != BL_GRPC_UNAVAILABLE)
				return bl__code_rc(r.code, r.msg);
		} else if (rc != BL_E_UNAVAILABLE) {
			return rc;
		}
		/* Unavailable: the next endpoint; back off after a round. */
		e->cur = (ep + 1) % e->neps;
		if (++failed_in_round >= e->neps) {
			failed_in_round = 0;
			if (bl__now_ms() >= deadline_ms)
				return BL_E_UNAVAILABLE;
			bl__backoff_sleep(&backoff, deadline_ms);
		}
		if (bl__now_ms() >= deadline_ms)
			return BL_E_UNAVAILABLE;
	}
}

int bl__ensure_token(struct bl_etcd *e, int64_t deadline_ms)
{
	json_t *req, *resp = NULL;
	const char *tok;
	char *body;
	int rc;

	if (!e->user || e->token)
		return 0;
	req = json_pack("{s:s, s:s}", "name", e->user, "password", e->password);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!body)
		return -ENOMEM;
	rc = call_loop(e, "/v3/auth/authenticate", body, strlen(body),
		       deadline_ms, false, &resp);
	explicit_bzero(body, strlen(body));
	free(body);
	if (rc < 0)
		return rc == BL_E_ETCD ? BL_E_AUTH : rc;
	tok = json_string_value(json_object_get(resp, "token"));
	e->token = strdup(tok ? tok : "");
	json_decref(resp);
	return e->token ? 0 : -ENOMEM;
}

int bl__hcall(struct bl_etcd *e, const char *path, json_t *req, json_t **resp)
{
	char *body = json_dumps(req, JSON_COMPACT);
	int rc;

	*resp = NULL;
	if (!body)
		return -ENOMEM;
	rc = call_loop(e, path, body, strlen(body), bl__now_ms() + e->timeout_ms,
		       true, resp);
	free(body);
	return rc;
}

/* ---- open / close -------------------------------------------------------------*/

static void free_handle(struct bl_etcd *e)
{
	size_t i;

	bl__hconn_close(&e->uc);
	for (i = 0; i < e->neps; i++) {
		free(e->eps[i].host);
		free(e->eps[i].port);
		free(e->eps[i].hostport);
	}
	free(e->eps);
	if (e->ssl_ctx)
		e->tls->SSL_CTX_free(e->ssl_ctx);
	bl__tls_unload(e->tls);
	bl__watches_fini(&e->ws);
	bl__creds_free(e->user, e->password, e->token);
	free(e);
}

int bl_etcd_open(const struct bl_etcd_opts *o, struct bl_etcd **out)
{
	struct bl_etcd *e;
	int rc;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ws.tfd = e->ws.epfd = -1;
	bl__hconn_init(&e->uc);
	e->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	rc = bl__parse_endpoints(e, o->endpoints, add_endpoint, &e->tls_on);
	if (rc < 0)
		goto out_free;
	rc = bl__creds_copy(o, &e->user, &e->password);
	if (rc < 0)
		goto out_free;
	rc = make_ssl_ctx(e, o);
	if (rc < 0)
		goto out_free;
	rc = bl__watches_init(&e->ws, &bl__http_watch_ops, e->user != NULL);
	if (rc < 0)
		goto out_free;
	*out = e;
	return 0;

out_free:
	/* The caller never gets this handle to ask errmsg of. */
	if (o->errbuf && o->errlen)
		snprintf(o->errbuf, o->errlen, "%s", bl_etcd_errmsg(e));
	free_handle(e);
	return rc;
}

void bl_etcd_close(struct bl_etcd *e)
{
	if (!e)
		return;
	bl__watches_cancel_all(&e->ws);
	free_handle(e);
}
