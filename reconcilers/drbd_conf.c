/*
 * drbd_conf.c - DRBD configuration syntax: parse .res files and
 * `drbdsetup show` output into struct drbd_res, render a .res file.
 *
 * Both inputs use one grammar: statements of words ending in ';' or in a
 * '{ ... }' block; words are bare or "quoted"; '#' starts a comment. We
 * parse into a small generic tree first and then pick out the fields we
 * manage, ignoring everything else (options we do not set are left to
 * DRBD's defaults, which is what `drbdsetup show` omits too).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_err.h"
#include "drbd_int.h"

#define MAX_WORDS 8
#define MAX_DEPTH 16

struct cnode {
	char *w[MAX_WORDS];
	int nw;
	bool block;
	struct cnode *kids;   /* first child */
	struct cnode *next;
};

struct lexer {
	const char *s;
	int line;
	char *err;
	size_t errlen;
};

static void cnode_free(struct cnode *n)
{
	while (n) {
		struct cnode *next = n->next;

		for (int i = 0; i < n->nw; i++)
			free(n->w[i]);
		cnode_free(n->kids);
		free(n);
		n = next;
	}
}

static int lex_err(struct lexer *lx, const char *msg)
{
	snprintf(lx->err, lx->errlen, "line %d: %s", lx->line, msg);
	return BL_E_PARSE;
}

/* Next token: returns 1 word (in *word, new), '{', '}', ';', 0 at end,
 * or negative on error. */
static int lex_next(struct lexer *lx, char **word)
{
	const char *s = lx->s;

	for (;;) {
		while (isspace((unsigned char)*s)) {
			if (*s == '\n')
				lx->line++;
			s++;
		}
		if (*s != '#')
			break;
		while (*s && *s != '\n')
			s++;
	}
	if (!*s) {
		lx->s = s;
		return 0;
	}
	if (*s == '{' || *s == '}' || *s == ';') {
		lx->s = s + 1;
		return *s;
	}
	if (*s == '"') {
		const char *e = ++s;
		char *w, *o;

		while (*e && *e != '"' && *e != '\n')
			e += (*e == '\\' && e[1]) ? 2 : 1;
		if (*e != '"')
			return lex_err(lx, "unterminated string");
		w = o = malloc((size_t)(e - s) + 1);
		if (!w)
			return -ENOMEM;
		while (s < e) {
			if (*s == '\\' && s + 1 < e)
				s++;
			*o++ = *s++;
		}
		*o = '\0';
		*word = w;
		lx->s = e + 1;
		return 1;
	}
	{
		const char *e = s;

		while (*e && !isspace((unsigned char)*e) && !strchr("{};#\"", *e))
			e++;
		*word = strndup(s, (size_t)(e - s));
		lx->s = e;
		return *word ? 1 : -ENOMEM;
	}
}

/* Parse statements until '}' (depth > 0) or end (depth 0). */
static int parse_block(struct lexer *lx, int depth, struct cnode **out)
{
	struct cnode *head = NULL, **tail = &head, *cur = NULL;
	int rc;

	if (depth > MAX_DEPTH)
		return lex_err(lx, "nested too deep");
	for (;;) {
		char *w = NULL;
		int t = lex_next(lx, &w);

		if (t < 0) {
			rc = t;
			goto out_free;
		}
		if (t == 0 || t == '}') {
			if (cur) {
				rc = lex_err(lx, "statement without ';'");
				goto out_free;
			}
			if ((t == 0) != (depth == 0)) {
				rc = lex_err(lx, t ? "unexpected '}'"
						   : "missing '}'");
				goto out_free;
			}
			*out = head;
			return 0;
		}
		if (t == 1) {
			if (!cur) {
				cur = calloc(1, sizeof(*cur));
				if (!cur) {
					free(w);
					rc = -ENOMEM;
					goto out_free;
				}
				*tail = cur;
				tail = &cur->next;
			}
			if (cur->nw == MAX_WORDS) {
				free(w);
				rc = lex_err(lx, "too many words");
				goto out_free;
			}
			cur->w[cur->nw++] = w;
			continue;
		}
		if (t == ';') {
			cur = NULL; /* a lone ';' is harmless */
			continue;
		}
		/* '{' */
		if (!cur) {
			rc = lex_err(lx, "block without a name");
			goto out_free;
		}
		cur->block = true;
		rc = parse_block(lx, depth + 1, &cur->kids);
		if (rc)
			goto out_free;
		cur = NULL;
	}
out_free:
	cnode_free(head);
	return rc;
}

static const struct cnode *find(const struct cnode *n, const char *w0)
{
	for (; n; n = n->next)
		if (n->nw && !strcmp(n->w[0], w0))
			return n;
	return NULL;
}

static const char *arg1(const struct cnode *kids, const char *w0)
{
	const struct cnode *n = find(kids, w0);

	return n && n->nw >= 2 && !n->block ? n->w[1] : NULL;
}

/* "fencing POLICY;" anywhere under a resource: .res files put it in net
 * (DRBD 9) or disk (8.4) at resource level, `drbdsetup show` in each
 * connection's net (9) or the volume's disk block (8.4). */
static const char *find_fencing(const struct cnode *n)
{
	for (; n; n = n->next) {
		const char *f;

		if (n->block) {
			if ((f = find_fencing(n->kids)))
				return f;
		} else if (n->nw >= 2 && !strcmp(n->w[0], "fencing")) {
			return n->w[1];
		}
	}
	return NULL;
}

/* DRBD's default policy counts as absent, as `drbdsetup show` omits it. */
static int set_fencing(struct drbd_res *r, const struct cnode *res)
{
	const char *f = find_fencing(res->kids);

	if (!f || !strcmp(f, "dont-care"))
		return 0;
	r->fencing = strdup(f);
	return r->fencing ? 0 : -ENOMEM;
}

static int to_int(const char *s, int def)
{
	char *end;
	long v;

	if (!s)
		return def;
	v = strtol(s, &end, 10);
	return *end || end == s || v < 0 || v > 1 << 20 ? def : (int)v;
}

/* "ipv4 10.0.0.1:7789" from a statement "<kw> ipv4 10.0.0.1:7789" or
 * "<kw> 10.0.0.1:7789" (address family defaults to ipv4). */
static char *addr_of(const struct cnode *n)
{
	char *s = NULL;

	if (!n || n->block || n->nw < 2)
		return NULL;
	if (n->nw >= 3) {
		if (asprintf(&s, "%s %s", n->w[1], n->w[2]) < 0)
			return NULL;
	} else if (asprintf(&s, "ipv4 %s", n->w[1]) < 0) {
		return NULL;
	}
	return s;
}

void drbd_res_free(struct drbd_res *r)
{
	free(r->name);
	free(r->disk);
	free(r->meta_disk);
	free(r->addr);
	for (size_t i = 0; i < r->npeers; i++) {
		free(r->peers[i].name);
		free(r->peers[i].addr);
	}
	free(r->peers);
	free(r->own.volume);
	free(r->own.policy);
	free(r->own.backing);
	free(r->own.vg);
	free(r->own.lv);
	free(r->fencing);
	free(r->pcmk_clone);
	memset(r, 0, sizeof(*r));
}

void drbd_res_array_free(struct drbd_res *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		drbd_res_free(&v[i]);
	free(v);
}

static int add_peer(struct drbd_res *r, const char *name, int node_id,
		    char *addr /* taken */)
{
	struct drbd_peer *p = realloc(r->peers, (r->npeers + 1) * sizeof(*p));

	if (!p) {
		free(addr);
		return -ENOMEM;
	}
	r->peers = p;
	p = &r->peers[r->npeers];
	p->name = strdup(name ? name : "");
	p->node_id = node_id;
	p->addr = addr;
	if (!p->name) {
		free(addr);
		return -ENOMEM;
	}
	r->npeers++;
	return 0;
}

static char protocol_of(const char *s)
{
	return s && (s[0] == 'A' || s[0] == 'B' || s[0] == 'C') && !s[1]
		? s[0] : 0;
}

static int volume0(const struct cnode *on, struct drbd_res *r)
{
	for (const struct cnode *v = on; v; v = v->next) {
		const char *minor;
		const struct cnode *dev;

		if (!v->block || v->nw < 2 || strcmp(v->w[0], "volume") ||
		    strcmp(v->w[1], "0"))
			continue;
		dev = find(v->kids, "device");
		/* "device minor N;" or "device /dev/drbdN minor N;" */
		minor = NULL;
		for (int i = 1; dev && i + 1 < dev->nw; i++)
			if (!strcmp(dev->w[i], "minor"))
				minor = dev->w[i + 1];
		r->minor = to_int(minor, -1);
		if (arg1(v->kids, "disk") && !(r->disk = strdup(arg1(v->kids, "disk"))))
			return -ENOMEM;
		if (arg1(v->kids, "meta-disk") &&
		    !(r->meta_disk = strdup(arg1(v->kids, "meta-disk"))))
			return -ENOMEM;
		return 0;
	}
	return 0;
}

/* "# bollard: volume=db policy=Retain backing=lvm vg=vg0 lv=bollard-db" */
static int parse_owner(const char *text, struct drbd_owner *o)
{
	const char *h = strstr(text, "\n" DRBD_HEADER_TAG);
	char *line, *tok, *save = NULL;
	const char *eol;

	if (!strncmp(text, DRBD_HEADER_TAG, strlen(DRBD_HEADER_TAG)))
		h = text;
	else if (h)
		h++;
	else
		return 0;
	h += strlen(DRBD_HEADER_TAG);
	eol = strchr(h, '\n');
	line = strndup(h, eol ? (size_t)(eol - h) : strlen(h));
	if (!line)
		return -ENOMEM;
	for (tok = strtok_r(line, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '='), **dst = NULL;

		if (!eq)
			continue;
		*eq = '\0';
		if (!strcmp(tok, "volume")) dst = &o->volume;
		else if (!strcmp(tok, "policy")) dst = &o->policy;
		else if (!strcmp(tok, "backing")) dst = &o->backing;
		else if (!strcmp(tok, "vg")) dst = &o->vg;
		else if (!strcmp(tok, "lv")) dst = &o->lv;
		if (dst && !*dst && !(*dst = strdup(eq + 1))) {
			free(line);
			return -ENOMEM;
		}
	}
	free(line);
	return 0;
}

static int push_res(struct drbd_res **v, size_t *n, struct drbd_res *r)
{
	struct drbd_res *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = *r;
	return 0;
}

static void init_res(struct drbd_res *r)
{
	memset(r, 0, sizeof(*r));
	r->minor = -1;
	r->node_id = -1;
	r->protocol = 'C';
}

/* ping-int / ping-timeout of a net block (the resource's under 8.4 and in
 * .res files, a connection's under 9); DRBD's defaults count as absent. */
static void net_timing(struct drbd_res *r, const struct cnode *net)
{
	int v;

	if (!net || !net->block)
		return;
	v = to_int(arg1(net->kids, "ping-int"), 0);
	if (v > 0)
		r->ping_int = v == DRBD_PING_INT_DEFAULT ? 0 : v;
	v = to_int(arg1(net->kids, "ping-timeout"), 0);
	if (v > 0)
		r->ping_timeout = v == DRBD_PING_TIMEOUT_DEFAULT ? 0 : v;
}

int drbd_parse_conf(const char *text, const char *self,
		    struct drbd_res **out, size_t *n, char *err, size_t errlen)
{
	struct lexer lx = { .s = text, .line = 1, .err = err, .errlen = errlen };
	struct cnode *root = NULL;
	struct drbd_res *v = NULL;
	size_t cnt = 0;
	int rc;

	rc = parse_block(&lx, 0, &root);
	if (rc)
		return rc;
	for (const struct cnode *res = root; res; res = res->next) {
		struct drbd_res r;
		const struct cnode *net;

		if (!res->block || res->nw != 2 || strcmp(res->w[0], "resource"))
			continue;
		init_res(&r);
		if (!(r.name = strdup(res->w[1])) || set_fencing(&r, res)) {
			drbd_res_free(&r);
			goto out_nomem;
		}
		net = find(res->kids, "net");
		if (net && net->block && arg1(net->kids, "protocol"))
			r.protocol = protocol_of(arg1(net->kids, "protocol"));
		net_timing(&r, net);
		for (const struct cnode *on = res->kids; on; on = on->next) {
			int id;

			if (!on->block || on->nw != 2 || strcmp(on->w[0], "on"))
				continue;
			id = to_int(arg1(on->kids, "node-id"), -1);
			if (self && !strcmp(on->w[1], self)) {
				r.node_id = id;
				r.addr = addr_of(find(on->kids, "address"));
				rc = volume0(on->kids, &r);
			} else {
				rc = add_peer(&r, on->w[1], id,
					      addr_of(find(on->kids, "address")));
			}
			if (rc) {
				drbd_res_free(&r);
				goto out_free;
			}
		}
		if ((rc = parse_owner(text, &r.own)) ||
		    (rc = push_res(&v, &cnt, &r))) {
			drbd_res_free(&r);
			goto out_free;
		}
	}
	cnode_free(root);
	*out = v;
	*n = cnt;
	return 0;

out_nomem:
	rc = -ENOMEM;
out_free:
	cnode_free(root);
	drbd_res_array_free(v, cnt);
	return rc;
}

int drbd_parse_show(const char *text, struct drbd_res **out, size_t *n,
		    char *err, size_t errlen)
{
	struct lexer lx = { .s = text, .line = 1, .err = err, .errlen = errlen };
	struct cnode *root = NULL;
	struct drbd_res *v = NULL;
	size_t cnt = 0;
	int rc;

	rc = parse_block(&lx, 0, &root);
	if (rc)
		return rc;
	for (const struct cnode *res = root; res; res = res->next) {
		struct drbd_res r;
		const struct cnode *th, *net;

		if (!res->block || res->nw != 2 || strcmp(res->w[0], "resource"))
			continue;
		init_res(&r);
		if (!(r.name = strdup(res->w[1])) || set_fencing(&r, res)) {
			drbd_res_free(&r);
			goto out_nomem;
		}
		net = find(res->kids, "net");
		if (net && net->block && arg1(net->kids, "protocol"))
			r.protocol = protocol_of(arg1(net->kids, "protocol"));
		net_timing(&r, net);
		th = find(res->kids, "_this_host");
		if (th && th->block) {
			r.node_id = to_int(arg1(th->kids, "node-id"), -1);
			/* 8.4: the local address sits in _this_host */
			r.addr = addr_of(find(th->kids, "address"));
			if ((rc = volume0(th->kids, &r))) {
				drbd_res_free(&r);
				goto out_free;
			}
		}
		/* 8.4: the one peer, without a name or node id */
		th = find(res->kids, "_remote_host");
		if (th && th->block &&
		    (rc = add_peer(&r, "", -1,
				   addr_of(find(th->kids, "address"))))) {
			drbd_res_free(&r);
			goto out_free;
		}
		for (const struct cnode *c = res->kids; c; c = c->next) {
			const struct cnode *path, *cnet;
			const char *name = NULL;

			if (!c->block || strcmp(c->w[0], "connection"))
				continue;
			path = find(c->kids, "path");
			cnet = find(c->kids, "net");
			if (cnet && cnet->block) {
				name = arg1(cnet->kids, "_name");
				if (arg1(cnet->kids, "protocol"))
					r.protocol = protocol_of(
						arg1(cnet->kids, "protocol"));
				net_timing(&r, cnet);
			}
			if (path && path->block && !r.addr)
				r.addr = addr_of(find(path->kids, "_this_host"));
			rc = add_peer(&r, name,
				      to_int(arg1(c->kids, "_peer_node_id"), -1),
				      path && path->block
				      ? addr_of(find(path->kids, "_remote_host"))
				      : NULL);
			if (rc) {
				drbd_res_free(&r);
				goto out_free;
			}
		}
		if ((rc = push_res(&v, &cnt, &r))) {
			drbd_res_free(&r);
			goto out_free;
		}
	}
	cnode_free(root);
	*out = v;
	*n = cnt;
	return 0;

out_nomem:
	rc = -ENOMEM;
out_free:
	cnode_free(root);
	drbd_res_array_free(v, cnt);
	return rc;
}

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static const struct drbd_peer *peer_by_name(const struct drbd_res *r,
					    const char *name)
{
	for (size_t i = 0; i < r->npeers; i++)
		if (str_eq(r->peers[i].name, name))
			return &r->peers[i];
	return NULL;
}

enum drbd_dialect drbd_dialect_of(const char *proc_drbd)
{
	const char *v = proc_drbd ? strstr(proc_drbd, "version:") : NULL;

	if (!v)
		return DRBD_V9;
	v += strlen("version:");
	while (*v == ' ' || *v == '\t')
		v++;
	return v[0] == '8' && v[1] == '.' ? DRBD_V84 : DRBD_V9;
}

/* The live peer that stands for wanted peer w: by name; under 8.4 the
 * nameless one when each side has exactly one. */
static const struct drbd_peer *live_peer(const struct drbd_res *want,
					 const struct drbd_res *have,
					 const struct drbd_peer *w,
					 enum drbd_dialect d)
{
	const struct drbd_peer *h = peer_by_name(have, w->name);

	if (!h && d == DRBD_V84 && want->npeers == 1 && have->npeers == 1 &&
	    str_eq(have->peers[0].name, ""))
		h = &have->peers[0];
	return h;
}

void drbd_res_diff(const struct drbd_res *want, const struct drbd_res *have,
		   char *buf, size_t len)
{
	drbd_res_diff_d(want, have, DRBD_V9, buf, len);
}

void drbd_res_diff_d(const struct drbd_res *want, const struct drbd_res *have,
		     enum drbd_dialect d, char *buf, size_t len)
{
	bool ids = d != DRBD_V84;

	buf[0] = '\0';
	if (want->protocol != have->protocol) {
		snprintf(buf, len, "protocol %c -> %c",
			 have->protocol ? have->protocol : '?', want->protocol);
		return;
	}
	if (want->minor != have->minor) {
		snprintf(buf, len, "minor %d -> %d", have->minor, want->minor);
		return;
	}
	if (!str_eq(want->fencing, have->fencing)) {
		snprintf(buf, len, "fencing %s -> %s",
			 have->fencing ? have->fencing : "dont-care",
			 want->fencing ? want->fencing : "dont-care");
		return;
	}
	if (want->ping_int != have->ping_int ||
	    want->ping_timeout != have->ping_timeout) {
		snprintf(buf, len, "ping-int %d -> %d s, ping-timeout %d -> %d tenths",
			 have->ping_int ? have->ping_int : DRBD_PING_INT_DEFAULT,
			 want->ping_int ? want->ping_int : DRBD_PING_INT_DEFAULT,
			 have->ping_timeout ? have->ping_timeout
					    : DRBD_PING_TIMEOUT_DEFAULT,
			 want->ping_timeout ? want->ping_timeout
					    : DRBD_PING_TIMEOUT_DEFAULT);
		return;
	}
	if (!str_eq(want->disk, have->disk) ||
	    !str_eq(want->meta_disk, have->meta_disk)) {
		snprintf(buf, len, "disk %s -> %s",
			 have->disk ? have->disk : "none",
			 want->disk ? want->disk : "none");
		return;
	}
	if ((ids && want->node_id != have->node_id) ||
	    !str_eq(want->addr, have->addr)) {
		snprintf(buf, len, "local address %s -> %s",
			 have->addr ? have->addr : "none",
			 want->addr ? want->addr : "none");
		return;
	}
	for (size_t i = 0; i < want->npeers; i++) {
		const struct drbd_peer *w = &want->peers[i];
		const struct drbd_peer *h = live_peer(want, have, w, d);

		if (!h) {
			snprintf(buf, len, "peer %s missing", w->name);
			return;
		}
		if ((ids && h->node_id != w->node_id) ||
		    !str_eq(h->addr, w->addr)) {
			snprintf(buf, len, "peer %s address %s -> %s", w->name,
				 h->addr ? h->addr : "none",
				 w->addr ? w->addr : "none");
			return;
		}
	}
	for (size_t i = 0; i < have->npeers; i++)
		if (!peer_by_name(want, have->peers[i].name) &&
		    !(d == DRBD_V84 && want->npeers == 1 && have->npeers == 1 &&
		      str_eq(have->peers[i].name, ""))) {
			snprintf(buf, len, "extra peer %s",
				 have->peers[i].name);
			return;
		}
}

bool drbd_res_equal(const struct drbd_res *a, const struct drbd_res *b)
{
	char buf[256];

	drbd_res_diff(a, b, buf, sizeof(buf));
	return buf[0] == '\0';
}

/* ---- rendering -----------------------------------------------------------*/

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 1024;
			char *p;

			while (cap - b->len <= (size_t)n)
				cap *= 2;
			p = realloc(b->p, cap);
			if (!p) {
				b->oom = true;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

struct host_ref {
	const char *name;
	int node_id;
	const char *addr;
};

static int cmp_host(const void *x, const void *y)
{
	const struct host_ref *a = x, *b = y;

	return a->node_id - b->node_id;
}

static void render_host(struct sbuf *b, const struct drbd_res *r,
			const struct host_ref *h, enum drbd_dialect d)
{
	sb_printf(b, "\ton %s {\n", h->name);
	if (d != DRBD_V84)
		sb_printf(b, "\t\tnode-id %d;\n", h->node_id);
	sb_printf(b, "\t\taddress %s;\n", h->addr ? h->addr : "ipv4 0.0.0.0:0");
	sb_printf(b, "\t\tvolume 0 {\n");
	sb_printf(b, "\t\t\tdevice minor %d;\n", r->minor);
	sb_printf(b, "\t\t\tdisk \"%s\";\n", r->disk ? r->disk : "none");
	sb_printf(b, "\t\t\tmeta-disk %s;\n",
		  r->meta_disk ? r->meta_disk : "internal");
	sb_printf(b, "\t\t}\n\t}\n");
}

/*
 * The net section, and with a fencing policy its handlers. DRBD calls
 * fence-peer when it is (or wants to become) Primary and cannot reach the
 * peer; the handler bans the promotable clone's Promoted role from every
 * node but this one, and drbd-utils' unfence script lifts the ban on the
 * peer once it has resynced. The fence-peer handler is bollard's own
 * (deploy/drbd/bollard-fence-peer: the same constraint, a few processes
 * instead of crm-fence-peer's dozen Pacemaker clients on a failover's
 * critical path, and no "peer outdated" without evidence), or drbd-utils'
 * crm-fence-peer with spec.pacemaker.drbdAgent: linbit. 8.4 keeps fencing among the disk
 * options and has no unfence-peer event (after-resync-target is where
 * the ban goes); 9 has it among the net options. The clone id is passed
 * rather than found by the script, whatever agent the clone runs.
 */
static void render_fencing(struct sbuf *b, const struct drbd_res *r,
			   enum drbd_dialect d)
{
	const char *sfx = d == DRBD_V84 ? "" : ".9";

	sb_printf(b, "\tnet {\n\t\tprotocol %c;\n", r->protocol);
	if (r->ping_int)
		sb_printf(b, "\t\tping-int %d;\n", r->ping_int);
	if (r->ping_timeout)
		sb_printf(b, "\t\tping-timeout %d;\n", r->ping_timeout);
	if (r->fencing && d != DRBD_V84)
		sb_printf(b, "\t\tfencing %s;\n", r->fencing);
	sb_printf(b, "\t}\n");
	if (!r->fencing)
		return;
	if (d == DRBD_V84)
		sb_printf(b, "\tdisk {\n\t\tfencing %s;\n\t}\n", r->fencing);
	if (!r->pcmk_clone)
		return;
	sb_printf(b, "\thandlers {\n");
	if (r->crm_fence_peer)
		sb_printf(b, "\t\tfence-peer \"" DRBD_HANDLER_DIR
			  "/crm-fence-peer%s.sh --master-id=%s\";\n", sfx,
			  r->pcmk_clone);
	else
		sb_printf(b, "\t\tfence-peer \"" DRBD_BOLLARD_FENCE_PEER
			  " --master-id=%s\";\n", r->pcmk_clone);
	sb_printf(b, "\t\t%s \"" DRBD_HANDLER_DIR "/crm-unfence-peer%s.sh "
		  "--master-id=%s\";\n",
		  d == DRBD_V84 ? "after-resync-target" : "unfence-peer", sfx,
		  r->pcmk_clone);
	sb_printf(b, "\t}\n");
}

char *drbd_render(const struct drbd_res *r, const char *self)
{
	return drbd_render_d(r, self, DRBD_V9);
}

char *drbd_render_d(const struct drbd_res *r, const char *self,
		    enum drbd_dialect d)
{
	struct sbuf b = {0};
	struct host_ref *hosts;
	size_t nh = 0;

	hosts = calloc(r->npeers + 1, sizeof(*hosts));
	if (!hosts)
		return NULL;
	hosts[nh++] = (struct host_ref){ self, r->node_id, r->addr };
	for (size_t i = 0; i < r->npeers; i++)
		hosts[nh++] = (struct host_ref){ r->peers[i].name,
						 r->peers[i].node_id,
						 r->peers[i].addr };
	qsort(hosts, nh, sizeof(*hosts), cmp_host);

	sb_printf(&b, "# Managed by bollard: do not edit, changes are overwritten.\n");
	sb_printf(&b, DRBD_HEADER_TAG " volume=%s policy=%s backing=%s",
		  r->own.volume, r->own.policy, r->own.backing);
	if (r->own.vg)
		sb_printf(&b, " vg=%s lv=%s", r->own.vg, r->own.lv);
	sb_printf(&b, "\nresource \"%s\" {\n", r->name);
	render_fencing(&b, r, d);
	for (size_t i = 0; i < nh; i++)
		render_host(&b, r, &hosts[i], d);
	if (d != DRBD_V84) {
		sb_printf(&b, "\tconnection-mesh {\n\t\thosts");
		for (size_t i = 0; i < nh; i++)
			sb_printf(&b, " %s", hosts[i].name);
		sb_printf(&b, ";\n\t}\n");
	}
	sb_printf(&b, "}\n");
	free(hosts);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
