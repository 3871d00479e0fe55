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

/* "owner=N" / "maxSessionsPerInitiator=N" */
static int parse_attr(const char *s, unsigned *attr, uint64_t *v)
{
	const char *eq = strchr(s, '=');

	if (!eq)
		return -EINVAL;
	*v = strtoull(eq + 1, NULL, 10);
	if (!strncmp(s, "owner=", 6))
		*attr = BT_TA_OWNER;
	else if (!strncmp(s, "maxSessionsPerInitiator=", 24))
		*attr = BT_TA_MAX_SESSIONS_PER_INITIATOR;
	else
		return -EINVAL;
	return 0;
}

/* ---- applied credentials (target_exec.h) ---------------------------------*/

struct bl_auth_rec {
	char *key;                  /* "IQN\nINITIATOR", or "IQN\n" for auth  */
	char *digest;
};

static char *auth_key(const char *iqn, const char *initiator)
{
	char *k = NULL;
	if (asprintf(&k, "%s\n%s", iqn, initiator ? initiator : "") < 0)
		return NULL;
	return k;
}

/* Index of key, or where it goes (*found false). */
static size_t auth_find(const struct bl_target_runner *r, const char *key, bool *found)
{
	size_t lo = 0, hi = r->nauth;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->auth[mid].key, key);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void auth_remove_at(struct bl_target_runner *r, size_t i)
{
	free(r->auth[i].key);
	free(r->auth[i].digest);
	memmove(&r->auth[i], &r->auth[i + 1], (r->nauth - i - 1) * sizeof(*r->auth));
	r->nauth--;
}

/*
 * Remember digest for (iqn, initiator); NULL digest forgets. Out of memory
 * forgets too: the next reconcile then re-applies, which is safe.
 */
static void auth_set(struct bl_target_runner *r, const char *iqn,
		     const char *initiator, const char *digest)
{
	char *key = auth_key(iqn, initiator), *dg = digest ? strdup(digest) : NULL;
	bool found;
	size_t i;

	if (!key)
		goto out_free;
	i = auth_find(r, key, &found);
	if (found)
		auth_remove_at(r, i);
	if (!digest || !dg)
		goto out_free;
	if (r->nauth == r->capauth) {
		size_t cap = r->capauth ? r->capauth * 2 : 16;
		struct bl_auth_rec *v = realloc(r->auth, cap * sizeof(*v));
		if (!v)
			goto out_free;
		r->auth = v;
		r->capauth = cap;
	}
	memmove(&r->auth[i + 1], &r->auth[i], (r->nauth - i) * sizeof(*r->auth));
	r->auth[i].key = key;
	r->auth[i].digest = dg;
	r->nauth++;
	return;
out_free:
	free(key);
	free(dg);
}

/* Forget everything about iqn (deleted, or created afresh). */
static void auth_forget_target(struct bl_target_runner *r, const char *iqn)
{
	char *prefix = auth_key(iqn, NULL);
	size_t pl, i;
	bool found;

	if (!prefix)
		return;
	pl = strlen(prefix);
	i = auth_find(r, prefix, &found);
	while (i < r->nauth && !strncmp(r->auth[i].key, prefix, pl))
		auth_remove_at(r, i);
	free(prefix);
}

static const char *auth_get(const struct bl_target_runner *r, const char *iqn,
			    const char *initiator)
{
	char *key = auth_key(iqn, initiator);
	bool found = false;
	size_t i = key ? auth_find(r, key, &found) : 0;

	free(key);
	return found ? r->auth[i].digest : NULL;
}

/* The "appliedAuth" member for the targets of st (target_exec.h). */
static json_t *applied_auth(const struct bl_target_runner *r, const struct btc_state *st)
{
	json_t *all = json_object();
	size_t i, j;

	if (!all)
		return NULL;
	for (i = 0; i < st->ntargets; i++) {
		const struct btc_target *t = &st->targets[i];
		json_t *acls = json_object(), *one = json_object();
		const char *dg;

		if (!acls || !one) {
			json_decref(acls);
			json_decref(one);
			json_decref(all);
			return NULL;
		}
		for (j = 0; j < t->nacls; j++)
			if (t->acls[j].chap_user &&
			    (dg = auth_get(r, t->iqn, t->acls[j].initiator)))
				json_object_set_new(acls, t->acls[j].initiator, json_string(dg));
		json_object_set_new(one, "acls", acls);
		if ((t->auth.chap_user || t->auth.mutual_user) &&
		    (dg = auth_get(r, t->iqn, NULL)))
			json_object_set_new(one, "auth", json_string(dg));
		if (json_object_size(acls) || json_object_get(one, "auth"))
			json_object_set_new(all, t->iqn, one);
		else
			json_decref(one);
	}
	return all;
}

/*
 * Splice ,"appliedAuth":{...} in before the dump's closing brace: the dump
 * is one JSON object printed by tp_print_state; re-parsing a 10,000-LUN
 * dump to add one member would cost more than the rest of the observe.
 */
static int splice_applied(char **buf, size_t *len, json_t *ann)
{
	char *a = json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS), *out = NULL, *end;
	int n;

	if (!a)
		return -ENOMEM;
	end = *len ? memrchr(*buf, '}', *len) : NULL;
	if (!end) {
		free(a);
		return BL_E_PROTO;
	}
	n = asprintf(&out, "%.*s,\"appliedAuth\":%s%s", (int)(end - *buf), *buf, a, end);
	free(a);
	if (n < 0)
		return -ENOMEM;
	free(*buf);
	*buf = out;
	*len = (size_t)n;
	return 0;
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
	if (rc == 0 && r->track_auth) {
		json_t *ann = applied_auth(r, &st);
		rc = ann ? splice_applied(&buf, &len, ann) : -ENOMEM;
		json_decref(ann);
	}
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
			if (parse_attr(a[i], &attrs[na], &vals[na]) < 0)
				return -EINVAL;
		rc = btc_target_add_attrs(c, a[1], attrs, vals, na);
		if (rc == 0)
			auth_forget_target(r, a[1]);
	}
	else if (!strcmp(cmd, "delete") && n == 2) {
		rc = btc_target_del(c, a[1], has_flag(a, "--force"));
		if (rc == 0 || rc == BT_E_NOT_FOUND)
			auth_forget_target(r, a[1]);
	}
	else if (!strcmp(cmd, "enable") && n == 2)
		rc = btc_target_enable(c, a[1], true);
	else if (!strcmp(cmd, "disable") && n == 2)
		rc = btc_target_enable(c, a[1], false);
	else if (!strcmp(cmd, "set") && n >= 3) {
		rc = 0;
		for (int i = 2; i < n && rc == 0; i++) {
			unsigned attr;
			uint64_t v;
			if (parse_attr(a[i], &attr, &v) < 0)
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
		if (rc == 0) {
			char *dg = payload_var(in, in_len, "BOLLARD_CHAP_DIGEST");
			auth_set(r, a[2], a[3], dg);
			free(dg);
		}
	} else if (!strcmp(cmd, "acl") && n == 4 && !strcmp(a[1], "del")) {
		rc = btc_acl_del(c, a[2], a[3]);
		if (rc == 0 || rc == BT_E_NOT_FOUND)
			auth_set(r, a[2], a[3], NULL);
	}
	else if (!strcmp(cmd, "auth") && n == 3 && !strcmp(a[1], "set")) {
		const char *cv = opt(a, "--chap-secret-env"), *mv = opt(a, "--mutual-secret-env");
		char *cs = cv ? payload_var(in, in_len, cv) : NULL;
		char *ms = mv ? payload_var(in, in_len, mv) : NULL;
		if ((cv && !cs) || (mv && !ms))
			rc = -EINVAL;
		else
			rc = btc_auth_set(c, a[2], cs ? opt(a, "--chap-user") : NULL, cs,
					  ms ? opt(a, "--mutual-user") : NULL, ms);
		if (rc == 0) {
			char *dg = payload_var(in, in_len, "BOLLARD_AUTH_DIGEST");
			auth_set(r, a[2], NULL, dg);
			free(dg);
		}
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
	while (r->nauth)
		auth_remove_at(r, r->nauth - 1);
	free(r->auth);
	r->auth = NULL;
	r->capauth = 0;
}
