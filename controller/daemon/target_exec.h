/*
 * target_exec.h - execute the target reconciler's `bollard target ...`
 * command lines in-process, over one management connection (unix socket to
 * bollard-target, or generic netlink to the module).
 *
 * The vocabulary is exactly what reconcilers/target.c emits:
 *   create IQN | delete IQN [--force] | enable IQN | disable IQN
 *   set IQN ATTR=VALUE...          any target attribute (btc_attr_parse)
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
 * CHAP secrets are compared through the digests the engine's dump carries
 * (kernel/core/chap_digest.h, reconcilers/target.c): the runner keeps no
 * memory of what it applied.
 */
#ifndef BL_TARGET_EXEC_H
#define BL_TARGET_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec.h"

struct btc;

struct bl_target_runner {
	const char *socket;         /* NULL: default transport                */
	struct btc *conn;           /* connected lazily, reset on errors      */
	uint64_t ops;               /* engine operations performed (not show) */
	uint64_t failed;            /* of which failed                        */
};

/*
 * bl_run_fn: argv starting with "bollard" "target" runs in-process on
 * r->conn (reconnecting when needed); anything else goes to bl_spawn_run.
 * An engine error is a run with status 1 and the engine's message on err.
 */
int bl_target_run(void *r, const char *const *argv, const char *in,
		  size_t in_len, struct bl_run_out *o);

/* Drop the connection. */
void bl_target_runner_close(struct bl_target_runner *r);

#endif
