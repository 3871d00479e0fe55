/*
 * engine_int.h - engine.c internals shared with mgmt.c (not for the layers:
 * they use the accessors in bt_engine.h).
 */
#ifndef BT_ENGINE_INT_H
#define BT_ENGINE_INT_H

#include "bt_engine.h"

/* Is s a well-formed iSCSI name (iqn. / eui. / naa.)? */
bool bt_name_valid(const char *s);

/* Read-only views for the dump (never the secrets). */
unsigned bt_target_nacls(const struct bt_target *t);
/* ACL i: initiator and CHAP user (NULL if none). false past the end. */
bool bt_target_acl(const struct bt_target *t, unsigned i,
		   const char **initiator, const char **chap_user);
/* Target-wide CHAP users (NULL if unset). */
/* Digests of the CHAP secrets held (chap_digest.h), NULL where none: the
 * i-th ACL's, and the target-wide pair's. Dumps show these, never secrets. */
const char *bt_target_acl_digest(const struct bt_target *t, unsigned i);
void bt_target_auth_digests(const struct bt_target *t, const char **chap,
			    const char **mutual);
void bt_target_auth_users(const struct bt_target *t, const char **chap_user,
			  const char **mutual_user);
u32 bt_target_nluns(const struct bt_target *t);
/* The i-th LUN's LU in LUN order (0 <= i < nluns); NULL when that LUN is
 * not attached, or past the end. */
struct bt_lu *bt_target_lu_at(const struct bt_target *t, u32 i, u64 *lun);
/* Index of the first LUN >= lun. */
u32 bt_target_lu_index(const struct bt_target *t, u64 lun);
/* The i-th recorded LUN, attached or not (see bt_engine.h). */
struct bt_lun_view {
	u64 lun;
	struct bt_lu *lu;             /* NULL: not attached                   */
	const char *path;
	const char *uid;              /* NULL: derived ("<iqn>:<lun>")        */
	u32 block_size;               /* as given; 0: the LU's default (512)  */
	bool readonly;
	u32 features;                 /* BT_FEAT_* (defaults filled in)       */
};
bool bt_target_lun_view(const struct bt_target *t, u32 i,
			struct bt_lun_view *v);

/* Why an enable failed: the LUN whose backing did not open. */
struct bt_lun_fail {
	u64 lun;
	const char *path;             /* valid until the LUN map changes      */
	int err;                      /* raw code from bt_lu_create           */
};
/*
 * bt_target_enable(), filling *why (may be NULL) when it fails to attach a
 * LUN, so the management reply can name the LUN and path.
 */
int bt_target_enable_why(struct bt_engine *e, const char *iqn, bool on,
			 struct bt_lun_fail *why);

#endif
