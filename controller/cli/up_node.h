/* up_node.h - the engine and controller that `bollard up` runs. */
#ifndef BOLLARD_UP_NODE_H
#define BOLLARD_UP_NODE_H

#include <signal.h>

struct cli;
struct sup;

struct up_node {
	const char *etcd;           /* URL of the embedded etcd               */
	const char *node;           /* "local"                                */
	const char *state_dir;
	const char *socket;         /* <state>/target.sock                    */
	int port;                   /* iSCSI portal on 127.0.0.1              */
	int resync_s;
};

/* Start bollard-target, then bollardd, as supervised children. 0 or -errno
 * (printed). */
int up_start_node(struct cli *c, struct sup *sup, const struct up_node *n);

/*
 * Wait (at most timeout_ms) until every Target of this node's clusters is
 * enabled in the engine with all its LUNs, then print one line per served
 * LUN: "iscsi: iscsi://127.0.0.1:PORT/IQN/LUN". Returns 0, 1 on error,
 * 2 when one of stop_signals arrived while waiting.
 */
int up_report_served(struct cli *c, const struct up_node *n, int timeout_ms,
		     const sigset_t *stop_signals);

#endif
