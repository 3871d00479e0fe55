/*
 * plan_bench - time the target reconciler's pure plan() for one changed LUN
 * among N (default 10,000), and desired()/observe() around it.
 *
 *   build/bollard-bench-plan [N]
 *
 * Desired: one Cluster, N+1 file Volumes, one Target mapping all of them.
 * Observed: an engine dump with the first N LUNs (what a live engine would
 * report), fed through the io.run seam. The plan must contain exactly one
 * action (the new LUN); the tool fails otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconciler.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct feed {
	char *dump;
	size_t len;
	int nfiles;
};

static int fake_run(void *arg, const char *const *argv, const char *in,
		    size_t in_len, struct bl_run_out *o)
{
	struct feed *f = arg;
	(void)argv; (void)in; (void)in_len;
	o->out = strdup(f->dump);
	o->out_len = f->len;
	o->err = strdup("");
	o->err_len = 0;
	o->status = 0;
	return 0;
}

/* Every backing file exists: only engine work is planned. */
static int fake_list(void *arg, const char *dir, char ***names, size_t *n)
{
	struct feed *f = arg;
	int i;
	(void)dir;
	*names = calloc((size_t)f->nfiles + 1, sizeof(char *));
	for (i = 0; i < f->nfiles; i++)
		if (asprintf(&(*names)[i], "v%d.img", i) < 0)
			return -12;
	*n = (size_t)f->nfiles;
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000, i, rounds = 20;
	char *yaml = NULL, *dump = NULL;
	size_t ylen = 0, dlen = 0;
	FILE *y = open_memstream(&yaml, &ylen), *d = open_memstream(&dump, &dlen);
	struct bl_objlist objs;
	struct bl_diag diag = { 0 };
	const struct bl_reconciler_ops *ops = bl_reconciler_find("target");
	struct feed feed;
	struct bl_rec_ctx ctx = { 0 };
	void *want = NULL, *have = NULL;
	double t0, t_des, t_obs, t_plan = 1e9;
	size_t actions = 0;

	fprintf(y, "apiVersion: bollard.io/v1alpha1\nkind: Cluster\nmetadata: {name: c}\n"
		   "spec: {ha: none, nodes: [{name: local, address: 127.0.0.1}]}\n");
	for (i = 0; i <= n; i++)
		fprintf(y, "---\napiVersion: bollard.io/v1alpha1\nkind: Volume\n"
			   "metadata: {name: v%d}\nspec: {cluster: c, size: 1Mi, "
			   "backing: {type: file, path: /b/v%d.img}, replication: none}\n", i, i);
	fprintf(y, "---\napiVersion: bollard.io/v1alpha1\nkind: Target\nmetadata: {name: t}\n"
		   "spec:\n  cluster: c\n  iqn: iqn.2026-11.io.bollard:big\n  acls: [{initiator: \"*\"}]\n  luns:\n");
	for (i = 0; i <= n; i++)
		fprintf(y, "  - {lun: %d, volume: v%d}\n", i, i);
	fclose(y);
	fprintf(d, "{\"targets\":[{\"iqn\":\"iqn.2026-11.io.bollard:big\",\"enabled\":true,"
		   "\"attributes\":{\"maxSessionsPerInitiator\":2,\"owner\":%llu},"
		   "\"portals\":[\"127.0.0.1:3260\"],\"acls\":[{\"initiator\":\"*\"}],"
		   "\"auth\":{},\"luns\":[", 0x626f6c6c617264ULL);
	for (i = 0; i < n; i++)
		fprintf(d, "%s{\"lun\":%d,\"path\":\"/b/v%d.img\",\"uid\":\"v%d\"}",
			i ? "," : "", i, i, i);
	fprintf(d, "]}]}");
	fclose(d);

	bl_objlist_init(&objs);
	if (bl_parse_buf("bench.yaml", yaml, ylen, &objs, &diag) < 0) {
		bl_diag_print(&diag, stderr);
		return 1;
	}
	feed.dump = dump;
	feed.len = dlen;
	feed.nfiles = n + 1;
	ctx.node = "local";
	bl_rec_io_real(&ctx.io);
	ctx.io.run = fake_run;
	ctx.io.list_dir = fake_list;
	ctx.io.arg = &feed;

	t0 = now_s();
	if (ops->desired(&ctx, &objs, &want) < 0)
		return 1;
	t_des = now_s() - t0;
	t0 = now_s();
	if (ops->observe(&ctx, want, &have) < 0) {
		fprintf(stderr, "observe: %s\n", ctx.err);
		return 1;
	}
	t_obs = now_s() - t0;
	for (i = 0; i < rounds; i++) {
		struct bl_plan plan;
		double t;
		bl_plan_init(&plan, "target", "local");
		t0 = now_s();
		if (ops->plan(&ctx, want, have, &plan) < 0 || bl_plan_sort(&plan) < 0)
			return 1;
		t = now_s() - t0;
		if (t < t_plan)
			t_plan = t;
		actions = bl_plan_changes(&plan);
		bl_plan_free(&plan);
	}
	ops->free_model(want);
	ops->free_model(have);
	bl_objlist_free(&objs);
	printf("plan: %d LUNs live, 1 added: %zu action(s); plan() %.3f ms (best of %d), "
	       "desired() %.1f ms, observe() (dump parse) %.1f ms\n",
	       n, actions, t_plan * 1e3, rounds, t_des * 1e3, t_obs * 1e3);
	printf("plan: goal < 5 ms for one changed LUN among 10,000: %s\n",
	       t_plan * 1e3 < 5 ? "met" : "NOT met");
	free(yaml);
	free(dump);
	return actions == 1 ? 0 : 1;
}
