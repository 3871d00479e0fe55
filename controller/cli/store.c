/*
 * store.c - the etcd key layout and reading objects back.
 *
 *   /bollard/v1/objects/<Kind>/<name>        canonical JSON (bl_obj_to_json)
 *   /bollard/v1/status/<Kind>/<name>/<node>  per-node status (controllers)
 *   /bollard/v1/meta/minors/<cluster>        minor-allocation guard (apply)
 *
 * metadata.resourceVersion is never stored: it is the key's mod_revision,
 * filled in here on every read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "cli.h"

char *store_key(const char *kind, const char *name)
{
	char *k = NULL;
	int rc;

	if (!kind)
		rc = asprintf(&k, "%s", CLI_KEY_OBJECTS);
	else if (!name)
		rc = asprintf(&k, "%s%s/", CLI_KEY_OBJECTS, kind);
	else
		rc = asprintf(&k, "%s%s/%s", CLI_KEY_OBJECTS, kind, name);
	return rc < 0 ? NULL : k;
}

const char *kind_lower(const char *kind, char *buf, size_t len)
{
	size_t i;

	for (i = 0; kind[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)kind[i]);
	buf[i] = 0;
	return buf;
}

void print_kind_name(FILE *f, const struct bl_obj *o)
{
	char kb[32];

	fprintf(f, "%s/%s", kind_lower(o->kind, kb, sizeof(kb)), o->name);
}

/*
 * Parse kvs into s (appending; s->v grows). Unparseable values are reported
 * and skipped. Returns 0 or -ENOMEM.
 */
static int snap_add_kvs(struct cli *c, const struct bl_kvs *kvs,
			struct store_snap *s, size_t *nbad)
{
	struct bl_obj **v = realloc(s->v, (s->n + kvs->n + 1) * sizeof(*s->v));

	if (!v)
		return -ENOMEM;
	s->v = v;
	for (size_t i = 0; i < kvs->n; i++) {
		struct bl_kv *kv = &kvs->kvs[i];
		struct bl_obj *o = NULL;
		struct bl_diag d = { 0 };
		char *want;
		int prc = bl_obj_from_json(kv->value, kv->value_len, &o, &d);

		if (prc == -ENOMEM) {
			bl_diag_free(&d);
			return prc;
		}
		if (prc < 0) {
			fprintf(c->err, "warning: %s: stored value does not "
				"parse, skipped:\n", kv->key);
			bl_diag_print(&d, c->err);
			bl_diag_free(&d);
			if (nbad)
				(*nbad)++;
			continue;
		}
		bl_diag_free(&d);
		want = store_key(o->kind, o->name);
		if (!want || strcmp(want, kv->key)) {
			fprintf(c->err, "warning: %s holds %s/%s, skipped\n",
				kv->key, o->kind, o->name);
			free(want);
			bl_obj_free(o);
			if (nbad)
				(*nbad)++;
			continue;
		}
		free(want);
		o->resource_version = kv->mod_revision;
		s->v[s->n++] = o;
	}
	return 0;
}

int store_load(struct cli *c, struct bl_etcd *e, const char *kind,
	       struct store_snap *s, size_t *nbad)
{
	struct bl_kvs kvs = { 0 };
	char *prefix = store_key(kind, NULL);
	int rc;

	memset(s, 0, sizeof(*s));
	if (nbad)
		*nbad = 0;
	if (!prefix)
		return -ENOMEM;
	rc = bl_etcd_get(e, prefix, true, 0, 0, false, &kvs);
	if (rc < 0) {
		cli_etcd_error(c, e, rc, "reading objects");
		goto out_free_prefix;
	}
	s->revision = kvs.revision;
	rc = snap_add_kvs(c, &kvs, s, nbad);
	bl_kvs_free(&kvs);
	if (rc < 0) {
		store_snap_free(s);
		goto out_free_prefix;
	}
	store_snap_sort(s);
out_free_prefix:
	free(prefix);
	return rc;
}

/* ---- store_load_for ------------------------------------------------------*/

/* Beyond this many single-key reads, one range over everything is cheaper
 * (a get is one round trip; parsing a stored object is a few microseconds). */
#define LOAD_FOR_MAX_KEYS 48

struct keyset {
	char **v;
	size_t n, cap;
	bool too_many;
};

static int keyset_add(struct keyset *k, const char *kind, const char *name)
{
	char *key = store_key(kind, name);

	if (!key)
		return -ENOMEM;
	/* Small sets (at most LOAD_FOR_MAX_KEYS): a linear scan keeps
	 * duplicates out. */
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(key, k->v[i]))
			goto out_free_key;
	if (k->n == LOAD_FOR_MAX_KEYS) {
		k->too_many = true;
		goto out_free_key;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 8;
		char **v = realloc(k->v, cap * sizeof(*v));
		if (!v) {
			free(key);
			return -ENOMEM;
		}
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] = key;
	return 0;
out_free_key:
	free(key);
	return 0;
}

static int ref_key(void *arg, const char *kind, const char *name, const char *path)
{
	(void)path;
	return keyset_add(arg, kind, name) < 0 ? -1 : 0;
}

/* One read at revision rev (0: latest, then *rev is set) into s. */
static int read_into(struct cli *c, struct bl_etcd *e, const char *key,
		     bool prefix, int64_t *rev, struct store_snap *s)
{
	struct bl_kvs kvs = { 0 };
	int rc = bl_etcd_get(e, key, prefix, prefix ? 0 : 1, *rev, false, &kvs);

	if (rc < 0) {
		cli_etcd_error(c, e, rc, "reading objects");
		return rc;
	}
	if (!*rev)
		*rev = kvs.revision;
	rc = snap_add_kvs(c, &kvs, s, NULL);
	bl_kvs_free(&kvs);
	return rc;
}

static size_t count_kind(const struct store_snap *s, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += !strcmp(s->v[i]->kind, kind);
	return n;
}

int store_load_for(struct cli *c, struct bl_etcd *e,
		   const struct bl_objlist *list, struct store_snap *s)
{
	struct keyset k = { 0 };
	bool rollouts = false, volumes = false;
	size_t applied_ro = 0;
	int64_t rev = 0;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < list->n && rc == 0; i++) {
		const struct bl_obj *o = list->v[i];
		rc = keyset_add(&k, o->kind, o->name);
		if (rc == 0 && bl_obj_foreach_ref(o, ref_key, &k) < 0)
			rc = -ENOMEM;
		if (!strcmp(o->kind, "Rollout"))
			applied_ro++;
		if (!strcmp(o->kind, "Rollout") || !strcmp(o->kind, "Target") ||
		    !strcmp(o->kind, "Volume") || !strcmp(o->kind, "Cluster"))
			rollouts = true;
		if (!strcmp(o->kind, "Volume") && o->spec &&
		    json_is_object(json_object_get(o->spec, "replication")))
			volumes = true;
	}
	if (rc < 0)
		goto out;
	if (k.too_many) {
		rc = store_load(c, e, NULL, s, NULL);
		goto out;
	}
	/* The first read fixes the revision the others are read at. */
	for (size_t i = 0; i < k.n && rc == 0; i++)
		rc = read_into(c, e, k.v[i], false, &rev, s);
	if (rc == 0 && rollouts) {
		char *pre = store_key("Rollout", NULL);
		rc = pre ? read_into(c, e, pre, true, &rev, s) : -ENOMEM;
		free(pre);
		/* Two or more Rollouts: the overlap check needs every
		 * Cluster and Target. Re-read those kinds whole. */
		if (rc == 0 && count_kind(s, "Rollout") + applied_ro > 1) {
			store_snap_free(s);
			rc = store_load(c, e, NULL, s, NULL);
			goto out;
		}
	}
	if (rc == 0 && volumes) {
		char *pre = store_key("Volume", NULL);
		rc = pre ? read_into(c, e, pre, true, &rev, s) : -ENOMEM;
		free(pre);
	}
	if (rc < 0)
		goto out;
	/* Single reads and ranges may overlap (a listed Volume and the range
	 * of every Volume): keep one copy of each. */
	store_snap_sort(s);
	for (size_t i = 1, j = 1; i <= s->n; i++) {
		if (i == s->n) {
			s->n = j;
			break;
		}
		if (!strcmp(s->v[i]->kind, s->v[j - 1]->kind) &&
		    !strcmp(s->v[i]->name, s->v[j - 1]->name))
			bl_obj_free(s->v[i]);
		else
			s->v[j++] = s->v[i];
	}
	s->revision = rev;
out:
	for (size_t i = 0; i < k.n; i++)
		free(k.v[i]);
	free(k.v);
	if (rc < 0)
		store_snap_free(s);
	return rc;
}

int store_get_one(struct bl_etcd *e, const char *kind, const char *name,
		  struct bl_obj **out)
{
	struct bl_kvs kvs = { 0 };
	char *key = store_key(kind, name);
	int rc;

	*out = NULL;
	if (!key)
		return -ENOMEM;
	rc = bl_etcd_get(e, key, false, 1, 0, false, &kvs);
	if (rc < 0)
		goto out;
	if (kvs.n == 0) {
		rc = -ENOENT;
		goto out;
	}
	rc = bl_obj_from_json(kvs.kvs[0].value, kvs.kvs[0].value_len, out,
			      NULL);
	if (rc == 0)
		(*out)->resource_version = kvs.kvs[0].mod_revision;
out:
	bl_kvs_free(&kvs);
	free(key);
	return rc;
}

