/*
 * conn.c - which etcd to talk to, and connecting to it.
 *
 * Order: --etcd, then $BOLLARD_ETCD, then the URL the last `bollard up`
 * wrote to <state dir>/etcd.url (state dir: $BOLLARD_STATE_DIR, else
 * $XDG_STATE_HOME/bollard, else ~/.local/state/bollard).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_etcd.h"
#include "cli.h"

char *cli_state_dir(const char *override)
{
	const char *s;
	char *out = NULL;

	if (override && *override)
		return strdup(override);
	s = getenv("BOLLARD_STATE_DIR");
	if (s && *s)
		return strdup(s);
	s = getenv("XDG_STATE_HOME");
	if (s && *s) {
		if (asprintf(&out, "%s/bollard", s) < 0)
			return NULL;
		return out;
	}
	s = getenv("HOME");
	if (!s || !*s)
		s = "/root";
	if (asprintf(&out, "%s/.local/state/bollard", s) < 0)
		return NULL;
	return out;
}

static char *read_url_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' ||
		     buf[n - 1] == '\r'))
		buf[--n] = 0;
	return n ? strdup(buf) : NULL;
}

char *cli_endpoint(struct cli *c)
{
	const char *s;
	char *dir, *path = NULL, *url;

	if (c->etcd && *c->etcd)
		return strdup(c->etcd);
	s = getenv("BOLLARD_ETCD");
	if (s && *s)
		return strdup(s);
	dir = cli_state_dir(c->state_dir);
	if (dir && asprintf(&path, "%s/etcd.url", dir) < 0)
		path = NULL;
	url = path ? read_url_file(path) : NULL;
	if (!url)
		cli_error(c, "no etcd endpoint: use --etcd URL, set BOLLARD_ETCD, "
			  "or start one with `bollard up` (looked for %s)",
			  path ? path : "etcd.url");
	free(path);
	free(dir);
	return url;
}

int cli_connect(struct cli *c, struct bl_etcd **out)
{
	char *ep = cli_endpoint(c);
	struct bl_etcd_opts o = {
		.user = c->user,
		.password = c->password,
		/* the flags, else what /etc/default/bollard sets for bollardd */
		.ca_file = c->cacert ? c->cacert : getenv("BOLLARD_ETCD_CACERT"),
		.cert_file = c->cert ? c->cert : getenv("BOLLARD_ETCD_CERT"),
		.key_file = c->key ? c->key : getenv("BOLLARD_ETCD_KEY"),
		.timeout_ms = c->timeout_ms,
	};
	char why[256] = "";
	int rc;

	if (!ep)
		return -EINVAL;
	o.endpoints = ep;
	o.errbuf = why;
	o.errlen = sizeof(why);
	rc = bl_etcd_open(&o, out);
	if (rc < 0)
		cli_error(c, "cannot connect to etcd at %s: %s%s%s", ep,
			  bl_strerror(rc), *why ? ": " : "", why);
	free(ep);
	return rc;
}

void cli_etcd_error(struct cli *c, struct bl_etcd *e, int rc,
		    const char *what)
{
	const char *msg = e ? bl_etcd_errmsg(e) : "";

	if (msg && *msg)
		cli_error(c, "%s: %s: %s", what, bl_strerror(rc), msg);
	else
		cli_error(c, "%s: %s", what, bl_strerror(rc));
}
