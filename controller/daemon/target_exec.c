/* target_exec.c - see target_exec.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bl_err.h"
#include "bt_engine.h"
#include "bt_mgmt_client.h"
#include "daemon/spawn.h"
#include "daemon/target_exec.h"
#include "target_print.h"

static int set_out(struct bl_run_out *o, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_out(struct bl_run_out *o, int status, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	o->out = calloc(1, 1);
	o->out_len = 0;
	o->err = msg ? msg : calloc(1, 1);
	o->err_len = o->err ? strlen(o->err) : 0;
	o->status = status;
	return (o->out && o->err) ? 0 : -ENOMEM;
}

/* Value of VAR from "VAR=value\n" lines; new string or NULL. */
static char *payload_var(const char *in, size_t len, const char *var)
{
	size_t vl = strlen(var);
	const char *p = in, *end = in ? in + len : NULL;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if ((size_t)(eol - p) > vl && !strncmp(p, var, vl) && p[vl] == '=')
			return strndup(p + vl + 1, (size_t)(eol - p - (ptrdiff_t)vl - 1));
		p = nl ? nl + 1 : end;
	}
	return NULL;
}

/* Option value "--name V" anywhere after the positional words. */
static const char *opt(const char *const *argv, const char *name)
{
	for (; *argv; argv++)
		if (!strcmp(*argv, name) && argv[1])
			return argv[1];
	return NULL;
}

static int has_flag(const char *const *argv, const char *name)
{
	for (; *argv; argv++)
		if (!strcmp(*argv, name))
			return 1;
	return 0;
}

static int npos(const char *const *argv)
{
	int n = 0;
	while (argv[n] && strncmp(argv[n], "--", 2) && strcmp(argv[n], "-o"))
		n++;
	return n;
}

/* Decimal number option; -EINVAL when present and not a number <= max. */
static int opt_num(const char *const *argv, const char *name, uint64_t max,
		   uint64_t *v, bool *given)
{
	const char *s = opt(argv, name);
	char *end;

	*given = s != NULL;
	if (!s)
		return 0;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return (!*s || *end || errno || *v > max) ? -EINVAL : 0;
}

static int do_show(struct bl_target_runner *r, const char *iqn,
		   const char *const *a, struct bl_run_out *o)
{
	struct btc *c = r->conn;
	struct btc_state st = { 0 };
	uint64_t from = 0, max = UINT32_MAX;
	bool page_from, page_max;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (opt_num(a, "--from-lun", UINT64_MAX, &from, &page_from) < 0 ||
	    opt_num(a, "--max-luns", UINT32_MAX, &max, &page_max) < 0)
		return -EINVAL;
	if (page_from || page_max)
		rc = btc_dump_page(c, iqn, from, (uint32_t)max, &st);
	else
		rc = btc_dump(c, iqn, &st);
	if (rc == BT_E_NOT_FOUND && iqn)
		rc = 0;     /* an absent target shows as an empty list */
	if (rc < 0)
		return rc;
	f = open_memstream(&buf, &len);
	if (!f) {
		btc_state_free(&st);
		return -ENOMEM;
	}
	rc = tp_print_state(f, &st, TP_JSON);
	fclose(f);
	btc_state_free(&st);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	o->out = buf;
	o->out_len = len;
	o->err = calloc(1, 1);
	o->err_len = 0;
	o->status = 0;
	return 0;
}

static int dispatch(struct bl_target_runner *r, const char *const *a,
		    const char *in, size_t in_len, struct bl_run_out *o, int *is_op)
{
	struct btc *c = r->conn;
	int n = npos(a), rc = -EINVAL;
	const char *cmd = a[0];

	*is_op = 1;
	if (!strcmp(cmd, "show")) {
		*is_op = 0;
		return do_show(r, n >= 2 ? a[1] : NULL, a, o);
	}
	if (!strcmp(cmd, "create") && n >= 2) {
		unsigned attrs[8];
		uint64_t vals[8];
		size_t na = 0;
		for (int i = 2; i < n && na < 8; i++, na++)
			if (btc_attr_parse(a[i], &attrs[na], &vals[na]) < 0)
				return -EINVAL;
		rc = btc_target_add_attrs(c, a[1], attrs, vals, na);
	} else if (!strcmp(cmd, "delete") && n == 2)
		rc = btc_target_del(c, a[1], has_flag(a, "--force"));
	else if (!strcmp(cmd, "enable") && n == 2)
		rc = btc_target_enable(c, a[1], true);
	else if (!strcmp(cmd, "disable") && n == 2)
		rc = btc_target_enable(c, a[1], false);
	else if (!strcmp(cmd, "set") && n >= 3) {
		rc = 0;
		for (int i = 2; i < n && rc == 0; i++) {
			unsigned attr;
			uint64_t v;
			if (btc_attr_parse(a[i], &attr, &v) < 0)
				return -EINVAL;
			rc = btc_set_attr(c, a[1], attr, v);
		}
	} else if (!strcmp(cmd, "portal") && n == 4 && !strcmp(a[1], "add"))
		rc = btc_portal_add(c, a[2], a[3]);
	else if (!strcmp(cmd, "portal") && n == 4 && !strcmp(a[1], "del"))
		rc = btc_portal_del(c, a[2], a[3]);
	else if (!strcmp(cmd, "lun") && n == 5 && !strcmp(a[1], "add")) {
		struct btc_lun_spec s = { .path = a[4], .uid = opt(a, "--uid") };
		const char *feats = opt(a, "--features");

		/* The same parser as `bollard target lun add`, so a printed
		 * plan means what the runner does ("none" is no feature). */
		if (feats && btc_features_parse(feats, &s.features) < 0)
			return -EINVAL;
		rc = btc_lun_add(c, a[2], strtoull(a[3], NULL, 10), &s);
	} else if (!strcmp(cmd, "lun") && n == 4 && !strcmp(a[1], "del"))
		rc = btc_lun_del(c, a[2], strtoull(a[3], NULL, 10), has_flag(a, "--force"));
	else if (!strcmp(cmd, "acl") && n == 4 && !strcmp(a[1], "add")) {
		const char *var = opt(a, "--chap-secret-env");
		char *secret = var ? payload_var(in, in_len, var) : NULL;
		if (var && !secret)
			return -EINVAL;
		rc = btc_acl_add(c, a[2], a[3], secret ? opt(a, "--chap-user") : NULL, secret);
		if (secret) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
		}
	} else if (!strcmp(cmd, "acl") && n == 4 && !strcmp(a[1], "del"))
		rc = btc_acl_del(c, a[2], a[3]);
	else if (!strcmp(cmd, "auth") && n == 3 && !strcmp(a[1], "set")) {
		const char *cv = opt(a, "--chap-secret-env"), *mv = opt(a, "--mutual-secret-env");
		char *cs = cv ? payload_var(in, in_len, cv) : NULL;
		char *ms = mv ? payload_var(in, in_len, mv) : NULL;
		if ((cv && !cs) || (mv && !ms))
			rc = -EINVAL;
		else
			rc = btc_auth_set(c, a[2], cs ? opt(a, "--chap-user") : NULL, cs,
					  ms ? opt(a, "--mutual-user") : NULL, ms);
		if (cs) { explicit_bzero(cs, strlen(cs)); free(cs); }
		if (ms) { explicit_bzero(ms, strlen(ms)); free(ms); }
	}
	if (rc < 0)
		return rc;
	return set_out(o, 0, "%s", "");
}

int bl_target_run(void *arg, const char *const *argv, const char *in,
		  size_t in_len, struct bl_run_out *o)
{
	struct bl_target_runner *r = arg;
	char err[512];
	int rc, is_op = 0;

	if (!argv || !argv[0] || strcmp(argv[0], "bollard") || !argv[1] ||
	    strcmp(argv[1], "target"))
		return bl_spawn_run(NULL, argv, in, in_len, o);
	if (!argv[2])
		return -EINVAL;
	if (!r->conn) {
		rc = btc_connect(r->socket, &r->conn, err, sizeof(err));
		if (rc < 0)
			return set_out(o, 1, "%s", err);
	}
	rc = dispatch(r, argv + 2, in, in_len, o, &is_op);
	if (is_op)
		r->ops++;
	if (rc == 0)
		return 0;
	if (is_op)
		r->failed++;
	if (rc == -EINVAL)
		return set_out(o, 2, "bollard target: unsupported command line");
	snprintf(err, sizeof(err), "%s", btc_errmsg(r->conn)[0] ? btc_errmsg(r->conn)
							       : bl_strerror(rc));
	/* A transport error: drop the connection; the next call reconnects. */
	if (rc > BT_E_BASE || rc < BT_E_LAST) {
		btc_free(r->conn);
		r->conn = NULL;
	}
	return set_out(o, 1, "%s", err);
}

void bl_target_runner_close(struct bl_target_runner *r)
{
	btc_free(r->conn);
	r->conn = NULL;
}
