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

/* Borrowed; valid until the next bl_informer_apply / dispatch. */
const struct bl_obj *bl_informer_get(const struct bl_informer *inf,
				     const char *kind, const char *name);
/* Call cb for every cached object of kind (NULL: all), in key order. */
void bl_informer_foreach(const struct bl_informer *inf, const char *kind,
			 void (*cb)(void *arg, const struct bl_obj *obj),
			 void *arg);
size_t bl_informer_count(const struct bl_informer *inf);
/* Highest revision seen (list or watch). */
int64_t bl_informer_revision(const struct bl_informer *inf);

/* "/bollard/v1/objects/<Kind>/<name>" into buf; returns buf. */
char *bl_object_key(char *buf, size_t len, const char *kind, const char *name);

#endif
