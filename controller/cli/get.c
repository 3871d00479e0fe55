/*
 * get.c - `bollard get` and `bollard describe`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "cli.h"

enum get_fmt { FMT_TABLE, FMT_WIDE, FMT_NAME, FMT_YAML, FMT_JSON };

struct get_opts {
	struct cli *c;
	enum get_fmt fmt;
	const char *selector;
	bool ignore_not_found;
	bool show_labels;
	struct bl_etcd *e;          /* for the READY column                   */
};

static int get_set(void *arg, const char *flag, const char *val)
{
	struct get_opts *o = arg;

	if (!strcmp(flag, "output")) {
		if (!strcmp(val, "yaml"))
			o->fmt = FMT_YAML;
		else if (!strcmp(val, "json"))
			o->fmt = FMT_JSON;
		else if (!strcmp(val, "wide"))
			o->fmt = FMT_WIDE;
		else if (!strcmp(val, "name"))
			o->fmt = FMT_NAME;
		else {
			cli_error(o->c, "unsupported output format \"%s\" "
				  "(yaml, json, wide, name)", val);
			return -1;
		}
	} else if (!strcmp(flag, "selector"))
		o->selector = val;
	else if (!strcmp(flag, "ignore-not-found"))
		o->ignore_not_found = true;
	else if (!strcmp(flag, "show-labels"))
		o->show_labels = true;
	return 0;
}

static const char get_usage[] =
"Usage: bollard get KIND [NAME...] [flags]\n"
"       bollard get KIND/NAME [flags]\n"
"       bollard get KIND,KIND... | all [flags]\n"
"\n"
"List stored objects. KIND: clusters (cl), volumes (vol), targets (tgt),\n"
"secrets (sec), rollouts (ro); singular, plural or short. Secret values\n"
"are never shown.\n"
"\n"
"Flags:\n"
"  -o, --output FMT     yaml | json | wide | name (default: a table)\n"
"  -l, --selector SEL   label selector: k=v,k2!=v2,k3,!k4\n"
"      --show-labels    add a LABELS column\n"
"      --ignore-not-found   a missing NAME is not an error\n";

/* ---- columns -------------------------------------------------------------*/

enum col_fmt { C_STR, C_SIZE, C_COUNT, C_KEYS, C_REPL, C_BACKING, C_JOIN };

struct column {
	const char *header;
	const char *path;           /* dotted path from the object body root */
	enum col_fmt fmt;
	bool wide;                  /* only with -o wide                      */
};

struct kind_cols {
	const char *kind;
	const struct column *cols;
};

/* Field names follow docs/schema.md; missing fields print "<none>". */
static const struct column cluster_cols[] = {
	{ "NODES", "spec.nodes", C_COUNT, false },
	{ "HA", "spec.ha", C_STR, false },
	{ "QUORUM", "spec.quorum", C_STR, true },
	{ NULL, NULL, 0, false },
};
static const struct column volume_cols[] = {
	{ "SIZE", "spec.size", C_SIZE, false },
	{ "CLUSTER", "spec.cluster", C_STR, false },
	{ "REPLICATION", "spec.replication", C_REPL, false },
	{ "MINOR", "spec.replication.minor", C_STR, true },
	{ "PORT", "spec.replication.port", C_STR, true },
	{ "BACKING", "spec.backing", C_BACKING, true },
	{ NULL, NULL, 0, false },
};
static const struct column target_cols[] = {
	{ "IQN", "spec.iqn", C_STR, false },
	{ "LUNS", "spec.luns", C_COUNT, false },
	{ "CLUSTER", "spec.cluster", C_STR, false },
	{ "PORT", "spec.port", C_STR, true },
	{ "ADDRESSES", "spec.serviceAddresses", C_JOIN, true },
	{ "ACLS", "spec.acls", C_COUNT, true },
	{ NULL, NULL, 0, false },
};
static const struct column secret_cols[] = {
	{ "DATA", "data", C_KEYS, false },
	{ NULL, NULL, 0, false },
};
static const struct column rollout_cols[] = {
	{ "CANARY", "spec.strategy.canary", C_STR, false },
	{ "WAVES", "spec.strategy.waves", C_COUNT, false },
	{ "PAUSED", "spec.paused", C_STR, false },
	{ "ON-FAILURE", "spec.onFailure", C_STR, true },
	{ NULL, NULL, 0, false },
};
static const struct column no_cols[] = {
	{ NULL, NULL, 0, false },
};

static const struct kind_cols kind_columns[] = {
	{ "Cluster", cluster_cols },
	{ "Volume", volume_cols },
	{ "Target", target_cols },
	{ "Secret", secret_cols },
	{ "Rollout", rollout_cols },
	{ NULL, NULL },
};

static const struct column *columns_of(const char *kind)
{
	for (const struct kind_cols *k = kind_columns; k->kind; k++)
		if (!strcmp(k->kind, kind))
			return k->cols;
	return no_cols;
}

static const json_t *obj_path(const struct bl_obj *o, const char *path)
{
	const json_t *v;
	char buf[128], *save = NULL, *tok;

	if (!strncmp(path, "spec", 4))
		v = o->spec;
	else if (!strncmp(path, "data", 4))
		v = o->data;
	else
		return NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	tok = strtok_r(buf, ".", &save); /* "spec" / "data" */
	while (v && (tok = strtok_r(NULL, ".", &save)))
		v = json_is_object(v) ? json_object_get(v, tok) : NULL;
	return v;
}

/* Scalar as text; NULL when absent. */
static char *scalar_text(const json_t *v)
{
	char *s = NULL;

	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		if (asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0)
			return NULL;
		return s;
	}
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "true" : "false");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static char *cell_text(const struct bl_obj *o, const struct column *col)
{
	const json_t *v = obj_path(o, col->path);
	char buf[64], *s = NULL;

	switch (col->fmt) {
	case C_SIZE:
		if (json_is_integer(v)) {
			bl_format_size((uint64_t)json_integer_value(v), buf,
				       sizeof(buf));
			return strdup(buf);
		}
		return scalar_text(v);
	case C_COUNT:
		if (asprintf(&s, "%zu", json_is_array(v) ? json_array_size(v) :
			     0) < 0)
			return NULL;
		return s;
	case C_KEYS:
		if (asprintf(&s, "%zu", json_is_object(v) ?
			     json_object_size(v) : 0) < 0)
			return NULL;
		return s;
	case C_REPL: {
		const json_t *p = json_is_object(v) ?
				  json_object_get(v, "protocol") : NULL;
		const json_t *mi = json_is_object(v) ?
				   json_object_get(v, "minor") : NULL;

		if (!json_is_object(v))
			return scalar_text(v);
		if (asprintf(&s, "drbd/%s minor %lld",
			     json_is_string(p) ? json_string_value(p) : "C",
			     json_is_integer(mi) ?
			     (long long)json_integer_value(mi) : -1LL) < 0)
			return NULL;
		return s;
	}
	case C_BACKING: {
		const json_t *t = json_is_object(v) ?
				  json_object_get(v, "type") : NULL;
		const json_t *w = json_is_object(v) ?
				  json_object_get(v, "vg") : NULL;

		if (!w && json_is_object(v))
			w = json_object_get(v, "path");
		if (!json_is_string(t))
			return scalar_text(v);
		if (asprintf(&s, "%s:%s", json_string_value(t),
			     json_is_string(w) ? json_string_value(w) : "") < 0)
			return NULL;
		return s;
	}
	case C_JOIN: {
		size_t len = 0;
		FILE *f;

		if (!json_is_array(v))
			return scalar_text(v);
		if (!json_array_size(v))
			return strdup("*");
		f = open_memstream(&s, &len);
		if (!f)
			return NULL;
		for (size_t i = 0; i < json_array_size(v); i++)
			fprintf(f, "%s%s", i ? "," : "",
				json_string_value(json_array_get(v, i)) ?
				json_string_value(json_array_get(v, i)) : "?");
		fclose(f);
		return s;
	}
	default:
		return scalar_text(v);
	}
}

static char *labels_text(const json_t *labels)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *k;
	json_t *v;
	bool first = true;

	if (!f)
		return NULL;
	json_object_foreach((json_t *)labels, k, v) {
		fprintf(f, "%s%s=%s", first ? "" : ",", k,
			json_string_value(v) ? json_string_value(v) : "");
		first = false;
	}
	fclose(f);
	return buf;
}

/*
 * READY for Targets: nodes that report Ready at the current generation /
 * nodes of the Target's cluster ("2/2"), from the status bollardd writes
 * under /bollard/v1/status/Target/<name>/<node>. One read of all status
 * and one of the Clusters per table.
 */
struct ready_ctx {
	struct bl_kvs status;
	struct store_snap clusters;
	bool loaded;
};

static void ready_load(struct get_opts *o, struct ready_ctx *r)
{
	char *prefix = NULL;

	if (!o->e || asprintf(&prefix, "%sTarget/", CLI_KEY_STATUS) < 0)
		return;
	if (bl_etcd_get(o->e, prefix, true, 0, 0, false, &r->status) == 0 &&
	    store_load(o->c, o->e, "Cluster", &r->clusters, NULL) == 0)
		r->loaded = true;
	free(prefix);
}

static void ready_free(struct ready_ctx *r)
{
	bl_kvs_free(&r->status);
	if (r->loaded)
		store_snap_free(&r->clusters);
}

static char *ready_text(const struct ready_ctx *r, const struct bl_obj *ob)
{
	const char *cl = json_string_value(json_object_get(ob->spec, "cluster"));
	size_t total = 0, ready = 0, plen;
	char prefix[512], *out = NULL;

	if (!r->loaded)
		return strdup("?");
	for (size_t i = 0; cl && i < r->clusters.n; i++)
		if (!strcmp(r->clusters.v[i]->name, cl))
			total = json_array_size(json_object_get(r->clusters.v[i]->spec, "nodes"));
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%sTarget/%s/", CLI_KEY_STATUS, ob->name);
	for (size_t i = 0; i < r->status.n; i++) {
		const struct bl_kv *kv = &r->status.kvs[i];
		json_t *st, *cd;
		size_t j;

		if (strncmp(kv->key, prefix, plen) || strchr(kv->key + plen, '/'))
			continue;
		st = json_loadb(kv->value, kv->value_len, 0, NULL);
		if (json_integer_value(json_object_get(st, "observedGeneration")) == ob->generation)
			json_array_foreach(json_object_get(st, "conditions"), j, cd)
				if (!strcmp(json_string_value(json_object_get(cd, "type")) ?: "", "Ready") &&
				    !strcmp(json_string_value(json_object_get(cd, "status")) ?: "", "True"))
					ready++;
		json_decref(st);
	}
	if (asprintf(&out, "%zu/%zu", ready, total) < 0)
		return NULL;
	return out;
}

/* PROGRESS for Rollouts: "updated/total phase" from the fleet
 * controller's /bollard/v1/rollouts/<name>/status. */
static char *progress_text(struct get_opts *o, const struct bl_obj *ob)
{
	struct bl_kvs kvs = { 0 };
	char key[512], *out = NULL;
	json_t *st;

	snprintf(key, sizeof(key), "/bollard/v1/rollouts/%s/status", ob->name);
	if (!o->e || bl_etcd_get(o->e, key, false, 1, 0, false, &kvs) < 0 || kvs.n == 0) {
		bl_kvs_free(&kvs);
		return strdup("-");
	}
	st = json_loadb(kvs.kvs[0].value, kvs.kvs[0].value_len, 0, NULL);
	bl_kvs_free(&kvs);
	if (asprintf(&out, "%lld/%lld %s",
		     (long long)json_integer_value(json_object_get(st, "updated")),
		     (long long)json_integer_value(json_object_get(st, "total")),
		     json_string_value(json_object_get(st, "phase")) ?: "?") < 0)
		out = NULL;
	json_decref(st);
	return out;
}

/*
 * DRBD for replicated Volumes: each node's live role/disk state from the
 * status bollardd writes under /bollard/v1/status/Volume/<name>/<node>
 * ("nodea:Primary/UpToDate nodeb:Secondary/Inconsistent 42%"): a node
 * whose peer is not connected shows the connection state in brackets, and
 * while a resync runs the lowest syncPercent any node reports comes last.
 * "-": not replicated (or its Cluster is unknown) and no node reported.
 *
 * A node of the Volume's Cluster without a status is "offline" when its
 * heartbeat (/bollard/v1/nodes/<cluster>/<node>) is gone too, "Unknown"
 * when it is alive but has not reported. bollardd binds both keys to one
 * lease (controller/daemon/volume_status.h), so a dead node's last state
 * is never shown as if it were current: one lease TTL after it died, it is
 * offline. Nodes print in name order, reported or not.
 *
 * One read of all Volume status, one of the heartbeats and one of the
 * Clusters per table.
 */
struct drbd_ctx {
	struct bl_kvs status, hb;
	struct store_snap clusters;
	bool loaded;
};

static void drbd_load(struct get_opts *o, struct drbd_ctx *d)
{
	char *prefix = NULL;

	if (!o->e || asprintf(&prefix, "%sVolume/", CLI_KEY_STATUS) < 0)
		return;
	d->loaded = bl_etcd_get(o->e, prefix, true, 0, 0, false, &d->status) == 0 &&
		    bl_etcd_get(o->e, "/bollard/v1/nodes/", true, 0, 0, false, &d->hb) == 0;
	if (d->loaded && store_load(o->c, o->e, "Cluster", &d->clusters, NULL) < 0) {
		d->loaded = false;
		memset(&d->clusters, 0, sizeof(d->clusters));
	}
	free(prefix);
}

static void drbd_free(struct drbd_ctx *d)
{
	bl_kvs_free(&d->status);
	bl_kvs_free(&d->hb);
	if (d->loaded)
		store_snap_free(&d->clusters);
}

static bool drbd_alive(const struct drbd_ctx *d, const char *cluster,
		       const char *node)
{
	char key[512];

	snprintf(key, sizeof(key), "/bollard/v1/nodes/%s/%s", cluster, node);
	for (size_t i = 0; i < d->hb.n; i++)
		if (!strcmp(d->hb.kvs[i].key, key))
			return true;
	return false;
}

/* One reported node: "name:Role/Disk(Conn)"; its syncPercent into *pct. */
static void drbd_node_text(FILE *f, const char *node, const struct bl_kv *kv,
			   long long *pct)
{
	json_t *st = json_loadb(kv->value, kv->value_len, 0, NULL);
	json_t *d = json_object_get(st, "drbd"), *sp;
	const char *conn, *repl, *role;

	role = json_string_value(json_object_get(d, "role"));
	fprintf(f, "%s:%s%s%s", node, role ? role : "", role ? "/" : "",
		json_string_value(json_object_get(d, "diskState")) ?: "?");
	conn = json_string_value(json_object_get(d, "connectionState"));
	repl = json_string_value(json_object_get(d, "replicationState"));
	sp = json_object_get(d, "syncPercent");
	if (conn && strcmp(conn, "Connected") && strncmp(conn, "Sync", 4) &&
	    strncmp(conn, "PausedSync", 10))
		fprintf(f, "(%s)", conn);
	else if (!sp && repl && strcmp(repl, "Established"))
		fprintf(f, "(%s)", repl);
	if (json_is_integer(sp) && (*pct < 0 || json_integer_value(sp) < *pct))
		*pct = json_integer_value(sp);
	json_decref(st);
}

static int cmp_cstrp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *drbd_text(const struct drbd_ctx *d, const struct bl_obj *ob)
{
	const char *cl = json_string_value(json_object_get(ob->spec, "cluster"));
	const json_t *nodes = NULL, *n;
	const char **names = NULL;
	const struct bl_kv **kv = NULL;
	char prefix[512], *out = NULL;
	size_t plen, len = 0, nn = 0, cap, i;
	FILE *f;
	long long pct = -1;
	bool any = false;

	if (!d->loaded)
		return strdup("?");
	for (i = 0; cl && i < d->clusters.n; i++)
		if (!strcmp(d->clusters.v[i]->name, cl))
			nodes = json_object_get(d->clusters.v[i]->spec, "nodes");
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%sVolume/%s/", CLI_KEY_STATUS, ob->name);
	cap = json_array_size(nodes) + d->status.n + 1;
	names = calloc(cap, sizeof(*names));
	kv = calloc(cap, sizeof(*kv));
	if (!names || !kv)
		goto out_free;
	/* Reported nodes (status with a "drbd" object), then the Cluster's
	 * nodes that did not report. */
	for (i = 0; i < d->status.n; i++) {
		const struct bl_kv *s = &d->status.kvs[i];
		json_t *st;
		bool has;

		if (strncmp(s->key, prefix, plen) || strchr(s->key + plen, '/'))
			continue;
		st = json_loadb(s->value, s->value_len, 0, NULL);
		has = json_is_object(json_object_get(st, "drbd"));
		json_decref(st);
		if (!has)
			continue;
		names[nn] = s->key + plen;
		kv[nn++] = s;
		any = true;
	}
	if (!any && (!json_array_size(nodes) ||
		     !json_is_object(json_object_get(ob->spec, "replication")))) {
		free(names);
		free(kv);
		return strdup("-");
	}
	json_array_foreach(nodes, i, n) {
		const char *nm = json_string_value(json_object_get(n, "name"));
		bool seen = false;

		for (size_t j = 0; nm && j < nn && !seen; j++)
			seen = kv[j] && !strcmp(names[j], nm);
		if (nm && !seen)
			names[nn++] = nm;    /* kv NULL: not reported */
	}
	{
		/* name order, kv following its name */
		const char **sorted = calloc(nn + 1, sizeof(*sorted));

		if (!sorted)
			goto out_free;
		memcpy(sorted, names, nn * sizeof(*names));
		qsort(sorted, nn, sizeof(*sorted), cmp_cstrp);
		if (!(f = open_memstream(&out, &len))) {
			free(sorted);
			goto out_free;
		}
		for (size_t k = 0; k < nn; k++) {
			const struct bl_kv *s = NULL;

			for (size_t j = 0; j < nn && !s; j++)
				if (names[j] == sorted[k])
					s = kv[j];
			if (k)
				fputc(' ', f);
			if (s)
				drbd_node_text(f, sorted[k], s, &pct);
			else
				fprintf(f, "%s:%s", sorted[k],
					drbd_alive(d, cl, sorted[k]) ? "Unknown" : "offline");
		}
		free(sorted);
	}
	if (pct >= 0)
		fprintf(f, " %lld%%", pct);
	if (fclose(f) != 0) {
		free(out);
		out = NULL;
	}
out_free:
	free(names);
	free(kv);
	return out;
}

static int print_table(struct get_opts *o, const char *kind,
		       struct bl_obj **objs, size_t n, bool kind_prefix)
{
	struct ready_ctx rd = { 0 };
	bool with_ready = !strcmp(kind, "Target");
	bool with_progress = !strcmp(kind, "Rollout");
	bool with_drbd = !strcmp(kind, "Volume");
	struct drbd_ctx drbd = { 0 };
	const struct column *cols = columns_of(kind);
	const char *hdr[16];
	char *cells[16];
	struct table t;
	size_t nc = 0;
	int64_t now = (int64_t)time(NULL);
	int rc;

	hdr[nc++] = "NAME";
	if (with_ready) {
		hdr[nc++] = "READY";
		ready_load(o, &rd);
	}
	if (with_progress)
		hdr[nc++] = "PROGRESS";
	for (const struct column *c = cols; c->header; c++)
		if (!c->wide || o->fmt == FMT_WIDE)
			hdr[nc++] = c->header;
	if (with_drbd) {
		hdr[nc++] = "DRBD";
		drbd_load(o, &drbd);
	}
	hdr[nc++] = "AGE";
	if (o->fmt == FMT_WIDE)
		hdr[nc++] = "GENERATION";
	if (o->show_labels)
		hdr[nc++] = "LABELS";
	rc = table_init(&t, nc, hdr);
	if (rc < 0) {
		ready_free(&rd);
		drbd_free(&drbd);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct bl_obj *ob = objs[i];
		size_t k = 0;
		char age[32];

		if (kind_prefix) {
			char kb[32];

			if (asprintf(&cells[k++], "%s/%s", kind_lower(ob->kind,
				     kb, sizeof(kb)), ob->name) < 0)
				cells[k - 1] = NULL;
		} else {
			cells[k++] = strdup(ob->name);
		}
		if (with_ready)
			cells[k++] = ready_text(&rd, ob);
		if (with_progress)
			cells[k++] = progress_text(o, ob);
		for (const struct column *c = cols; c->header; c++)
			if (!c->wide || o->fmt == FMT_WIDE)
				cells[k++] = cell_text(ob, c);
		if (with_drbd)
			cells[k++] = drbd_text(&drbd, ob);
		format_age(ob->creation_timestamp, now, age, sizeof(age));
		cells[k++] = strdup(age);
		if (o->fmt == FMT_WIDE && asprintf(&cells[k++], "%lld",
				(long long)ob->generation) < 0)
			cells[k - 1] = NULL;
		if (o->show_labels)
			cells[k++] = labels_text(ob->labels);
		rc = table_add(&t, (const char *const *)cells);
		for (size_t j = 0; j < k; j++)
			free(cells[j]);
	}
	if (rc == 0)
		table_print(&t, o->c->out);
	table_free(&t);
	ready_free(&rd);
	drbd_free(&drbd);
	return rc;
}

/* ---- structured output ---------------------------------------------------*/

static json_t *value_of(const struct bl_obj *ob)
{
	struct bl_obj *d = bl_obj_dup(ob);
	json_t *v = NULL;

	if (!d)
		return NULL;
	d->resource_version = ob->resource_version;
	if (bl_obj_redact(d) == 0)
		v = bl_obj_to_value(d, BL_VAL_RESOURCE_VERSION);
	bl_obj_free(d);
	return v;
}

/*
 * One object prints as itself. Several print as a List in JSON, and in
 * YAML as a stream of documents ("---"), which reads back with `apply -f`.
 */
static int print_structured(struct get_opts *o, struct bl_obj **objs,
			    size_t n, bool single)
{
	FILE *f = o->c->out;

	if (o->fmt == FMT_JSON) {
		json_t *v;

		if (single && n == 1)
			v = value_of(objs[0]);
		else {
			json_t *items = json_array();

			for (size_t i = 0; items && i < n; i++)
				if (json_array_append_new(items,
							  value_of(objs[i]))) {
					json_decref(items);
					items = NULL;
				}
			v = items ? json_pack("{s:s,s:o,s:s}", "apiVersion",
					      BL_API_VERSION, "items", items,
					      "kind", "List") : NULL;
		}
		if (!v)
			return -ENOMEM;
		json_dumpf(v, f, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', f);
		json_decref(v);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = value_of(objs[i]);
		int rc;

		if (!v)
			return -ENOMEM;
		if (i)
			fputs("---\n", f);
		rc = bl_json_print_yaml(v, f);
		json_decref(v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- get -----------------------------------------------------------------*/

static const char *resolve_kind(struct cli *c, const char *name)
{
	const char *k = bl_kind_lookup(name);

	if (!k)
		cli_error(c, "the server doesn't have a resource type \"%s\" "
			  "(kinds: clusters, volumes, targets, secrets, "
			  "rollouts)", name);
	return k;
}

/*
 * `get volumes,targets` / `get all`: one read of every object, printed kind
 * by kind in apply order; tables name rows kind/name like kubectl.
 */
static int get_multi(struct cli *c, struct get_opts *o,
		     const struct selector *sel, const char *const *kinds,
		     size_t nk)
{
	const char *const *order = bl_kind_names();
	struct store_snap snap;
	struct bl_etcd *e = NULL;
	struct bl_obj **objs;
	size_t nobj = 0;
	bool first = true;
	int rc = 0;

	if (cli_connect(c, &e) < 0)
		return 1;
	o->e = e;
	if (store_load(c, e, NULL, &snap, NULL) < 0) {
		bl_etcd_close(e);
		return 1;
	}
	objs = calloc(snap.n + 1, sizeof(*objs));
	if (!objs) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t ki = 0; order[ki]; ki++) {
		bool want = false;
		size_t start = nobj;

		for (size_t j = 0; j < nk && !want; j++)
			want = !strcmp(kinds[j], order[ki]);
		if (!want)
			continue;
		for (size_t i = 0; i < snap.n; i++)
			if (!strcmp(snap.v[i]->kind, order[ki]) &&
			    (!sel || selector_match(sel, snap.v[i]->labels)))
				objs[nobj++] = snap.v[i];
		if (nobj == start || (o->fmt != FMT_TABLE &&
				      o->fmt != FMT_WIDE))
			continue;
		if (!first)
			fputc('\n', c->out);
		first = false;
		rc = print_table(o, order[ki], objs + start, nobj - start,
				 true);
		if (rc < 0)
			goto out;
	}
	if (o->fmt == FMT_NAME) {
		for (size_t i = 0; i < nobj; i++) {
			print_kind_name(c->out, objs[i]);
			fputc('\n', c->out);
		}
	} else if (o->fmt == FMT_YAML || o->fmt == FMT_JSON) {
		rc = print_structured(o, objs, nobj, false);
	} else if (nobj == 0) {
		fprintf(c->err, "No resources found.\n");
	}
out:
	if (rc < 0)
		cli_error(c, "printing: %s", bl_strerror(rc));
	free(objs);
	store_snap_free(&snap);
	bl_etcd_close(e);
	return rc < 0 ? 1 : 0;
}

int cmd_get(struct cli *c, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{ "output", 'o', CLI_ARG, get_set },
		{ "selector", 'l', CLI_ARG, get_set },
		{ "ignore-not-found", 0, CLI_NOARG, get_set },
		{ "show-labels", 0, CLI_NOARG, get_set },
		{ 0 },
	};
	struct get_opts o = { .c = c };
	struct selector sel = { 0 };
	struct bl_etcd *e = NULL;
	struct store_snap snap = { 0 };
	struct bl_obj **objs = NULL;
	size_t nobj = 0;
	const char *kind;
	char kindbuf[64], errbuf[256], kb[32], *slash;
	char *one[2] = { NULL, NULL };
	char **names;
	int n, nnames, ret = 1, rc;
	bool single;

	n = cli_parse(c, argc, argv, flags, &o, get_usage);
	if (n < 0)
		return n == -2 ? 0 : 1;
	if (n == 0) {
		cli_error(c, "you must specify the type of resource to get\n"
			  "See 'bollard get --help'.");
		return 1;
	}
	snprintf(kindbuf, sizeof(kindbuf), "%s", argv[1]);
	names = argv + 2;
	nnames = n - 1;
	slash = strchr(kindbuf, '/');
	if (slash) {
		/* get target/ds1 */
		*slash = 0;
		if (n != 1) {
			cli_error(c, "there is no need to specify a resource "
				  "type as a separate argument when passing "
				  "arguments in resource/name form");
			return 1;
		}
		one[0] = slash + 1;
		names = one;
		nnames = 1;
	}
	if (o.selector && selector_parse(o.selector, &sel, errbuf,
					 sizeof(errbuf)) < 0) {
		cli_error(c, "invalid selector \"%s\": %s", o.selector, errbuf);
		return 1;
	}
	if (strchr(kindbuf, ',') || !strcasecmp(kindbuf, "all")) {
		const char *kinds[16];
		size_t nk = 0;
		char *save = NULL, *tok;

		if (nnames) {
			cli_error(c, "names need a single KIND");
			goto out_free_sel;
		}
		if (!strcasecmp(kindbuf, "all")) {
			for (const char *const *k = bl_kind_names(); *k &&
			     nk < 16; k++)
				kinds[nk++] = *k;
		}
		for (tok = strtok_r(kindbuf, ",", &save); tok && nk < 16 &&
		     strcasecmp(kindbuf, "all");
		     tok = strtok_r(NULL, ",", &save)) {
			if (!(kinds[nk++] = resolve_kind(c, tok)))
				goto out_free_sel;
		}
		ret = get_multi(c, &o, o.selector ? &sel : NULL, kinds, nk);
		goto out_free_sel;
	}
	kind = resolve_kind(c, kindbuf);
	if (!kind)
		goto out_free_sel;
	if (cli_connect(c, &e) < 0)
		goto out_free_sel;
	o.e = e;
	single = nnames == 1;
	objs = calloc((size_t)nnames + 1, sizeof(*objs));
	if (!objs)
		goto out_close;
	ret = 0;
	if (nnames == 0) {
		rc = store_load(c, e, kind, &snap, NULL);
		if (rc < 0) {
			ret = 1;
			goto out_close;
		}
		free(objs);
		objs = calloc(snap.n + 1, sizeof(*objs));
		if (!objs) {
			ret = 1;
			goto out_close;
		}
		for (size_t i = 0; i < snap.n; i++)
			if (!o.selector || selector_match(&sel, snap.v[i]->labels))
				objs[nobj++] = snap.v[i];
	} else {
		for (int i = 0; i < nnames; i++) {
			struct bl_obj *ob;

			rc = store_get_one(e, kind, names[i], &ob);
			if (rc == -ENOENT) {
				if (!o.ignore_not_found) {
					cli_error(c, "%s \"%s\" not found",
						  kind_lower(kind, kb, sizeof(kb)),
						  names[i]);
					ret = 1;
				}
				continue;
			}
			if (rc < 0) {
				cli_etcd_error(c, e, rc, "reading object");
				ret = 1;
				continue;
			}
			if (o.selector && !selector_match(&sel, ob->labels)) {
				bl_obj_free(ob);
				continue;
			}
			objs[nobj++] = ob;
		}
	}
	rc = 0;
	if (nobj == 0 && nnames == 0) {
		if (o.fmt == FMT_JSON || o.fmt == FMT_YAML)
			rc = print_structured(&o, objs, 0, false);
		else
			fprintf(c->err, "No resources found.\n");
	} else if (nobj) {
		switch (o.fmt) {
		case FMT_NAME:
			for (size_t i = 0; i < nobj; i++) {
				print_kind_name(c->out, objs[i]);
				fputc('\n', c->out);
			}
			rc = 0;
			break;
		case FMT_YAML:
		case FMT_JSON:
			rc = print_structured(&o, objs, nobj, single);
			break;
		default:
			rc = print_table(&o, kind, objs, nobj, false);
			break;
		}
		if (rc < 0) {
			cli_error(c, "printing: %s", bl_strerror(rc));
			ret = 1;
		}
	}
	if (nnames > 0)
		for (size_t i = 0; i < nobj; i++)
			bl_obj_free(objs[i]);
out_close:
	free(objs);
	store_snap_free(&snap);
	bl_etcd_close(e);
out_free_sel:
	if (o.selector)
		selector_free(&sel);
	return ret;
}

/* ---- describe ------------------------------------------------------------*/

static void print_indented(FILE *f, const json_t *v, const char *indent)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char *line, *save = NULL;

	if (!m)
		return;
	bl_json_print_yaml(v, m);
	fclose(m);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(f, "%s%s\n", indent, line);
	free(buf);
}

static void print_map_field(FILE *f, const char *title, const json_t *m)
{
	const char *k;
	json_t *v;
	bool first = true;

	fprintf(f, "%-17s", title);
	if (!m || !json_object_size(m)) {
		fprintf(f, "<none>\n");
		return;
	}
	json_object_foreach((json_t *)m, k, v) {
		fprintf(f, "%s%s=%s\n", first ? "" : "                 ", k,
			json_string_value(v) ? json_string_value(v) : "");
		first = false;
	}
}

struct describe_ref_ctx {
	FILE *f;
	const struct store_snap *snap;
	const struct bl_obj *target;    /* for incoming refs                 */
	const char *from;
	int count;
};

static int out_ref(void *arg, const char *kind, const char *name,
		   const char *path)
{
	struct describe_ref_ctx *r = arg;
	char kb[32];

	fprintf(r->f, "  %s/%s (%s)%s\n", kind_lower(kind, kb, sizeof(kb)),
		name, path, store_find(r->snap, kind, name) ? "" :
		"   MISSING");
	r->count++;
	return 0;
}

static int in_ref(void *arg, const char *kind, const char *name,
		  const char *path)
{
	struct describe_ref_ctx *r = arg;

	if (!strcmp(kind, r->target->kind) && !strcmp(name, r->target->name)) {
		fprintf(r->f, "  %s (%s)\n", r->from, path);
		r->count++;
	}
	return 0;
}

/*
 * A Volume's Cluster nodes that reported no status: "offline" when their
 * heartbeat is gone too (the status went with it: volume_status.h), else
 * "not reported".
 */
static void describe_unreported(FILE *f, struct bl_etcd *e,
				const struct store_snap *snap,
				const struct bl_obj *ob, const struct bl_kvs *kvs,
				size_t plen)
{
	const char *cl = json_string_value(json_object_get(ob->spec, "cluster"));
	const struct bl_obj *c = cl ? store_find(snap, "Cluster", cl) : NULL;
	const json_t *n;
	size_t i;

	if (!c || !json_is_object(json_object_get(ob->spec, "replication")))
		return;
	json_array_foreach(json_object_get(c->spec, "nodes"), i, n) {
		const char *nm = json_string_value(json_object_get(n, "name"));
		struct bl_kvs hb = { 0 };
		char key[512];
		bool seen = false;

		for (size_t j = 0; nm && j < kvs->n && !seen; j++)
			seen = !strcmp(kvs->kvs[j].key + plen, nm);
		if (!nm || seen)
			continue;
		snprintf(key, sizeof(key), "/bollard/v1/nodes/%s/%s", cl, nm);
		if (bl_etcd_get(e, key, false, 1, 0, false, &hb) < 0)
			fprintf(f, "  Node %s: <heartbeat unreadable>\n", nm);
		else if (hb.n == 0)
			fprintf(f, "  Node %s: offline (no heartbeat)\n", nm);
		else
			fprintf(f, "  Node %s: not reported\n", nm);
		bl_kvs_free(&hb);
	}
}

static void describe_status(struct cli *c, struct bl_etcd *e,
			    const struct store_snap *snap,
			    const struct bl_obj *ob)
{
	struct bl_kvs kvs = { 0 };
	char *prefix = NULL;
	FILE *f = c->out;
	int rc;

	if (asprintf(&prefix, "%s%s/%s/", CLI_KEY_STATUS, ob->kind,
		     ob->name) < 0)
		return;
	rc = bl_etcd_get(e, prefix, true, 0, 0, false, &kvs);
	fprintf(f, "Status:\n");
	if (rc < 0)
		fprintf(f, "  <unreadable: %s>\n", bl_strerror(rc));
	else if (kvs.n == 0 && strcmp(ob->kind, "Volume"))
		fprintf(f, "  <none reported>\n");
	for (size_t i = 0; rc == 0 && i < kvs.n; i++) {
		const char *node = kvs.kvs[i].key + strlen(prefix);
		json_t *v = json_loadb(kvs.kvs[i].value, kvs.kvs[i].value_len,
				       0, NULL);

		fprintf(f, "  Node %s:\n", node);
		if (v) {
			print_indented(f, v, "    ");
			json_decref(v);
		} else {
			fprintf(f, "    %.*s\n", (int)kvs.kvs[i].value_len,
				kvs.kvs[i].value);
		}
	}
	if (rc == 0 && !strcmp(ob->kind, "Volume")) {
		describe_unreported(f, e, snap, ob, &kvs, strlen(prefix));
		if (kvs.n == 0 && !json_is_object(json_object_get(ob->spec, "replication")))
			fprintf(f, "  <none reported>\n");
	}
	bl_kvs_free(&kvs);
	free(prefix);
}

static void describe_one(struct cli *c, struct bl_etcd *e,
			 const struct store_snap *snap, struct bl_obj *ob)
{
	FILE *f = c->out;
	struct describe_ref_ctx r = { .f = f, .snap = snap, .target = ob };
	char age[32], kb[32], from[160];
	const json_t *body;

	bl_obj_redact(ob);
	format_age(ob->creation_timestamp, (int64_t)time(NULL), age,
		   sizeof(age));
	fprintf(f, "%-17s%s\n", "Name:", ob->name);
	fprintf(f, "%-17s%s\n", "Kind:", ob->kind);
	print_map_field(f, "Labels:", ob->labels);
	print_map_field(f, "Annotations:", ob->annotations);
	fprintf(f, "%-17s%s\n", "UID:", ob->uid ? ob->uid : "<none>");
	fprintf(f, "%-17s%lld\n", "Generation:", (long long)ob->generation);
	fprintf(f, "%-17s%lld\n", "ResourceVersion:",
		(long long)ob->resource_version);
	fprintf(f, "%-17s%s (%s ago)\n", "Created:",
		ob->creation_timestamp ? ob->creation_timestamp : "<unknown>",
		age);
	body = ob->spec ? ob->spec : ob->data;
	fprintf(f, "%s\n", ob->spec ? "Spec:" : "Data:");
	if (body)
		print_indented(f, body, "  ");
	fprintf(f, "References:\n");
	bl_obj_foreach_ref(ob, out_ref, &r);
	if (!r.count)
		fprintf(f, "  <none>\n");
	fprintf(f, "Referenced by:\n");
	r.count = 0;
	for (size_t i = 0; i < snap->n; i++) {
		snprintf(from, sizeof(from), "%s/%s",
			 kind_lower(snap->v[i]->kind, kb, sizeof(kb)),
			 snap->v[i]->name);
		r.from = from;
		bl_obj_foreach_ref(snap->v[i], in_ref, &r);
	}
	if (!r.count)
		fprintf(f, "  <none>\n");
	describe_status(c, e, snap, ob);
}

static const char describe_usage[] =
"Usage: bollard describe KIND [NAME...] [-l SEL]\n"
"\n"
"Show objects in detail: metadata, spec (Secret values never shown), what\n"
"they refer to, what refers to them, and the status each node reported\n"
"under /bollard/v1/status/<Kind>/<name>/<node>.\n";

int cmd_describe(struct cli *c, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{ "selector", 'l', CLI_ARG, get_set },
		{ 0 },
	};
	struct get_opts o = { .c = c };
	struct selector sel = { 0 };
	struct bl_etcd *e = NULL;
	struct store_snap snap = { 0 };
	const char *kind;
	char kb[32], errbuf[256], kindbuf[64], *slash;
	char *one[2] = { NULL, NULL };
	char **names;
	int n, ret = 1, nnames;
	bool printed = false;

	n = cli_parse(c, argc, argv, flags, &o, describe_usage);
	if (n < 0)
		return n == -2 ? 0 : 1;
	if (n == 0) {
		cli_error(c, "you must specify the type of resource to "
			  "describe\nSee 'bollard describe --help'.");
		return 1;
	}
	snprintf(kindbuf, sizeof(kindbuf), "%s", argv[1]);
	names = argv + 2;
	nnames = n - 1;
	if ((slash = strchr(kindbuf, '/'))) {
		*slash = 0;
		one[0] = slash + 1;
		names = one;
		nnames = 1;
	}
	kind = resolve_kind(c, kindbuf);
	if (!kind)
		return 1;
	if (o.selector && selector_parse(o.selector, &sel, errbuf,
					 sizeof(errbuf)) < 0) {
		cli_error(c, "invalid selector \"%s\": %s", o.selector, errbuf);
		return 1;
	}
	if (cli_connect(c, &e) < 0)
		goto out_free_sel;
	if (store_load(c, e, NULL, &snap, NULL) < 0)
		goto out_close;
	ret = 0;
	if (nnames == 0) {
		for (size_t i = 0; i < snap.n; i++) {
			struct bl_obj *ob;

			if (strcmp(snap.v[i]->kind, kind) ||
			    (o.selector &&
			     !selector_match(&sel, snap.v[i]->labels)))
				continue;
			ob = bl_obj_dup(snap.v[i]);
			if (!ob)
				continue;
			ob->resource_version = snap.v[i]->resource_version;
			if (printed)
				fputc('\n', c->out);
			describe_one(c, e, &snap, ob);
			bl_obj_free(ob);
			printed = true;
		}
		if (!printed)
			fprintf(c->err, "No resources found.\n");
	}
	for (int i = 0; i < nnames; i++) {
		const struct bl_obj *s = store_find(&snap, kind, names[i]);
		struct bl_obj *ob;

		if (!s) {
			cli_error(c, "%s \"%s\" not found",
				  kind_lower(kind, kb, sizeof(kb)), names[i]);
			ret = 1;
			continue;
		}
		ob = bl_obj_dup(s);
		if (!ob) {
			ret = 1;
			continue;
		}
		ob->resource_version = s->resource_version;
		if (printed)
			fputc('\n', c->out);
		describe_one(c, e, &snap, ob);
		bl_obj_free(ob);
		printed = true;
	}
	store_snap_free(&snap);
out_close:
	bl_etcd_close(e);
out_free_sel:
	if (o.selector)
		selector_free(&sel);
	return ret;
}
