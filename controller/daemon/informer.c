/*
 * informer.c - see informer.h.
 *
 * The cache is a sorted array of (key, object) entries: lookups are binary
 * searches, iteration is in key order (so per-kind iteration is a contiguous
 * range), and inserting is a memmove. At the scale we target (10,000
 * objects) that is a few microseconds per event and keeps the structure
 * trivially correct; a hash would buy nothing measurable here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_etcd.h"
#include "informer.h"

/*
 * One cached object. Kinds not compact: obj always set, text NULL.
 * Compact kinds: text always set, obj only between a get/foreach and the
 * next trim.
 */
struct entry {
	char *key;
	struct bl_obj *obj;
	char *text;                 /* validated stored form (compact kinds)  */
	size_t len;
	char *cluster;              /* spec.cluster (Cluster: its name)       */
	int64_t rev;                /* etcd mod revision                      */
};

struct bl_informer {
	struct bl_informer_ops ops;
	void *arg;
	struct entry *v;
	size_t n, cap;
	int64_t revision;
	struct bl_etcd *etcd;
	struct bl_watch *watch;
	const char *const *compact; /* kinds kept as text; NULL: none          */
};

char *bl_object_key(char *buf, size_t len, const char *kind, const char *name)
{
	snprintf(buf, len, "%s%s/%s", BL_OBJECTS_PREFIX, kind, name);
	return buf;
}

struct bl_informer *bl_informer_new(const struct bl_informer_ops *ops, void *arg)
{
	struct bl_informer *inf = calloc(1, sizeof(*inf));
	if (!inf)
		return NULL;
	inf->ops = *ops;
	inf->arg = arg;
	return inf;
}

int bl_informer_set_compact(struct bl_informer *inf, const char *const *kinds)
{
	inf->compact = kinds;
	return 0;
}

static bool is_compact(const struct bl_informer *inf, const char *kind)
{
	for (const char *const *k = inf->compact; k && *k; k++)
		if (!strcmp(*k, kind))
			return true;
	return false;
}

static void entry_free(struct entry *e)
{
	free(e->key);
	bl_obj_free(e->obj);
	free(e->text);
	free(e->cluster);
}

static void clear(struct bl_informer *inf)
{
	size_t i;
	for (i = 0; i < inf->n; i++)
		entry_free(&inf->v[i]);
	inf->n = 0;
}

void bl_informer_free(struct bl_informer *inf)
{
	if (!inf)
		return;
	if (inf->watch)
		bl_etcd_watch_cancel(inf->watch);
	clear(inf);
	free(inf->v);
	free(inf);
}

/* Index of key, or of where it would go (*found = 0). */
static size_t find(const struct bl_informer *inf, const char *key, int *found)
{
	size_t lo = 0, hi = inf->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(inf->v[mid].key, key);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

/* Split "<prefix><Kind>/<name>" into kind and name (pointers into buf). */
static int split_key(const char *key, char *buf, size_t len,
		     const char **kind, const char **name)
{
	size_t pl = strlen(BL_OBJECTS_PREFIX);
	char *slash;

	if (strncmp(key, BL_OBJECTS_PREFIX, pl) != 0 || strlen(key + pl) >= len)
		return -EINVAL;
	strcpy(buf, key + pl);
	slash = strchr(buf, '/');
	if (!slash || slash == buf || !slash[1])
		return -EINVAL;
	*slash = '\0';
	*kind = buf;
	*name = slash + 1;
	return 0;
}

static void remove_at(struct bl_informer *inf, size_t i)
{
	entry_free(&inf->v[i]);
	memmove(&inf->v[i], &inf->v[i + 1], (inf->n - i - 1) * sizeof(inf->v[0]));
	inf->n--;
}

/* Takes ownership of the fields of *e (key included) on success only. */
static int insert_at(struct bl_informer *inf, size_t i, const struct entry *e)
{
	if (inf->n == inf->cap) {
		size_t cap = inf->cap ? inf->cap * 2 : 256;
		struct entry *v = realloc(inf->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		inf->v = v;
		inf->cap = cap;
	}
	memmove(&inf->v[i + 1], &inf->v[i], (inf->n - i) * sizeof(inf->v[0]));
	inf->v[i] = *e;
	inf->n++;
	return 0;
}

/*
 * Fill e from a freshly parsed, validated obj: the cluster name, and for a
 * compact kind the stored text instead of the object (obj is freed then).
 * own, when not NULL, is value's malloc'ed buffer (NUL-terminated), which
 * the text takes over (*own is then NULL) instead of a copy: the listing
 * at start hands over its 10,000 values rather than holding them twice.
 * On failure nothing is kept and obj is freed.
 */
static int entry_make(const struct bl_informer *inf, struct entry *e, const char *key,
		      struct bl_obj *obj, const char *value, size_t len, int64_t rev,
		      char **own)
{
	const char *cl = !strcmp(obj->kind, "Cluster") ? obj->name :
			 json_string_value(json_object_get(obj->spec, "cluster"));

	memset(e, 0, sizeof(*e));
	e->rev = rev;
	e->key = strdup(key);
	e->cluster = cl ? strdup(cl) : NULL;
	if (!e->key || (cl && !e->cluster))
		goto fail;
	if (is_compact(inf, obj->kind)) {
		if (own && *own == value) {
			e->text = *own;
			*own = NULL;
		} else if ((e->text = malloc(len + 1))) {
			memcpy(e->text, value, len);
			e->text[len] = '\0';
		}
		if (!e->text)
			goto fail;
		e->len = len;
		bl_obj_free(obj);
	} else {
		e->obj = obj;
	}
	return 0;
fail:
	bl_obj_free(obj);
	e->obj = NULL;
	entry_free(e);
	memset(e, 0, sizeof(*e));
	return -ENOMEM;
}

/* The parsed object of e, parsing a compact one on demand. */
static struct bl_obj *entry_obj(struct entry *e)
{
	struct bl_obj *o = NULL;

	if (e->obj || !e->text)
		return e->obj;
	if (bl_obj_from_json(e->text, e->len, &o, NULL) < 0)
		return NULL;
	o->resource_version = e->rev;
	e->obj = o;
	return o;
}

static void apply_one(struct bl_informer *inf, const char *key, const char *value,
		      size_t len, int64_t mod_rev, char **own);

void bl_informer_apply(struct bl_informer *inf, const char *key,
		       const char *value, size_t len, int64_t mod_rev)
{
	apply_one(inf, key, value, len, mod_rev, NULL);
}

/* bl_informer_apply; own: see entry_make. */
static void apply_one(struct bl_informer *inf, const char *key, const char *value,
		      size_t len, int64_t mod_rev, char **own)
{
	char kbuf[512];
	const char *kind, *name;
	struct bl_obj *obj = NULL;
	struct bl_diag d = { 0 };
	int found;
	size_t i;

	if (mod_rev > inf->revision)
		inf->revision = mod_rev;
	if (split_key(key, kbuf, sizeof(kbuf), &kind, &name) < 0) {
		if (inf->ops.on_error)
			inf->ops.on_error(inf->arg, key, "not an object key");
		return;
	}
	if (value) {
		int rc = bl_obj_from_json(value, len, &obj, &d);
		if (rc == 0 && (strcmp(obj->kind, kind) != 0 || strcmp(obj->name, name) != 0)) {
			bl_obj_free(obj);
			obj = NULL;
			rc = -EINVAL;
			if (inf->ops.on_error)
				inf->ops.on_error(inf->arg, key, "kind/name do not match the key");
		} else if (rc < 0 && inf->ops.on_error) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s%s%s", bl_strerror(rc),
				 d.n ? ": " : "", d.n ? d.v[0].msg : "");
			inf->ops.on_error(inf->arg, key, msg);
		}
		bl_diag_free(&d);
		if (obj)
			obj->resource_version = mod_rev;
	}
	i = find(inf, key, &found);
	if (obj) {
		struct entry e;
		if (entry_make(inf, &e, key, obj, value, len, mod_rev, own) < 0)
			return;
		if (found) {
			entry_free(&inf->v[i]);
			inf->v[i] = e;
		} else if (insert_at(inf, i, &e) < 0) {
			entry_free(&e);
			return;
		}
	} else if (found) {
		remove_at(inf, i);
	} else if (!value) {
		return;     /* delete of something we never had */
	}
	if (inf->ops.on_change)
		inf->ops.on_change(inf->arg, key, kind, name);
}

const struct bl_obj *bl_informer_get(const struct bl_informer *inf,
				     const char *kind, const char *name)
{
	char key[512];
	int found;
	size_t i;

	bl_object_key(key, sizeof(key), kind, name);
	i = find(inf, key, &found);
	/* Parsing a compact object fills the cache: logically const. */
	return found ? entry_obj(&((struct bl_informer *)inf)->v[i]) : NULL;
}

struct bl_obj *bl_informer_load(const struct bl_informer *inf, const char *kind,
			       const char *name)
{
	const struct entry *e;
	struct bl_obj *o = NULL;
	char key[512];
	int found;
	size_t i;

	bl_object_key(key, sizeof(key), kind, name);
	i = find(inf, key, &found);
	if (!found)
		return NULL;
	e = &inf->v[i];
	if (!e->text)
		return e->obj ? bl_obj_dup(e->obj) : NULL;
	if (bl_obj_from_json(e->text, e->len, &o, NULL) < 0)
		return NULL;
	o->resource_version = e->rev;
	return o;
}

const char *bl_informer_cluster(const struct bl_informer *inf,
				const char *kind, const char *name)
{
	char key[512];
	int found;
	size_t i;

	bl_object_key(key, sizeof(key), kind, name);
	i = find(inf, key, &found);
	return found ? inf->v[i].cluster : NULL;
}

size_t bl_informer_trim(struct bl_informer *inf)
{
	size_t i, n = 0;

	for (i = 0; i < inf->n; i++)
		if (inf->v[i].text && inf->v[i].obj) {
			bl_obj_free(inf->v[i].obj);
			inf->v[i].obj = NULL;
			n++;
		}
	return n;
}

void bl_informer_usage(const struct bl_informer *inf, size_t *text_bytes,
		       size_t *parsed)
{
	size_t i;

	*text_bytes = *parsed = 0;
	for (i = 0; i < inf->n; i++) {
		*text_bytes += inf->v[i].len;
		*parsed += inf->v[i].obj != NULL;
	}
}

void bl_informer_foreach(const struct bl_informer *inf, const char *kind,
			 void (*cb)(void *arg, const struct bl_obj *obj), void *arg)
{
	char prefix[256];
	size_t i = 0, pl = 0;
	int found;

	if (kind) {
		pl = (size_t)snprintf(prefix, sizeof(prefix), "%s%s/", BL_OBJECTS_PREFIX, kind);
		i = find(inf, prefix, &found);
	}
	for (; i < inf->n; i++) {
		/* Parsing a compact object fills the cache: logically const. */
		struct bl_obj *o;
		if (kind && strncmp(inf->v[i].key, prefix, pl) != 0)
			break;
		o = entry_obj(&((struct bl_informer *)inf)->v[i]);
		if (o)
			cb(arg, o);
	}
}

/* First entry of kind (prefix/pl set), or 0 for every kind (pl 0). */
static size_t kind_start(const struct bl_informer *inf, const char *kind,
			 char *prefix, size_t len, size_t *pl)
{
	int found;

	*pl = 0;
	if (!kind)
		return 0;
	*pl = (size_t)snprintf(prefix, len, "%s%s/", BL_OBJECTS_PREFIX, kind);
	return find(inf, prefix, &found);
}

void bl_informer_foreach_copy(const struct bl_informer *inf, const char *kind,
			      void (*cb)(void *arg, const struct bl_obj *obj), void *arg)
{
	char prefix[256];
	size_t pl, i = kind_start(inf, kind, prefix, sizeof(prefix), &pl);

	for (; i < inf->n; i++) {
		const struct entry *e = &inf->v[i];
		struct bl_obj *o = NULL;

		if (pl && strncmp(e->key, prefix, pl) != 0)
			break;
		if (e->obj) {
			cb(arg, e->obj);
			continue;
		}
		if (!e->text || bl_obj_from_json(e->text, e->len, &o, NULL) < 0)
			continue;
		o->resource_version = e->rev;
		cb(arg, o);
		bl_obj_free(o);
	}
}

void bl_informer_foreach_name(const struct bl_informer *inf, const char *kind,
			      void (*cb)(void *arg, const char *name), void *arg)
{
	char prefix[256];
	size_t pl, i = kind_start(inf, kind, prefix, sizeof(prefix), &pl);

	for (; i < inf->n; i++) {
		const char *slash;

		if (pl && strncmp(inf->v[i].key, prefix, pl) != 0)
			break;
		slash = strchr(inf->v[i].key + strlen(BL_OBJECTS_PREFIX), '/');
		if (slash)
			cb(arg, slash + 1);
	}
}

size_t bl_informer_count(const struct bl_informer *inf)
{
	return inf->n;
}

int64_t bl_informer_revision(const struct bl_informer *inf)
{
	return inf->revision;
}

/*
 * The listing is read in pages. One range of everything, at 10,000 LUNs,
 * is a ~4 MB gRPC message that the client holds as the message, as its
 * protobuf form and as bl_kvs copies at once: ~16 MB of heap at bollardd's
 * start, the highest point of its life once the reconciles were made
 * smaller (issue 6 asks < 30 MB of RSS in all). So the keys come first
 * (keys only: ~0.4 MB), then the values in pages of at most LIST_PAGE
 * objects, every page at the revision of the key listing: together one
 * consistent snapshot, as the single range was, and the watch goes on from
 * that revision + 1 as before.
 *
 * bl_etcd_get reads a key or a prefix, not a [from, to) range, so a page
 * is a prefix: the sorted keys are split into prefixes that each cover at
 * most LIST_PAGE keys (split_pages), a key that is itself the prefix of
 * other keys being read on its own. 10,000 Volumes named v0..v9999 take
 * ~100 reads of ~100 objects: ~30 ms more at start, on a quiet machine.
 */
#define LIST_PAGE 1024

struct lister {
	struct bl_informer *inf;
	int64_t rev;                /* snapshot: the key listing's revision   */
	char prefix[512];
	int rc;
};

/* Apply one page (a prefix read at l->rev): each value goes to the cache
 * as it is for compact kinds (apply_one: own), each key is freed once
 * used, so a page is not held twice. */
static int list_page(struct lister *l, bool prefix, size_t want)
{
	struct bl_kvs kvs = { 0 };
	int rc = bl_etcd_get(l->inf->etcd, l->prefix, prefix, 0, l->rev, false, &kvs);

	if (rc < 0)
		return rc;
	if (kvs.n != want) {   /* a snapshot does not move: etcd misbehaves */
		bl_kvs_free(&kvs);
		return -EPROTO;
	}
	for (size_t j = 0; j < kvs.n; j++) {
		struct bl_kv *kv = &kvs.kvs[j];
		int found;
		size_t i = find(l->inf, kv->key, &found);

		if (!found || l->inf->v[i].rev != kv->mod_revision)
			apply_one(l->inf, kv->key, kv->value, kv->value_len, kv->mod_revision,
				  &kv->value);
		free(kv->key);
		free(kv->value);
		kv->key = kv->value = NULL;
	}
	bl_kvs_free(&kvs);
	return 0;
}

/*
 * Read keys[lo, hi), which all start with l->prefix (d bytes long), in
 * pages of at most LIST_PAGE: the prefix itself when they fit, else the
 * prefix as a key of its own (when it is one) and a split on the next byte.
 */
static int split_pages(struct lister *l, const struct bl_kv *keys, size_t lo, size_t hi,
		       size_t d)
{
	size_t i = lo, j;
	int rc;

	if (hi - lo <= LIST_PAGE)
		return list_page(l, true, hi - lo);
	if (d + 2 > sizeof(l->prefix))
		return -ENAMETOOLONG;
	if (keys[i].key_len == d) {   /* the prefix is a key: alone */
		if ((rc = list_page(l, false, 1)) < 0)
			return rc;
		i++;
	}
	for (; i < hi; i = j) {
		char c = keys[i].key[d];

		for (j = i; j < hi && keys[j].key[d] == c; j++)
			;
		l->prefix[d] = c;
		l->prefix[d + 1] = '\0';
		rc = split_pages(l, keys, i, j, d + 1);
		l->prefix[d] = '\0';
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Replace the cache with a fresh listing, reporting keys that changed
 * (different mod revision) or disappeared. Used at start and after a
 * compaction.
 */
static int relist_once(struct bl_informer *inf)
{
	struct bl_kvs kvs = { 0 };
	struct lister l = { .inf = inf };
	size_t i, j;
	int rc;

	rc = bl_etcd_get(inf->etcd, BL_OBJECTS_PREFIX, true, 0, 0, true, &kvs);
	if (rc < 0)
		return rc;
	/* Deletions: cached keys absent from the listing. Both sorted. */
	for (i = 0, j = 0; i < inf->n;) {
		int c = j < kvs.n ? strcmp(inf->v[i].key, kvs.kvs[j].key) : -1;
		if (c < 0) {
			char *key = strdup(inf->v[i].key);
			if (!key)
				break;
			bl_informer_apply(inf, key, NULL, 0, kvs.revision);
			free(key);
			continue;     /* v[i] is now the next entry */
		}
		if (c == 0)
			i++;
		j++;
	}
	l.rev = kvs.revision;
	snprintf(l.prefix, sizeof(l.prefix), "%s", BL_OBJECTS_PREFIX);
	rc = kvs.n ? split_pages(&l, kvs.kvs, 0, kvs.n, strlen(BL_OBJECTS_PREFIX)) : 0;
	if (rc == 0 && kvs.revision > inf->revision)
		inf->revision = kvs.revision;
	bl_kvs_free(&kvs);
	return rc;
}

/* A compaction between the key listing and a page (its revision gone):
 * list again from the top, a few times. */
static int relist(struct bl_informer *inf)
{
	int rc, tries = 0;

	while ((rc = relist_once(inf)) == BL_E_COMPACTED && ++tries < 3)
		;
	return rc;
}

static void on_watch(void *arg, const struct bl_watch_event *ev, size_t n,
		     int64_t revision, int err)
{
	struct bl_informer *inf = arg;
	size_t i;

	if (err) {
		if (inf->ops.on_error)
			inf->ops.on_error(inf->arg, BL_OBJECTS_PREFIX, bl_strerror(err));
		return;
	}
	for (i = 0; i < n; i++) {
		const struct bl_kv *kv = &ev[i].kv;
		if (ev[i].type == BL_EV_DELETE)
			bl_informer_apply(inf, kv->key, NULL, 0, kv->mod_revision);
		else
			bl_informer_apply(inf, kv->key, kv->value, kv->value_len, kv->mod_revision);
	}
	if (revision > inf->revision)
		inf->revision = revision;
}

static int64_t on_resync(void *arg)
{
	struct bl_informer *inf = arg;
	if (relist(inf) < 0)
		return -1;
	return inf->revision;
}

int bl_informer_start(struct bl_informer *inf, struct bl_etcd *e)
{
	int rc;

	inf->etcd = e;
	rc = relist(inf);
	if (rc < 0)
		return rc;
	return bl_etcd_watch(e, BL_OBJECTS_PREFIX, true, inf->revision + 1,
			     on_watch, on_resync, inf, &inf->watch);
}
