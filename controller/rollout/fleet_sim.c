/*
 * fleet_sim.c - `bollard fleet-sim`: rehearse a rollout against a scratch
 * etcd. Registers N Clusters sim-0001.. (one node each, "<cluster>-a", with
 * the given labels) and acts as their bollardd until SIGINT/SIGTERM:
 *   - a node heartbeat bound to one lease (gone when the simulator stops);
 *   - for every Target of a simulated cluster, the generation its cluster
 *     is admitted to (any rollout's record naming it, else the newest), as
 *     bollardd reconciles it, reported Ready at that generation (with the
 *     record's Secret generations as observedRefs, as bollardd reports)
 *     --ready-after seconds after it was first seen, except in --fail
 *     clusters, which stay not Ready.
 * One round every 200 ms: range reads of the Targets, the Rollouts' names
 * and each Rollout's admission records (not its status), and a status
 * write only for a Target whose reported state changed. Its own etcd requests are counted
 * and printed on SIGUSR1 and at exit (bench/rollout_fleet.sh).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "cli.h"
#include "rollout/cli_rollout.h"
#include "rollout/rollout.h"

static const char sim_usage[] =
"Usage: bollard fleet-sim --clusters N [--labels k=v,...] [--fail NAME,...]\n"
"                         [--ready-after SECONDS]\n"
"\n"
"Register N clusters named sim-0001... in etcd and act as their node\n"
"controllers until interrupted: heartbeats, the admitted generation of each\n"
"of their Targets reported Ready after --ready-after seconds (default 1),\n"
"never for the --fail clusters. For rehearsing a Rollout against a scratch\n"
"etcd, never against a real fleet's.\n";

/*
 * The heartbeat lease. Kept alive between rounds, so it must outlive the
 * slowest round: over 1,000 Targets on a loaded machine a round can take
 * seconds, and a 3 s lease then expired mid-rollout (every simulated node
 * "offline", 1,000 heartbeats put again).
 */
#define SIM_LEASE_TTL_S 10

struct sim_opts {
	long n;
	const char *labels, *fail;
	double ready_after;
};

static int sim_set(void *arg, const char *flag, const char *val)
{
	struct sim_opts *o = arg;
	char *end;

	if (!strcmp(flag, "clusters")) {
		o->n = strtol(val, &end, 10);
		if (*end || o->n < 1 || o->n > 9999) {
			fprintf(stderr, "Error: --clusters: 1..9999\n");
			return -1;
		}
	} else if (!strcmp(flag, "labels")) {
		o->labels = val;
	} else if (!strcmp(flag, "fail")) {
		o->fail = val;
	} else if (!strcmp(flag, "ready-after")) {
		o->ready_after = strtod(val, &end);
		if (*end || o->ready_after < 0) {
			fprintf(stderr, "Error: --ready-after: seconds >= 0\n");
			return -1;
		}
	}
	return 0;
}

/* The simulator's own etcd requests, printed on SIGUSR1 and at exit, so
 * a benchmark can tell them from the fleet controller's (etcd only counts
 * them all together). */
struct sim_ops {
	unsigned long range, put, txn, lease_grant, keepalive, revoke;
};

static volatile sig_atomic_t sim_stop, sim_report;

static void on_sig(int s)
{
	if (s == SIGUSR1)
		sim_report = 1;
	else
		sim_stop = 1;
}

static void print_ops(FILE *f, const struct sim_ops *n)
{
	fprintf(f, "fleet-sim: etcd requests: %lu total: %lu range, %lu put, %lu txn, "
		"%lu lease grant, %lu keepalive, %lu revoke\n",
		n->range + n->put + n->txn + n->lease_grant + n->keepalive + n->revoke,
		n->range, n->put, n->txn, n->lease_grant, n->keepalive, n->revoke);
	fflush(f);
}

static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !strncmp(p, name, n))
			return true;
		p = e ? e + 1 : p + l;
	}
	return false;
}

/* Create the Cluster objects that do not exist yet (canonical stored form,
 * generation 1), one txn each guarded by "absent". */
static int register_clusters(struct cli *c, struct bl_etcd *e, const struct sim_opts *o,
			     struct sim_ops *n)
{
	for (long i = 1; i <= o->n; i++) {
		char yaml[1024], name[32], *key = NULL, *body = NULL;
		int len = 0;
		struct bl_objlist l;
		struct bl_diag d = { 0 };
		struct bl_cmp cmp;
		struct bl_op op;
		bool ok;
		int rc;

		snprintf(name, sizeof(name), "sim-%04ld", i);
		len += snprintf(yaml + len, sizeof(yaml) - (size_t)len,
				"apiVersion: %s\nkind: Cluster\nmetadata:\n  name: %s\n"
				"  labels: {fleet-sim: \"true\"", BL_API_VERSION, name);
		for (const char *p = o->labels; p && *p && len < (int)sizeof(yaml) - 100;) {
			const char *comma = strchr(p, ','), *eq = strchr(p, '=');
			size_t ll = comma ? (size_t)(comma - p) : strlen(p);
			if (!eq || eq > p + ll) {
				cli_error(c, "--labels: \"%.*s\" is not k=v", (int)ll, p);
				return -EINVAL;
			}
			len += snprintf(yaml + len, sizeof(yaml) - (size_t)len, ", \"%.*s\": \"%.*s\"",
					(int)(eq - p), p, (int)(p + ll - eq - 1), eq + 1);
			p = comma ? comma + 1 : p + ll;
		}
		snprintf(yaml + len, sizeof(yaml) - (size_t)len,
			 "}\nspec:\n  ha: none\n  nodes: [{name: %s-a, address: 192.0.2.1}]\n", name);
		bl_objlist_init(&l);
		rc = bl_parse_buf("fleet-sim", yaml, strlen(yaml), &l, &d);
		if (rc < 0) {
			bl_diag_print(&d, c->err);
			bl_diag_free(&d);
			return rc;
		}
		bl_diag_free(&d);
		rc = bl_obj_init_server_fields(l.v[0]);
		key = store_key("Cluster", name);
		body = rc == 0 ? bl_obj_to_json(l.v[0]) : NULL;
		if (!key || !body) {
			rc = rc < 0 ? rc : -ENOMEM;
			goto next;
		}
		cmp = (struct bl_cmp){ .key = key, .target = BL_CMP_CREATE,
				       .result = BL_CMP_EQ, .rev = 0 };
		op = (struct bl_op){ .type = BL_OP_PUT, .key = key, .value = body,
				     .value_len = strlen(body) };
		rc = bl_etcd_txn(e, &cmp, 1, &op, 1, NULL, 0, &ok, NULL, NULL);
		n->txn++;
		if (rc < 0)
			cli_etcd_error(c, e, rc, "registering clusters");
next:
		free(key);
		free(body);
		bl_objlist_free(&l);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool sim_cluster(const char *name, long n)
{
	char *end;
	long i;
	if (strncmp(name, "sim-", 4))
		return false;
	i = strtol(name + 4, &end, 10);
	return !*end && i >= 1 && i <= n;
}

struct seen {                       /* per simulated Target             */
	char *name;
	int64_t gen;
	char *refs;                 /* observedRefs reported (JSON)       */
	double since;
	int reported;               /* 0 none, 1 not ready, 2 ready       */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int heartbeats(struct bl_etcd *e, long n, int64_t lease, struct sim_ops *ops)
{
	for (long i = 1; i <= n; i++) {
		char key[128], val[64];
		snprintf(key, sizeof(key), "%ssim-%04ld/sim-%04ld-a", BL_RO_KEY_NODES, i, i);
		snprintf(val, sizeof(val), "{\"node\":\"sim-%04ld-a\",\"sim\":true}", i);
		int rc = bl_etcd_put(e, key, val, strlen(val), lease, NULL);
		ops->put++;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Every admission record, by cluster: {"sim-0001": [record, ...]}. Read
 * per Rollout (`<ro>/admitted/`), not as the whole /bollard/v1/rollouts/
 * prefix: that would bring the rollouts' status keys along every round.
 */
static int load_records(struct bl_etcd *e, struct sim_ops *n, json_t **out)
{
	struct bl_kvs ros = { 0 };
	const size_t plen = strlen(CLI_KEY_OBJECTS "Rollout/");
	json_t *m = json_object();
	int rc;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	rc = bl_etcd_get(e, CLI_KEY_OBJECTS "Rollout/", true, 0, 0, true, &ros);
	n->range++;
	for (size_t i = 0; rc == 0 && i < ros.n; i++) {
		struct bl_kvs recs = { 0 };
		char prefix[400];
		size_t pl;

		snprintf(prefix, sizeof(prefix), "%s%s/admitted/", BL_RO_KEY_ROLLOUTS,
			 ros.kvs[i].key + plen);
		pl = strlen(prefix);
		rc = bl_etcd_get(e, prefix, true, 0, 0, false, &recs);
		n->range++;
		for (size_t r = 0; rc == 0 && r < recs.n; r++) {
			const char *cl = recs.kvs[r].key + pl;
			json_t *rec = json_loadb(recs.kvs[r].value, recs.kvs[r].value_len, 0, NULL);
			json_t *arr = json_object_get(m, cl);
			if (!rec)
				continue;
			if (!arr) {
				arr = json_array();
				json_object_set_new(m, cl, arr);
			}
			json_array_append_new(arr, rec);
		}
		bl_kvs_free(&recs);
	}
	bl_kvs_free(&ros);
	if (rc < 0) {
		json_decref(m);
		return rc;
	}
	*out = m;
	return 0;
}

static int sim_round(struct bl_etcd *e, const struct sim_opts *o,
		     struct seen **seen, size_t *nseen, struct sim_ops *n)
{
	struct bl_kvs objs = { 0 };
	json_t *recs = NULL;
	double now = now_s();
	int rc;

	rc = bl_etcd_get(e, CLI_KEY_OBJECTS "Target/", true, 0, 0, false, &objs);
	n->range++;
	if (rc == 0)
		rc = load_records(e, n, &recs);
	for (size_t i = 0; rc == 0 && i < objs.n; i++) {
		struct bl_obj *t = NULL;
		const char *cl;
		char okey[200], skey[400];
		int64_t gen;
		struct seen *s = NULL;
		json_t *refs = json_object();
		char *refs_s = NULL;

		if (bl_obj_from_json(objs.kvs[i].value, objs.kvs[i].value_len, &t, NULL) < 0)
			continue;
		cl = json_string_value(json_object_get(t->spec, "cluster"));
		if (!cl || !sim_cluster(cl, o->n)) {
			bl_obj_free(t);
			continue;
		}
		gen = t->generation;
		snprintf(okey, sizeof(okey), "Target/%s", t->name);
		json_t *rec;
		size_t r;
		json_array_foreach(json_object_get(recs, cl), r, rec) {
			json_t *g = json_object_get(json_object_get(rec, "objects"), okey);
			if (json_is_integer(g))
				gen = json_integer_value(g);
			/* the admitted Secrets, reported as bollardd does */
			const char *rk;
			json_t *rv;
			json_object_foreach(json_object_get(rec, "objects"), rk, rv)
				if (!strncmp(rk, "Secret/", 7))
					json_object_set(refs, rk, rv);
		}
		refs_s = json_dumps(refs, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(refs);
		if (!refs_s) {
			bl_obj_free(t);
			rc = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < *nseen; k++)
			if (!strcmp((*seen)[k].name, t->name))
				s = &(*seen)[k];
		if (!s) {
			struct seen *v = realloc(*seen, (*nseen + 1) * sizeof(*v));
			if (!v || !(v[*nseen].name = strdup(t->name))) {
				if (v)
					*seen = v;
				bl_obj_free(t);
				free(refs_s);
				rc = -ENOMEM;
				break;
			}
			*seen = v;
			s = &v[(*nseen)++];
			s->gen = -1;
			s->refs = NULL;
		}
		if (s->gen != gen || !s->refs || strcmp(s->refs, refs_s)) {
			s->gen = gen;
			free(s->refs);
			s->refs = refs_s;
			refs_s = NULL;
			s->since = now;
			s->reported = 0;
		}
		free(refs_s);
		int want = !in_list(o->fail, cl) && now - s->since >= o->ready_after ? 2 : 1;
		if (want != s->reported) {
			char *body = NULL;
			if (asprintf(&body, "{\"node\":\"%s-a\",\"observedGeneration\":%lld,"
				     "\"observedRefs\":%s,"
				     "\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
				     "\"reason\":\"%s\",\"message\":\"fleet-sim\"}]}", cl,
				     (long long)gen, s->refs, want == 2 ? "True" : "False",
				     want == 2 ? "Converged" : "Applying") > 0) {
				snprintf(skey, sizeof(skey), "%sTarget/%s/%s-a", BL_RO_KEY_STATUS,
					 t->name, cl);
				n->put++;
				if (bl_etcd_put(e, skey, body, strlen(body), 0, NULL) == 0)
					s->reported = want;
				free(body);
			}
		}
		bl_obj_free(t);
	}
	bl_kvs_free(&objs);
	json_decref(recs);
	return rc;
}

int cmd_fleet_sim(struct cli *c, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{ "clusters", 0, CLI_ARG, sim_set },
		{ "labels", 0, CLI_ARG, sim_set },
		{ "fail", 0, CLI_ARG, sim_set },
		{ "ready-after", 0, CLI_ARG, sim_set },
		{ 0 },
	};
	struct sim_opts o = { .ready_after = 1.0 };
	struct sigaction sa = { .sa_handler = on_sig };
	struct sim_ops ops = { 0 };
	struct bl_etcd *e = NULL;
	struct seen *seen = NULL;
	size_t nseen = 0;
	int64_t lease = 0, ttl;
	double next_ka = 0;
	int n, rc, ret = 1;

	n = cli_parse(c, argc, argv, flags, &o, sim_usage);
	if (n < 0)
		return n == -2 ? 0 : 1;
	if (n != 0 || !o.n) {
		fputs(sim_usage, c->err);
		return 1;
	}
	if (cli_connect(c, &e) < 0)
		return 1;
	if (register_clusters(c, e, &o, &ops) < 0)
		goto out;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	fprintf(c->out, "fleet-sim: %ld clusters (sim-0001..sim-%04ld), ready after %.1fs%s%s\n",
		o.n, o.n, o.ready_after, o.fail ? ", failing: " : "", o.fail ? o.fail : "");
	fflush(c->out);
	while (!sim_stop) {
		if (now_s() >= next_ka) {
			if (lease && (ops.keepalive++, bl_etcd_lease_keepalive(e, lease, &ttl) < 0 ||
				      ttl <= 0))
				lease = 0;
			if (!lease && (ops.lease_grant++, rc = bl_etcd_lease_grant(e, SIM_LEASE_TTL_S, &lease)) == 0)
				rc = heartbeats(e, o.n, lease, &ops);
			next_ka = now_s() + 1.0;
		}
		rc = sim_round(e, &o, &seen, &nseen, &ops);
		if (sim_report) {
			sim_report = 0;
			print_ops(c->out, &ops);
		}
		if (rc < 0 && rc != -ENOMEM)
			fprintf(c->err, "fleet-sim: %s (retrying)\n", bl_strerror(rc));
		usleep(200 * 1000);
	}
	ret = 0;
out:
	if (lease) {
		bl_etcd_lease_revoke(e, lease);
		ops.revoke++;
	}
	print_ops(c->out, &ops);
	for (size_t i = 0; i < nseen; i++) {
		free(seen[i].name);
		free(seen[i].refs);
	}
	free(seen);
	bl_etcd_close(e);
	return ret;
}
