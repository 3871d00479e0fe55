/*
 * test_plan_names.c - names two reconcilers must agree on.
 *
 * The DRBD reconciler renders the fence-peer handlers with --master-id, the
 * id of the promotable clone they constrain; the Pacemaker reconciler puts
 * that clone in the CIB. If the two ever differed, the handler would ban
 * promotion of a clone that does not exist, and the one Pacemaker runs
 * would be promoted onto a stale disk. Both reconcilers plan the same
 * objects here, through their ops, and the ids are read from their plans.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bl_err.h"
#include "reconciler.h"

/* A replicated Volume (its name with a dash, as names often have) used by
 * a Target of a Pacemaker Cluster. */
static const char yaml[] =
	"apiVersion: bollard.io/v1alpha1\nkind: Cluster\nmetadata: {name: lab}\n"
	"spec:\n  ha: pacemaker\n  quorum: none\n  nodes:\n"
	"    - {name: nodea, address: 192.0.2.1, replicationAddress: 10.0.0.1}\n"
	"    - {name: nodeb, address: 192.0.2.2, replicationAddress: 10.0.0.2}\n"
	"---\napiVersion: bollard.io/v1alpha1\nkind: Volume\nmetadata: {name: pg-main}\n"
	"spec:\n  cluster: lab\n  size: 64Mi\n  backing: {type: lvm, vg: vg0}\n"
	"  replication: {protocol: C, port: 7789, minor: 100}\n"
	"---\napiVersion: bollard.io/v1alpha1\nkind: Target\nmetadata: {name: t1}\n"
	"spec:\n  cluster: lab\n  iqn: iqn.2026-11.io.bollard:t1\n"
	"  serviceAddresses: [\"192.0.2.10/24\"]\n  port: 3260\n"
	"  luns:\n    - {lun: 0, volume: pg-main}\n";

/* Live state: nothing configured yet, the LV there, an empty CIB; no
 * agent meta-data (its checks are skipped). */
static int fake_run(void *arg, const char *const *argv, const char *in,
		    size_t in_len, struct bl_run_out *o)
{
	const char *out = "";

	(void)arg;
	memset(o, 0, sizeof(*o));
	if (!strcmp(argv[0], "drbdsetup") && argv[1] && !strcmp(argv[1], "status"))
		out = "[]";
	else if (!strcmp(argv[0], "lvs"))
		out = "  vg0|bollard-pg-main|67108864\n";
	else if (!strcmp(argv[0], "drbdmeta")) {
		out = "No valid meta data found\n";
		o->status = 1;
	} else if (!strcmp(argv[0], "cibadmin"))
		out = "<cib validate-with=\"pacemaker-3.9\"><configuration>"
		      "<crm_config/><nodes/><resources/><constraints/>"
		      "</configuration><status/></cib>";
	else if (strcmp(argv[0], "drbdsetup"))
		o->status = 1;
	o->out = strdup(out);
	o->out_len = strlen(out);
	o->err = strdup("");
	return 0;
}

static int fake_read(void *arg, const char *path, char **buf, size_t *len)
{
	(void)arg; (void)path; (void)buf; (void)len;
	return -ENOENT;
}

static int fake_list(void *arg, const char *dir, char ***names, size_t *n)
{
	(void)arg; (void)dir;
	*names = calloc(1, sizeof(char *));
	*n = 0;
	return 0;
}

static void plan_of(const struct bl_reconciler_ops *ops, struct bl_plan *p)
{
	struct bl_objlist objs;
	struct bl_diag d = {0};
	struct bl_rec_ctx ctx = { .node = "nodea" };

	ctx.io = (struct bl_rec_io){ fake_run, fake_read, fake_list, NULL };
	bl_objlist_init(&objs);
	assert_int_equal(bl_parse_buf("t.yaml", yaml, strlen(yaml), &objs, &d), 0);
	assert_int_equal(bl_reconcile_plan(ops, &ctx, &objs, p), 0);
	bl_objlist_free(&objs);
	bl_diag_free(&d);
}

/* Every --master-id=<id> in text: the same id each time; a copy of it. */
static char *master_id(const char *text)
{
	const char *k = "--master-id=", *s;
	char *id = NULL;

	for (s = strstr(text, k); s; s = strstr(s, k)) {
		size_t n;

		s += strlen(k);
		n = strcspn(s, "\" \n");
		if (!id)
			id = strndup(s, n);
		else
			assert_true(strlen(id) == n && !strncmp(id, s, n));
	}
	return id;
}

static void test_fence_peer_names_the_cib_clone(void **state)
{
	struct bl_plan dp, pp;
	char *conf = NULL, *mid, open_tag[300];
	const char *clone = NULL, *xml = NULL;

	(void)state;
	/* DRBD: the resource's config file as it will be written. */
	plan_of(&bl_drbd_reconciler, &dp);
	for (size_t i = 0; i < dp.n; i++)
		if (dp.v[i].op == BL_OP_WRITE && dp.v[i].payload &&
		    strstr(dp.v[i].payload, "fence-peer"))
			conf = dp.v[i].payload;
	assert_non_null(conf);
	mid = master_id(conf);
	assert_non_null(mid);

	/* Pacemaker: the clone it creates in the CIB for that Volume, alone
	 * (cib-clone) or in one CIB update with the Target's group and
	 * constraints (cib/configuration, pacemaker_plan.c find_together). */
	plan_of(&bl_pacemaker_reconciler, &pp);
	for (size_t i = 0; i < pp.n; i++) {
		const char *p, *q;

		/* (not the validation: its payload is the whole would-be
		 * CIB) */
		if (pp.v[i].remove || !pp.v[i].payload ||
		    !strcmp(pp.v[i].verb, "validate") ||
		    (strcmp(pp.v[i].kind, "cib-clone") &&
		     strcmp(pp.v[i].kind, "cib")))
			continue;
		for (p = strstr(pp.v[i].payload, "<clone id=\""); p;
		     p = strstr(q, "<clone id=\"")) {
			p += strlen("<clone id=\"");
			q = strchr(p, '"');
			assert_non_null(q);
			assert_null(clone);     /* one replicated Volume, one clone */
			clone = strndup(p, (size_t)(q - p));
			xml = pp.v[i].payload;
		}
	}
	assert_non_null(clone);
	assert_non_null(xml);
	snprintf(open_tag, sizeof(open_tag), "<clone id=\"%s\" description=\"bollard-managed: Volume/pg-main\"", clone);
	assert_non_null(strstr(xml, open_tag));

	assert_string_equal(mid, clone);
	free(mid);
	free((char *)clone);
	bl_plan_free(&dp);
	bl_plan_free(&pp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fence_peer_names_the_cib_clone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
