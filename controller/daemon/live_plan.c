/*
 * live_plan.c - `bollard plan`: what the controller would change on this
 * node right now, without changing anything.
 *
 * It does what one bollardd reconcile does up to the plan: read every
 * object from etcd, observe the live engine / DRBD / CIB through the same
 * seams, and run each reconciler's pure plan(). Output is the plans' text
 * (or JSON, -o json: hidden payloads such as CHAP secrets are never
 * printed). Exit status like `bollard diff`: 0 nothing to change, 1 changes
 * pending, 2 an error (a reconciler that could not observe is reported and
 * the others still run).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "cli/cli.h"
#include "daemon/informer.h"
#include "daemon/target_exec.h"
#include "daemon/volume_status.h"
#include "reconciler.h"

struct plan_opts {
	const char *node, *state_dir, *socket, *drbd_dir, *output, *only;
};

static int plan_set(void *arg, const char *flag, const char *val)
{
	struct plan_opts *o = arg;

	if (!strcmp(flag, "node")) o->node = val;
	else if (!strcmp(flag, "state-dir")) o->state_dir = val;
	else if (!strcmp(flag, "target-socket")) o->socket = val;
	else if (!strcmp(flag, "drbd-dir")) o->drbd_dir = val;
	else if (!strcmp(flag, "output")) o->output = val;
	else if (!strcmp(flag, "only")) o->only = val;
	return 0;
}

static const char plan_usage[] =
"Usage: bollard plan [--node NAME] [-o text|json] [--only target|drbd|pacemaker]\n"
"                    [--target-socket PATH] [--state-dir DIR] [--drbd-dir DIR]\n"
"\n"
"Show what the controller would change on this node now: the desired state\n"
"from etcd against the live engine, DRBD and Pacemaker, as staged actions.\n"
"Nothing is changed. Exit status: 0 nothing to change, 1 changes pending,\n"
"2 error. --node defaults to $BOLLARD_NODE, then the host name; the other\n"
"defaults are bollardd's.\n";

static int load_objects(struct bl_etcd *e, struct bl_objlist *l, FILE *err)
{
	struct bl_kvs kvs = { 0 };
	size_t i;
	int rc = bl_etcd_get(e, BL_OBJECTS_PREFIX, true, 0, 0, false, &kvs);

	if (rc < 0)
		return rc;
	for (i = 0; i < kvs.n; i++) {
		struct bl_obj *o = NULL;
		if (bl_obj_from_json(kvs.kvs[i].value, kvs.kvs[i].value_len, &o, NULL) < 0) {
			fprintf(err, "warning: %s: unreadable object, ignored\n", kvs.kvs[i].key);
			continue;
		}
		o->resource_version = kvs.kvs[i].mod_revision;
		if (bl_objlist_push(l, o) < 0) {
			bl_obj_free(o);
			rc = -ENOMEM;
			break;
		}
	}
	bl_kvs_free(&kvs);
	return rc < 0 ? rc : 0;
}

int cmd_live_plan(struct cli *c, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{ "node", 0, CLI_ARG, plan_set },
		{ "state-dir", 0, CLI_ARG, plan_set },
		{ "target-socket", 0, CLI_ARG, plan_set },
		{ "drbd-dir", 0, CLI_ARG, plan_set },
		{ "output", 'o', CLI_ARG, plan_set },
		{ "only", 0, CLI_ARG, plan_set },
		{ 0 },
	};
	struct plan_opts o = { .state_dir = "/var/lib/bollard" };
	struct bl_target_runner runner = { 0 };
	struct bl_objlist objs;
	struct bl_etcd *e = NULL;
	json_t *all = NULL;
	char host[256];
	size_t changes = 0;
	int n, i, rc, failed = 0;

	n = cli_parse(c, argc, argv, flags, &o, plan_usage);
	if (n < 0)
		return n == -2 ? 0 : 2;
	if (!o.node)
		o.node = getenv("BOLLARD_NODE");
	if (!o.node) {
		if (gethostname(host, sizeof(host)) < 0)
			return 2;
		host[sizeof(host) - 1] = '\0';
		o.node = host;
	}
	if (o.output && strcmp(o.output, "json") && strcmp(o.output, "text")) {
		cli_error(c, "unknown output format \"%s\" (text or json)", o.output);
		return 2;
	}
	rc = cli_connect(c, &e);
	if (rc < 0)
		return 2;
	bl_objlist_init(&objs);
	rc = load_objects(e, &objs, c->err);
	if (rc < 0) {
		cli_etcd_error(c, e, rc, "reading objects");
		bl_etcd_close(e);
		return 2;
	}
	runner.socket = o.socket;
	if (o.output && !strcmp(o.output, "json"))
		all = json_array();
	for (i = 0; bl_reconcilers[i]; i++) {
		const struct bl_reconciler_ops *ops = bl_reconcilers[i];
		struct bl_rec_ctx ctx = { 0 };
		struct bl_plan plan;

		if (o.only && strcmp(o.only, ops->name))
			continue;
		ctx.node = o.node;
		ctx.state_dir = o.state_dir;
		ctx.drbd_dir = o.drbd_dir;
		bl_rec_io_real(&ctx.io);
		ctx.io.run = bl_target_run;
		ctx.io.arg = &runner;
		/* what the controller reads too: the Pacemaker gate on
		 * every node's DRBD readiness */
		ctx.peer_status = bl_status_read;
		ctx.peer_status_arg = e;
		rc = bl_reconcile_plan(ops, &ctx, &objs, &plan);
		if (rc < 0) {
			cli_error(c, "%s: %s%s%s", ops->name, bl_strerror(rc),
				  ctx.err[0] ? ": " : "", ctx.err);
			failed = 1;
		} else {
			changes += bl_plan_changes(&plan);
			if (all)
				json_array_append_new(all, bl_plan_to_json(&plan));
			else
				bl_plan_print(&plan, c->out);
		}
		bl_plan_free(&plan);
	}
	if (all) {
		json_dumpf(all, c->out, JSON_INDENT(2));
		fputc('\n', c->out);
		json_decref(all);
	}
	bl_target_runner_close(&runner);
	bl_objlist_free(&objs);
	bl_etcd_close(e);
	return failed ? 2 : changes ? 1 : 0;
}
