/*
 * status_store.c - a rollout's status in etcd, split per cluster
 * (rollout.h, "status keys").
 *
 * Why split: the status used to be one key holding every cluster's entry,
 * ~300 bytes each, so ~300 kB at 1,000 clusters. The fleet controller
 * rewrote all of it whenever one cluster moved (several times a second
 * during a wave) and read it back every round, `bollard rollout status`
 * read it every 250 ms, and every bollardd watching /bollard/v1/rollouts/
 * for admissions received each rewrite. Now the summary key holds what a
 * progress line needs (phase, reason, revision, waves, counts: about a
 * kilobyte whatever the fleet's size), each cluster's entry is a key of
 * its own written only when that entry changes, and:
 *   - the fleet controller reads its state back only when another writer
 *     touched it: it keeps what it wrote, with the summary's mod_revision,
 *     and one keys-only get of the summary tells whether that is still
 *     what etcd has (the summary is always written last, so any writer's
 *     change moves it);
 *   - the CLI reads the summary on each poll and the per-cluster keys only
 *     when it prints the table.
 * An older controller's status (one key with a "clusters" array) is still
 * read: the array is used as it is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_etcd.h"
#include "rollout/rollout.h"

#define TXN_OPS 100             /* under etcd's default --max-txn-ops (128) */

static void key_of(char *buf, size_t len, const char *ro, const char *leaf)
{
	snprintf(buf, len, "%s%s/%s", BL_RO_KEY_ROLLOUTS, ro, leaf);
}

int bl_ro_status_read(struct bl_etcd *e, const char *ro, bool clusters,
		      json_t **out, int64_t *mod_revision)
{
	struct bl_kvs kvs = { 0 };
	char key[400];
	json_t *st, *arr;
	int rc;

	*out = NULL;
	key_of(key, sizeof(key), ro, "status");
	rc = bl_etcd_get(e, key, false, 1, 0, false, &kvs);
	if (rc < 0)
		return rc;
	if (!kvs.n) {
		bl_kvs_free(&kvs);
		return 0;
	}
	if (mod_revision)
		*mod_revision = kvs.kvs[0].mod_revision;
	st = json_loadb(kvs.kvs[0].value, kvs.kvs[0].value_len, 0, NULL);
	bl_kvs_free(&kvs);
	if (!json_is_object(st)) {
		json_decref(st);
		return 0;
	}
	if (json_is_array(json_object_get(st, "clusters"))) {
		/* an older controller's single key: in memory, say so */
		json_object_set_new(st, "legacy", json_true());
		*out = st;
		return 0;
	}
	if (!clusters) {
		*out = st;
		return 0;
	}
	key_of(key, sizeof(key), ro, "clusters/");
	rc = bl_etcd_get(e, key, true, 0, 0, false, &kvs);
	if (rc < 0) {
		json_decref(st);
		return rc;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < kvs.n; i++) {
		json_t *c = json_loadb(kvs.kvs[i].value, kvs.kvs[i].value_len, 0, NULL);
		if (json_is_object(c))
			json_array_append_new(arr, c);
		else
			json_decref(c);
	}
	bl_kvs_free(&kvs);
	if (!arr) {
		json_decref(st);
		return -ENOMEM;
	}
	json_object_set_new(st, "clusters", arr);
	*out = st;
	return 0;
}

/* The entries of st's "clusters" by name, as compact strings. */
static json_t *entries_by_name(const json_t *st)
{
	json_t *m = json_object(), *c;
	size_t i;

	if (!m)
		return NULL;
	json_array_foreach(json_object_get(st, "clusters"), i, c) {
		const char *nm = json_string_value(json_object_get(c, "name"));
		char *s = nm ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (s)
			json_object_set_new(m, nm, json_string(s));
		free(s);
	}
	return m;
}

struct txn {
	struct bl_op ops[TXN_OPS];
	char *keys[TXN_OPS], *vals[TXN_OPS];
	size_t n;
	int64_t rev;
};

static void txn_reset(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->keys[i]);
		free(t->vals[i]);
	}
	t->n = 0;
}

static int txn_flush(struct bl_etcd *e, struct txn *t)
{
	bool ok = false;
	int rc = t->n ? bl_etcd_txn(e, NULL, 0, t->ops, t->n, NULL, 0, &ok, NULL, &t->rev) : 0;

	txn_reset(t);
	return rc;
}

/* key and val (NULL: delete) are taken over. */
static int txn_add(struct bl_etcd *e, struct txn *t, char *key, char *val)
{
	int rc = 0;

	if (!key) {
		free(val);
		return -ENOMEM;
	}
	if (t->n == TXN_OPS && (rc = txn_flush(e, t)) < 0) {
		free(key);
		free(val);
		return rc;
	}
	t->keys[t->n] = key;
	t->vals[t->n] = val;
	t->ops[t->n] = (struct bl_op){ .type = val ? BL_OP_PUT : BL_OP_DELETE,
				       .key = key, .value = val,
				       .value_len = val ? strlen(val) : 0 };
	t->n++;
	return 0;
}

int bl_ro_status_write(struct bl_etcd *e, const char *ro, const json_t *old,
		       const json_t *nst, int64_t *mod_revision)
{
	/* An older controller's single key (its entries in the summary's
	 * "clusters" array, no per-cluster keys): every entry is written. */
	bool legacy = old && json_is_true(json_object_get(old, "legacy"));
	json_t *was = entries_by_name(legacy ? NULL : old), *now = entries_by_name(nst), *v;
	json_t *sum = json_deep_copy(nst), *osum = old ? json_deep_copy(old) : NULL;
	struct txn t = { .n = 0 };
	char key[600], *s = NULL, *os = NULL;
	const char *nm;
	size_t changed = 0;
	int rc = -ENOMEM;

	if (!was || !now || !sum)
		goto out;
	json_object_del(sum, "clusters");
	json_object_del(sum, "legacy");
	if (osum) {
		json_object_del(osum, "clusters");
		json_object_del(osum, "legacy");
	}
	/* Changed and new entries; then the ones that left the rollout. */
	json_object_foreach(now, nm, v) {
		const char *ov = json_string_value(json_object_get(was, nm));
		if (ov && !strcmp(ov, json_string_value(v)))
			continue;
		key_of(key, sizeof(key), ro, "clusters/");
		strncat(key, nm, sizeof(key) - strlen(key) - 1);
		if ((rc = txn_add(e, &t, strdup(key), strdup(json_string_value(v)))) < 0)
			goto out;
		changed++;
	}
	json_object_foreach(was, nm, v) {
		if (json_object_get(now, nm))
			continue;
		key_of(key, sizeof(key), ro, "clusters/");
		strncat(key, nm, sizeof(key) - strlen(key) - 1);
		if ((rc = txn_add(e, &t, strdup(key), NULL)) < 0)
			goto out;
		changed++;
	}
	s = json_dumps(sum, JSON_COMPACT | JSON_SORT_KEYS);
	os = osum ? json_dumps(osum, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	rc = -ENOMEM;
	if (!s)
		goto out;
	if (!changed && os && !strcmp(s, os)) {
		rc = 0;         /* nothing changed: nothing written */
		goto out;
	}
	/* The summary last: its mod_revision moves with every write. */
	key_of(key, sizeof(key), ro, "status");
	rc = txn_add(e, &t, strdup(key), s);
	s = NULL;
	if (rc == 0)
		rc = txn_flush(e, &t);
	if (rc == 0) {
		if (mod_revision)
			*mod_revision = t.rev;
		rc = 1;
	}
out:
	txn_reset(&t);
	free(s);
	free(os);
	json_decref(was);
	json_decref(now);
	json_decref(sum);
	json_decref(osum);
	return rc;
}
