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
void bt_target_auth_users(const struct bt_target *t, const char **chap_user,
			  const char **mutual_user);
u32 bt_target_nluns(const struct bt_target *t);
/* The i-th LU in LUN order (0 <= i < nluns), or NULL. */
struct bt_lu *bt_target_lu_at(const struct bt_target *t, u32 i, u64 *lun);
/* Index of the first LUN >= lun. */
u32 bt_target_lu_index(const struct bt_target *t, u64 lun);
/* LU config as given at lun add (readonly, features). */
bool bt_target_lu_cfg(const struct bt_target *t, u32 i, bool *readonly,
		      u32 *features);

#endif
