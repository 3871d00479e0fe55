/*
 * informer.h - the controller's cache of desired objects, fed by etcd.
 *
 * An informer lists /bollard/v1/objects/ once, then watches from the list's
 * revision + 1. Every put or delete updates the cache and calls on_change
 * with the object's key; the controller's on_change only enqueues the key
 * (workqueue.h). Reconcilers read objects from the cache, never from etcd,
 * and never modify them (they are shared; copy with bl_obj_dup to change).
 *
 * After a compaction the etcd client calls the resync hook: the informer
 * re-lists, replaces the cache, and reports every key that changed or
 * vanished meanwhile, so no change is lost even across a long outage.
 *
 * Values that fail to parse are logged through on_error and dropped from the
 * cache (as if deleted): a corrupt object must not crash or wedge the loop.
 *
 * Compact kinds (bl_informer_set_compact). A parsed object is a jansson
 * tree of a few kilobytes; 10,000 Volumes parsed cost ~25 MB, stored as
 * their canonical JSON text ~3 MB. For the kinds named compact, the cache
 * keeps only the validated text (plus the spec.cluster name, which event
 * mapping needs for every change) and parses an object when it is asked
 * for. The parse stays cached, so pointers handed out stay valid, until
 * bl_informer_trim(): the owner calls it at a point where it holds no
 * borrowed object (bollardd: when its work queue has drained). Kinds not
 * named compact stay parsed, as before.
 */
#ifndef BL_INFORMER_H
#define BL_INFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "bl_schema.h"

#define BL_OBJECTS_PREFIX "/bollard/v1/objects/"

struct bl_etcd;
struct bl_informer;

struct bl_informer_ops {
	/* key changed (created, updated or deleted). */
	void (*on_change)(void *arg, const char *key, const char *kind,
			  const char *name);
	/* optional: a value could not be parsed. */
	void (*on_error)(void *arg, const char *key, const char *msg);
};

struct bl_informer *bl_informer_new(const struct bl_informer_ops *ops, void *arg);
void bl_informer_free(struct bl_informer *inf);

/*
 * List everything under BL_OBJECTS_PREFIX and start the watch. Returns 0 or
 * a bl_etcd error. Events arrive through bl_etcd_dispatch() on e.
 */
int bl_informer_start(struct bl_informer *inf, struct bl_etcd *e);

/*
 * Feed one change (what the watch does; exposed for tests). value NULL means
 * deleted. mod_rev is the etcd mod revision (the object's resourceVersion).
 */
void bl_informer_apply(struct bl_informer *inf, const char *key,
		       const char *value, size_t len, int64_t mod_rev);

/*
 * Store these kinds as text only (see the top). kinds is NULL-ended and
 * must outlive the informer; call before bl_informer_start. Returns 0.
 */
int bl_informer_set_compact(struct bl_informer *inf, const char *const *kinds);

/*
 * Borrowed; valid until the object changes (bl_informer_apply / dispatch)
 * or bl_informer_trim. A compact object is parsed here (the cache is
 * logically const: parsing only fills it); NULL when absent, or when the
 * stored text no longer parses (cannot happen: it was validated on entry)
 * or memory ran out.
 */
const struct bl_obj *bl_informer_get(const struct bl_informer *inf,
				     const char *kind, const char *name);
/*
 * A new copy of one object, parsed from the stored text for a compact kind
 * and NOT kept in the cache (so it costs nothing after the caller's
 * bl_obj_free): for a caller that reads objects one at a time and would
 * otherwise hold thousands of parses at once (the target reconciler's
 * Volumes). NULL when absent or out of memory.
 */
struct bl_obj *bl_informer_load(const struct bl_informer *inf, const char *kind,
			       const char *name);
/*
 * spec.cluster of a cached object without parsing it (Targets, Volumes),
 * the name for a Cluster; NULL otherwise or when absent. Borrowed, same
 * validity as bl_informer_get.
 */
const char *bl_informer_cluster(const struct bl_informer *inf,
				const char *kind, const char *name);
/*
 * Drop the parsed copies of compact objects. Every pointer obtained from
 * bl_informer_get / foreach for a compact kind becomes invalid. Returns
 * how many were dropped.
 */
size_t bl_informer_trim(struct bl_informer *inf);
/* Bytes held by the cache's stored texts and parsed-object count (for
 * benchmarks and logs). */
void bl_informer_usage(const struct bl_informer *inf, size_t *text_bytes,
		       size_t *parsed);
/* Call cb for every cached object of kind (NULL: all), in key order.
 * Compact objects are parsed (and cached until bl_informer_trim). */
void bl_informer_foreach(const struct bl_informer *inf, const char *kind,
			 void (*cb)(void *arg, const struct bl_obj *obj),
			 void *arg);
/*
 * The same without filling the cache: for compact objects a parse that
 * lives for the callback only (the cached one if there is one). For scans
 * that read each object once: a 10,000-LUN Target parsed and kept until
 * the next trim is ~4.5 MB (bollardd's refscan).
 */
void bl_informer_foreach_copy(const struct bl_informer *inf, const char *kind,
			      void (*cb)(void *arg, const struct bl_obj *obj),
			      void *arg);
/* Names only, nothing parsed: cb gets each cached object's name of kind. */
void bl_informer_foreach_name(const struct bl_informer *inf, const char *kind,
			      void (*cb)(void *arg, const char *name), void *arg);
size_t bl_informer_count(const struct bl_informer *inf);
/* Highest revision seen (list or watch). */
int64_t bl_informer_revision(const struct bl_informer *inf);

/* "/bollard/v1/objects/<Kind>/<name>" into buf; returns buf. */
char *bl_object_key(char *buf, size_t len, const char *kind, const char *name);

#endif
