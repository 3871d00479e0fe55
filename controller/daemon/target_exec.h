/*
 * target_exec.h - execute the target reconciler's `bollard target ...`
 * command lines in-process, over one management connection (unix socket to
 * bollard-target, or generic netlink to the module).
 *
 * The vocabulary is exactly what reconcilers/target.c emits:
 *   create IQN | delete IQN [--force] | enable IQN | disable IQN
 *   set IQN ATTR=VALUE...          owner, maxSessionsPerInitiator
 *   portal add|del IQN ADDR
 *   lun add IQN LUN PATH [--uid U] [--features caw,xcopy,unmap,writesame|none]
 *   lun del IQN LUN [--force]
 *   acl add IQN INITIATOR [--chap-user U --chap-secret-env VAR]
 *   acl del IQN INITIATOR
 *   auth set IQN [--chap-user U --chap-secret-env VAR]
 *                [--mutual-user U --mutual-secret-env VAR]
 *   show [IQN] -o json [--from-lun N] [--max-luns M]
 * Secrets named by --*-secret-env come from the payload ("VAR=value" lines),
 * never from the process environment or argv.
 *
 * Applied credentials (track_auth). The engine never reveals a secret, so
 * a Secret whose password changed under the same user name cannot be seen
 * by observing the engine. The target reconciler sends a digest of each
 * ACL's / target's credentials in the payload (BOLLARD_CHAP_DIGEST=,
 * BOLLARD_AUTH_DIGEST=; never the secret itself in it). With track_auth a
 * runner remembers, per (IQN, initiator) and per IQN for target-wide auth,
 * the digest of what it applied successfully, forgets it when the ACL, the
 * auth or the target goes (or is created afresh), and `show -o json` adds
 *   "appliedAuth": { IQN: { "acls": { INITIATOR: DIGEST }, "auth": DIGEST } }
 * for what it remembers (an empty object when it remembers nothing). The
 * reconciler re-applies what differs, and what a fresh runner (a restarted
 * bollardd) does not remember: once after a restart. The memory is the
 * process's only: nothing is written anywhere. Changes made by hand with
 * `bollard target` under the same user name are not seen.
 */
#ifndef BL_TARGET_EXEC_H
#define BL_TARGET_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec.h"

struct btc;
struct bl_auth_rec;

struct bl_target_runner {
	const char *socket;         /* NULL: default transport                */
	struct btc *conn;           /* connected lazily, reset on errors      */
	uint64_t ops;               /* engine operations performed (not show) */
	uint64_t failed;            /* of which failed                        */
	bool track_auth;            /* remember applied credential digests    */
	struct bl_auth_rec *auth;   /* private: sorted by key                 */
	size_t nauth, capauth;
};

/*
 * bl_run_fn: argv starting with "bollard" "target" runs in-process on
 * r->conn (reconnecting when needed); anything else goes to bl_spawn_run.
 * An engine error is a run with status 1 and the engine's message on err.
 */
int bl_target_run(void *r, const char *const *argv, const char *in,
		  size_t in_len, struct bl_run_out *o);

/* Drop the connection and the remembered digests. */
void bl_target_runner_close(struct bl_target_runner *r);

#endif
