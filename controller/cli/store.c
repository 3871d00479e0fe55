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
	s->v = calloc(kvs.n ? kvs.n : 1, sizeof(*s->v));
	if (!s->v) {
		rc = -ENOMEM;
		goto out_free_kvs;
	}
	for (size_t i = 0; i < kvs.n; i++) {
		struct bl_kv *kv = &kvs.kvs[i];
		struct bl_obj *o = NULL;
		struct bl_diag d = { 0 };
		char *want;
		int prc = bl_obj_from_json(kv->value, kv->value_len, &o, &d);

		if (prc == -ENOMEM) {
			bl_diag_free(&d);
			rc = prc;
			goto out_free_kvs;
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
	store_snap_sort(s);
	rc = 0;
out_free_kvs:
	bl_kvs_free(&kvs);
	if (rc < 0)
		store_snap_free(s);
out_free_prefix:
	free(prefix);
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

