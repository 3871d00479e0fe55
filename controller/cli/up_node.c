/*
 * up_node.c - the single node `bollard up` runs besides etcd: the userspace
 * engine bollard-target and the controller bollardd (node "local", the
 * node of examples/quickstart), and the report of what is served.
 *
 * The binaries are taken from the directory of this bollard binary (a
 * build tree or an install prefix), else from $PATH. Each gets a free port
 * or a socket in the state dir and a log file there.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "bt_mgmt_client.h"
#include "cli.h"
#include "supervisor.h"
#include "up_node.h"

/* <dir of /proc/self/exe>/name if executable, else name (PATH). New string. */
static char *sibling(const char *name)
{
	char exe[PATH_MAX], *out = NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = 0;
		if (asprintf(&out, "%s/%s", dirname(exe), name) < 0)
			return NULL;
		if (access(out, X_OK) == 0)
			return out;
		free(out);
	}
	return strdup(name);
}

int up_start_node(struct cli *c, struct sup *sup, const struct up_node *n)
{
	char *tbin = sibling("bollard-target"), *dbin = sibling("bollardd");
	char listen[64], tlog[PATH_MAX], dlog[PATH_MAX], resync[16];
	int rc = -ENOMEM;

	if (!tbin || !dbin)
		goto out;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", n->port);
	snprintf(tlog, sizeof(tlog), "%s/bollard-target.log", n->state_dir);
	snprintf(dlog, sizeof(dlog), "%s/bollardd.log", n->state_dir);
	snprintf(resync, sizeof(resync), "%d", n->resync_s);
	unlink(n->socket);
	{
		char *const targv[] = { tbin, "--listen", listen, "--socket",
					(char *)n->socket, NULL };
		rc = sup_spawn(sup, "bollard-target", targv, tlog);
		if (rc < 0) {
			cli_error(c, "cannot start %s: %s", tbin, strerror(-rc));
			goto out;
		}
	}
	/* bollardd talks to the engine's socket: wait for it (bounded). */
	for (int i = 0; i < 100; i++) {
		struct stat st;
		if (stat(n->socket, &st) == 0)
			break;
		usleep(50 * 1000);
	}
	{
		char *const dargv[] = { dbin, "--etcd", (char *)n->etcd, "--node",
					(char *)n->node, "--state-dir",
					(char *)n->state_dir, "--target-socket",
					(char *)n->socket, "--resync", resync, NULL };
		rc = sup_spawn(sup, "bollardd", dargv, dlog);
		if (rc < 0)
			cli_error(c, "cannot start %s: %s", dbin, strerror(-rc));
	}
out:
	free(tbin);
	free(dbin);
	return rc;
}

/* Targets of clusters this node belongs to, from etcd. */
static bool node_in_cluster(const struct store_snap *s, const char *cluster,
			    const char *node)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct bl_obj *o = s->v[i];
		json_t *nd;
		size_t j;

		if (strcmp(o->kind, "Cluster") || strcmp(o->name, cluster))
			continue;
		json_array_foreach(json_object_get(o->spec, "nodes"), j, nd) {
			const char *nm = json_string_value(json_object_get(nd, "name"));
			if (nm && !strcmp(nm, node))
				return true;
		}
	}
	return false;
}

/*
 * Whether every wanted target is live: enabled, with as many LUNs as its
 * spec maps. *want gets the number of wanted targets.
 */
static bool all_served(const struct store_snap *s, const struct btc_state *st,
		       const char *node, size_t *want)
{
	bool ok = true;

	*want = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct bl_obj *o = s->v[i];
		const char *cl, *iqn;
		const struct btc_target *t;

		if (strcmp(o->kind, "Target"))
			continue;
		cl = json_string_value(json_object_get(o->spec, "cluster"));
		iqn = json_string_value(json_object_get(o->spec, "iqn"));
		if (!cl || !iqn || !node_in_cluster(s, cl, node))
			continue;
		(*want)++;
		t = btc_state_target(st, iqn);
		if (!t || !t->enabled ||
		    t->nluns != json_array_size(json_object_get(o->spec, "luns")))
			ok = false;
	}
	return ok;
}

int up_report_served(struct cli *c, const struct up_node *n, int timeout_ms,
		     const sigset_t *stop_signals)
{
	struct bl_etcd *e = NULL;
	struct store_snap snap = { 0 };
	struct btc_state st = { 0 };
	struct btc *bc = NULL;
	struct cli ec = *c;
	struct timespec ts = { 0, 200 * 1000000L };
	size_t want = 0;
	int waited = 0, rc = 1;

	ec.etcd = n->etcd;
	if (cli_connect(&ec, &e) < 0)
		return 1;
	if (store_load(&ec, e, NULL, &snap, NULL) < 0)
		goto out;
	for (;;) {
		btc_state_free(&st);
		memset(&st, 0, sizeof(st));
		if (!bc && btc_connect_unix(n->socket, &bc) < 0)
			bc = NULL;
		if (bc && btc_dump(bc, NULL, &st) < 0) {
			btc_free(bc);
			bc = NULL;
		}
		if (bc && all_served(&snap, &st, n->node, &want))
			break;
		if (waited >= timeout_ms) {
			fprintf(c->out, "warning: not everything is served after %d s; "
				"see %s/bollardd.log and `bollard plan --node %s "
				"--target-socket %s --state-dir %s`\n", timeout_ms / 1000,
				n->state_dir, n->node, n->socket, n->state_dir);
			break;
		}
		if (sigtimedwait(stop_signals, NULL, &ts) > 0) {
			rc = 2;     /* asked to stop */
			goto out;
		}
		waited += 200;
	}
	for (size_t i = 0; i < st.ntargets; i++) {
		const struct btc_target *t = &st.targets[i];
		if (!t->enabled)
			continue;
		for (size_t j = 0; j < t->nluns; j++)
			fprintf(c->out, "iscsi: iscsi://127.0.0.1:%d/%s/%llu\n", n->port,
				t->iqn, (unsigned long long)t->luns[j].lun);
	}
	fflush(c->out);
	rc = 0;
out:
	btc_state_free(&st);
	btc_free(bc);
	store_snap_free(&snap);
	bl_etcd_close(e);
	return rc;
}
