/*
 * drbd_int.h - the DRBD reconciler's model, shared by drbd.c (desired,
 * observe, plan) and drbd_conf.c (parse/render DRBD's config syntax).
 *
 * As in drbd-utils' `drbdadm adjust`, the desired configuration and the
 * live state (`drbdsetup show`) are parsed into the same struct drbd_res,
 * so "does the kernel match?" is one struct comparison (drbd_res_equal).
 * Defaults count as absent: a protocol not printed by `drbdsetup show` is
 * C, DRBD's default.
 */
#ifndef BL_DRBD_INT_H
#define BL_DRBD_INT_H

#include <stdbool.h>
#include <stddef.h>

#define DRBD_RES_PREFIX   "bollard-"
#define DRBD_DEFAULT_DIR  "/etc/drbd.d"
#define DRBD_HEADER_TAG   "# bollard:"

struct drbd_peer {
	char *name;          /* host name (on <name> / net _name)          */
	int node_id;         /* -1: unknown                                */
	char *addr;          /* "ipv4 10.0.0.2:7789"; NULL unknown          */
};

/* What bollard records about a resource in the .res header comment, so a
 * deleted Volume's policy and backing are still known when it is gone. */
struct drbd_owner {
	char *volume;        /* Volume name                                */
	char *policy;        /* "Retain" | "Delete"                         */
	char *backing;       /* "lvm" | "file" | "device"                   */
	char *vg, *lv;       /* lvm only                                   */
};

struct drbd_res {
	char *name;          /* "bollard-<volume>"                         */
	char protocol;       /* 'A' 'B' 'C'                                */
	int minor;           /* -1: none                                   */
	char *disk;
	char *meta_disk;     /* "internal"                                 */
	int node_id;         /* this host's, -1: unknown                    */
	char *addr;          /* this host's address, NULL: unknown          */
	struct drbd_peer *peers;
	size_t npeers;
	struct drbd_owner own;
};

void drbd_res_free(struct drbd_res *r);
/* Same configuration (owner header ignored). Peers are compared by name,
 * in any order. */
bool drbd_res_equal(const struct drbd_res *a, const struct drbd_res *b);
/* One line naming the first difference (for action descriptions). */
void drbd_res_diff(const struct drbd_res *want, const struct drbd_res *have,
		   char *buf, size_t len);

/*
 * Render r as a .res file for host `self` (its "on" block comes from
 * r->node_id/addr, peers from r->peers; hosts sorted by node-id), with
 * the owner header. Returns a new string or NULL (ENOMEM).
 */
char *drbd_render(const struct drbd_res *r, const char *self);

/*
 * Parse DRBD config text (a .res file) for host self. Fills *out with each
 * resource found (new array). Returns 0, BL_E_PARSE (message in err).
 */
int drbd_parse_conf(const char *text, const char *self,
		    struct drbd_res **out, size_t *n, char *err, size_t errlen);
/* Parse `drbdsetup show` output (any number of resources). */
int drbd_parse_show(const char *text, struct drbd_res **out, size_t *n,
		    char *err, size_t errlen);
void drbd_res_array_free(struct drbd_res *v, size_t n);

#endif
