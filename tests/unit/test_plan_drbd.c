/*
 * test_plan_drbd.c - DRBD config parsing/rendering (drbd_conf.c) and the
 * reconciler driven through its ops with an injected, in-memory observer.
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
#include "drbd_int.h"
#include "reconciler.h"

/* `drbdsetup show` of bollard-db (DRBD 9), cut where a fencing policy
 * goes (the connection's net), and one more resource. */
#define SHOW_DB_HEAD \
	"resource \"bollard-db\" {\n" \
	"    options {\n    }\n" \
	"    _this_host {\n" \
	"        node-id\t\t\t0;\n" \
	"        volume 0 {\n" \
	"            device\t\t\tminor 100;\n" \
	"            disk\t\t\t\"/dev/vg0/bollard-db\";\n" \
	"            meta-disk\t\t\tinternal;\n" \
	"            disk {\n            }\n" \
	"        }\n" \
	"    }\n" \
	"    connection {\n" \
	"        _peer_node_id 1;\n" \
	"        path {\n" \
	"            _this_host ipv4 10.0.0.1:7789;\n" \
	"            _remote_host ipv4 10.0.0.2:7789;\n" \
	"        }\n" \
	"        net {\n" \
	"            _name \"nodeb\";\n" \
	"            protocol A; # comment\n"
#define SHOW_DB_TAIL \
	"        }\n" \
	"    }\n" \
	"}\n" \
	"resource \"other\" {\n    _this_host { node-id 3; }\n}\n"

static const char show_text[] = SHOW_DB_HEAD SHOW_DB_TAIL;

/* The same, as DRBD runs it for a Cluster with ha: pacemaker. */
static const char show_text_fenced[] =
	SHOW_DB_HEAD "            fencing resource-and-stonith;\n"
	"            ping-int         \t2; # seconds\n" SHOW_DB_TAIL;

/*
 * ping-int / ping-timeout: DRBD's defaults count as absent on both sides
 * (drbdsetup show leaves them out), other values are parsed, rendered and
 * diffed; a changed value is a difference that needs an adjust.
 */
static void fill_res(struct drbd_res *r, char proto);

static void test_ping(void **state)
{
	static const char dflt[] = SHOW_DB_HEAD
		"            ping-int 10; # seconds\n"
		"            ping-timeout 5; # 1/10 seconds\n" SHOW_DB_TAIL;
	static const char set[] = SHOW_DB_HEAD
		"            ping-int 3; # seconds\n"
		"            ping-timeout 12; # 1/10 seconds\n" SHOW_DB_TAIL;
	struct drbd_res *v = NULL, want;
	size_t n = 0;
	char err[128], diff[256];
	char *t;

	(void)state;
	assert_int_equal(drbd_parse_show(dflt, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(v[0].ping_int, 0);
	assert_int_equal(v[0].ping_timeout, 0);
	drbd_res_array_free(v, n);
	assert_int_equal(drbd_parse_show(set, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(v[0].ping_int, 3);
	assert_int_equal(v[0].ping_timeout, 12);

	fill_res(&want, 'A');
	want.ping_int = 3;
	want.ping_timeout = 12;
	drbd_res_diff(&want, &v[0], diff, sizeof(diff));
	assert_string_equal(diff, "");
	want.ping_int = 2;
	drbd_res_diff(&want, &v[0], diff, sizeof(diff));
	assert_string_equal(diff, "ping-int 3 -> 2 s, ping-timeout 12 -> 12 tenths");
	t = drbd_render_d(&want, "nodea", DRBD_V84);
	assert_non_null(strstr(t, "\t\tping-int 2;\n\t\tping-timeout 12;\n"));
	free(t);
	want.ping_int = want.ping_timeout = 0;
	t = drbd_render_d(&want, "nodea", DRBD_V9);
	assert_null(strstr(t, "ping"));
	free(t);
	drbd_res_free(&want);
	drbd_res_array_free(v, n);
}

static void fill_res(struct drbd_res *r, char proto)
{
	memset(r, 0, sizeof(*r));
	r->name = strdup("bollard-db");
	r->protocol = proto;
	r->minor = 100;
	r->disk = strdup("/dev/vg0/bollard-db");
	r->meta_disk = strdup("internal");
	r->node_id = 0;
	r->addr = strdup("ipv4 10.0.0.1:7789");
	r->peers = calloc(1, sizeof(*r->peers));
	r->peers[0].name = strdup("nodeb");
	r->peers[0].node_id = 1;
	r->peers[0].addr = strdup("ipv4 10.0.0.2:7789");
	r->npeers = 1;
	r->own.volume = strdup("db");
	r->own.policy = strdup("Delete");
	r->own.backing = strdup("lvm");
	r->own.vg = strdup("vg0");
	r->own.lv = strdup("bollard-db");
}

static void test_parse_show(void **state)
{
	struct drbd_res *v = NULL;
	size_t n = 0;
	char err[128];

	(void)state;
	assert_int_equal(drbd_parse_show(show_text, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "bollard-db");
	assert_int_equal(v[0].protocol, 'A');
	assert_int_equal(v[0].minor, 100);
	assert_int_equal(v[0].node_id, 0);
	assert_string_equal(v[0].disk, "/dev/vg0/bollard-db");
	assert_string_equal(v[0].addr, "ipv4 10.0.0.1:7789");
	assert_int_equal(v[0].npeers, 1);
	assert_string_equal(v[0].peers[0].name, "nodeb");
	assert_string_equal(v[0].peers[0].addr, "ipv4 10.0.0.2:7789");
	/* the other resource: no disk, default protocol */
	assert_int_equal(v[1].protocol, 'C');
	assert_null(v[1].disk);
	assert_int_equal(v[1].minor, -1);
	drbd_res_array_free(v, n);
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = {
		"resource \"x\" {\n", "resource x }", "resource \"x\n",
		"resource x { net { protocol C } }", "{ }",
	};
	struct drbd_res *v = NULL;
	size_t n = 0;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(drbd_parse_show(bad[i], &v, &n, err, sizeof(err)),
				 BL_E_PARSE);
		assert_non_null(strstr(err, "line "));
	}
}

/* Render, parse back as config: the same struct (drbdadm adjust's idea),
 * owner header included; and the live form of it compares equal. */
static void test_render_roundtrip(void **state)
{
	struct drbd_res want, *back = NULL, *live = NULL;
	size_t n = 0, nl = 0;
	char err[128], diff[128];
	char *text;

	(void)state;
	fill_res(&want, 'A');
	text = drbd_render(&want, "nodea");
	assert_non_null(text);
	assert_non_null(strstr(text, "# bollard: volume=db policy=Delete backing=lvm vg=vg0 lv=bollard-db\n"));
	assert_int_equal(drbd_parse_conf(text, "nodea", &back, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_true(drbd_res_equal(&want, &back[0]));
	assert_string_equal(back[0].own.policy, "Delete");
	assert_string_equal(back[0].own.vg, "vg0");
	/* Parsed as the peer, it is the peer's view: not equal. */
	drbd_res_array_free(back, n);
	assert_int_equal(drbd_parse_conf(text, "nodeb", &back, &n, err, sizeof(err)), 0);
	assert_false(drbd_res_equal(&want, &back[0]));
	drbd_res_array_free(back, n);

	assert_int_equal(drbd_parse_show(show_text, &live, &nl, err, sizeof(err)), 0);
	assert_true(drbd_res_equal(&want, &live[0]));
	want.protocol = 'C';
	drbd_res_diff(&want, &live[0], diff, sizeof(diff));
	assert_string_equal(diff, "protocol A -> C");
	want.protocol = 'A';
	free(want.peers[0].addr);
	want.peers[0].addr = strdup("ipv4 10.0.0.12:7789");
	drbd_res_diff(&want, &live[0], diff, sizeof(diff));
	assert_string_equal(diff, "peer nodeb address ipv4 10.0.0.2:7789 -> ipv4 10.0.0.12:7789");
	free(want.peers[0].name);
	want.peers[0].name = strdup("nodec");
	drbd_res_diff(&want, &live[0], diff, sizeof(diff));
	assert_string_equal(diff, "peer nodec missing");
	drbd_res_array_free(live, nl);
	drbd_res_free(&want);
	free(text);
}

/* DRBD 8.4 (Debian's in-kernel module): `drbdsetup show` as recorded in a
 * tests/ha guest; the dialect from /proc/drbd; the 8.4 rendering parses
 * back and compares equal to the live 8.4 form, node ids ignored. */
static const char show84_text[] =
	"resource bollard-db {\n"
	"    options {\n    }\n"
	"    net {\n    }\n"
	"    _remote_host {\n"
	"        address\t\t\tipv4 10.0.0.2:7789;\n"
	"    }\n"
	"    _this_host {\n"
	"        address\t\t\tipv4 10.0.0.1:7789;\n"
	"        volume 0 {\n"
	"            device\t\t\tminor 100;\n"
	"            disk\t\t\t\"/dev/vg0/bollard-db\";\n"
	"            meta-disk\t\t\tinternal;\n"
	"            disk {\n            }\n"
	"        }\n"
	"    }\n"
	"}\n";

static void test_dialect_84(void **state)
{
	struct drbd_res want, *back = NULL, *live = NULL;
	size_t n = 0, nl = 0;
	char err[128], diff[160];
	char *text;

	(void)state;
	assert_int_equal(drbd_dialect_of("version: 8.4.11 (api:1/proto:86-101)\n"
					 "srcversion: F73C\n"), DRBD_V84);
	assert_int_equal(drbd_dialect_of("version: 9.2.4 (api:2/proto:86-122)\n"),
			 DRBD_V9);
	assert_int_equal(drbd_dialect_of(NULL), DRBD_V9);
	assert_int_equal(drbd_dialect_of(""), DRBD_V9);

	assert_int_equal(drbd_parse_show(show84_text, &live, &nl, err, sizeof(err)), 0);
	assert_int_equal(nl, 1);
	assert_string_equal(live[0].name, "bollard-db");
	assert_int_equal(live[0].minor, 100);
	assert_int_equal(live[0].node_id, -1);
	assert_string_equal(live[0].addr, "ipv4 10.0.0.1:7789");
	assert_int_equal(live[0].npeers, 1);
	assert_string_equal(live[0].peers[0].name, "");
	assert_string_equal(live[0].peers[0].addr, "ipv4 10.0.0.2:7789");

	fill_res(&want, 'C');
	text = drbd_render_d(&want, "nodea", DRBD_V84);
	assert_non_null(text);
	assert_null(strstr(text, "node-id"));
	assert_null(strstr(text, "connection-mesh"));
	assert_non_null(strstr(text, "\ton nodeb {\n\t\taddress ipv4 10.0.0.2:7789;\n"));
	assert_int_equal(drbd_parse_conf(text, "nodea", &back, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	drbd_res_diff_d(&want, &back[0], DRBD_V84, diff, sizeof(diff));
	assert_string_equal(diff, "");
	drbd_res_array_free(back, n);

	/* 8.4 live state matches under the 8.4 rules, not under 9's. */
	drbd_res_diff_d(&want, &live[0], DRBD_V84, diff, sizeof(diff));
	assert_string_equal(diff, "");
	assert_false(drbd_res_equal(&want, &live[0]));
	free(want.peers[0].addr);
	want.peers[0].addr = strdup("ipv4 10.0.0.12:7789");
	drbd_res_diff_d(&want, &live[0], DRBD_V84, diff, sizeof(diff));
	assert_string_equal(diff, "peer nodeb address ipv4 10.0.0.2:7789 -> ipv4 10.0.0.12:7789");
	drbd_res_array_free(live, nl);
	drbd_res_free(&want);
	free(text);
}

/* ---- the reconciler through its ops, observed state in memory ------------*/

struct fake {
	const char *show, *status, *lvs, *md;
	int md_status;
	const char *file_name, *file_text;
	int calls_md;
};

static int fake_run(void *arg, const char *const *argv, const char *in,
		    size_t in_len, struct bl_run_out *o)
{
	struct fake *f = arg;
	const char *out = "";

	memset(o, 0, sizeof(*o));
	if (!strcmp(argv[0], "drbdsetup") && !strcmp(argv[1], "show"))
		out = f->show;
	else if (!strcmp(argv[0], "drbdsetup"))
		out = f->status;
	else if (!strcmp(argv[0], "lvs"))
		out = f->lvs;
	else if (!strcmp(argv[0], "drbdmeta")) {
		f->calls_md++;
		out = f->md;
		o->status = f->md_status;
	} else
		return -ENOENT;
	o->out = strdup(out);
	o->out_len = strlen(out);
	o->err = strdup("");
	return 0;
}

static int fake_read(void *arg, const char *path, char **buf, size_t *len)
{
	struct fake *f = arg;

	if (!f->file_name || !strstr(path, f->file_name))
		return -ENOENT;
	*buf = strdup(f->file_text);
	*len = strlen(*buf);
	return 0;
}

static int fake_list(void *arg, const char *dir, char ***names, size_t *n)
{
	struct fake *f = arg;

	*names = calloc(1, sizeof(char *));
	*n = 0;
	if (f->file_name) {
		(*names)[0] = strdup(f->file_name);
		*n = 1;
	}
	return 0;
}

static const char yaml[] =
	"apiVersion: bollard.io/v1alpha1\nkind: Cluster\nmetadata: {name: lab}\n"
	"spec:\n  ha: pacemaker\n  nodes:\n"
	"    - {name: nodea, address: 192.0.2.1, replicationAddress: 10.0.0.1}\n"
	"    - {name: nodeb, address: 192.0.2.2, replicationAddress: 10.0.0.2}\n"
	"---\napiVersion: bollard.io/v1alpha1\nkind: Volume\nmetadata: {name: db}\n"
	"spec:\n  cluster: lab\n  size: 64Mi\n  backing: {type: lvm, vg: vg0}\n"
	"  replication: {protocol: A, port: 7789, minor: 100}\n";

/* What observe handed over (ctx->report). */
struct reported {
	int calls;
	char role[16], disk[24];
	size_t n;
};

/* Fencing: rendered in each dialect's place with the handlers naming the
 * clone (bollard's fence-peer, drbd-utils' with crm_fence_peer; drbd-utils'
 * unfence either way), parsed back from the config and from either dialect's
 * `drbdsetup show` (8.4: the volume's disk block; 9: the connection's
 * net), and a live resource without it differs ("dont-care" is DRBD's
 * default, which show omits). */
static void test_fencing(void **state)
{
	static const char show9[] =
		"resource \"bollard-db\" {\n"
		"    _this_host {\n        node-id 0;\n"
		"        volume 0 {\n            device minor 100;\n"
		"            disk \"/dev/vg0/bollard-db\";\n"
		"            meta-disk internal;\n        }\n    }\n"
		"    connection {\n        _peer_node_id 1;\n"
		"        path {\n            _this_host ipv4 10.0.0.1:7789;\n"
		"            _remote_host ipv4 10.0.0.2:7789;\n        }\n"
		"        net {\n            _name \"nodeb\";\n"
		"            fencing resource-and-stonith;\n        }\n    }\n}\n";
	static const char show84[] =
		"resource bollard-db {\n"
		"    _remote_host {\n        address ipv4 10.0.0.2:7789;\n    }\n"
		"    _this_host {\n        address ipv4 10.0.0.1:7789;\n"
		"        volume 0 {\n            device minor 100;\n"
		"            disk \"/dev/vg0/bollard-db\";\n"
		"            meta-disk internal;\n"
		"            disk {\n                fencing resource-and-stonith;\n"
		"            }\n        }\n    }\n}\n";
	struct drbd_res want, *v = NULL;
	size_t n = 0;
	char err[128], diff[128];
	char *t9, *t84;

	(void)state;
	fill_res(&want, 'C');
	want.fencing = strdup("resource-and-stonith");
	want.pcmk_clone = strdup("bollard-drbd-db-clone");
	t9 = drbd_render_d(&want, "nodea", DRBD_V9);
	t84 = drbd_render_d(&want, "nodea", DRBD_V84);
	assert_non_null(strstr(t9, "\tnet {\n\t\tprotocol C;\n\t\tfencing resource-and-stonith;\n\t}\n"));
	assert_non_null(strstr(t9, "\tfence-peer \"/usr/lib/bollard/bollard-fence-peer --master-id=bollard-drbd-db-clone\";"));
	assert_non_null(strstr(t9, "unfence-peer \"/usr/lib/drbd/crm-unfence-peer.9.sh --master-id=bollard-drbd-db-clone\";"));
	assert_non_null(strstr(t84, "\tdisk {\n\t\tfencing resource-and-stonith;\n\t}\n"));
	assert_non_null(strstr(t84, "\tfence-peer \"/usr/lib/bollard/bollard-fence-peer --master-id=bollard-drbd-db-clone\";"));
	assert_non_null(strstr(t84, "after-resync-target \"/usr/lib/drbd/crm-unfence-peer.sh --master-id=bollard-drbd-db-clone\";"));
	assert_null(strstr(t84, "unfence-peer \""));
	assert_null(strstr(t9, "crm-fence-peer"));
	assert_null(strstr(t84, "crm-fence-peer"));
	/* drbdAgent: linbit keeps drbd-utils' crm-fence-peer */
	want.crm_fence_peer = true;
	{
		char *c9 = drbd_render_d(&want, "nodea", DRBD_V9);
		char *c84 = drbd_render_d(&want, "nodea", DRBD_V84);

		assert_non_null(strstr(c9, "\tfence-peer \"/usr/lib/drbd/crm-fence-peer.9.sh --master-id=bollard-drbd-db-clone\";"));
		assert_non_null(strstr(c84, "\tfence-peer \"/usr/lib/drbd/crm-fence-peer.sh --master-id=bollard-drbd-db-clone\";"));
		assert_null(strstr(c9, "bollard-fence-peer"));
		assert_non_null(strstr(c84, "after-resync-target \"/usr/lib/drbd/crm-unfence-peer.sh --master-id=bollard-drbd-db-clone\";"));
		free(c9);
		free(c84);
	}
	want.crm_fence_peer = false;
	/* config round trip, both dialects */
	assert_int_equal(drbd_parse_conf(t9, "nodea", &v, &n, err, sizeof(err)), 0);
	assert_string_equal(v[0].fencing, "resource-and-stonith");
	assert_true(drbd_res_equal(&want, &v[0]));
	drbd_res_array_free(v, n);
	assert_int_equal(drbd_parse_conf(t84, "nodea", &v, &n, err, sizeof(err)), 0);
	assert_string_equal(v[0].fencing, "resource-and-stonith");
	drbd_res_array_free(v, n);
	/* live, both dialects: equal */
	assert_int_equal(drbd_parse_show(show9, &v, &n, err, sizeof(err)), 0);
	drbd_res_diff_d(&want, &v[0], DRBD_V9, diff, sizeof(diff));
	assert_string_equal(diff, "");
	drbd_res_array_free(v, n);
	assert_int_equal(drbd_parse_show(show84, &v, &n, err, sizeof(err)), 0);
	drbd_res_diff_d(&want, &v[0], DRBD_V84, diff, sizeof(diff));
	assert_string_equal(diff, "");
	drbd_res_array_free(v, n);
	/* a live resource without a policy differs */
	assert_int_equal(drbd_parse_show(show84_text, &v, &n, err, sizeof(err)), 0);
	assert_null(v[0].fencing);
	drbd_res_diff_d(&want, &v[0], DRBD_V84, diff, sizeof(diff));
	assert_string_equal(diff, "fencing dont-care -> resource-and-stonith");
	drbd_res_array_free(v, n);
	/* without Pacemaker: no policy, no handlers */
	free(t9);
	free(want.fencing);
	free(want.pcmk_clone);
	want.fencing = want.pcmk_clone = NULL;
	t9 = drbd_render_d(&want, "nodea", DRBD_V9);
	assert_null(strstr(t9, "fencing"));
	assert_null(strstr(t9, "handlers"));
	free(t9);
	free(t84);
	drbd_res_free(&want);
}

static void on_report(void *arg, const char *what, const void *data, size_t n)
{
	struct reported *r = arg;
	const struct drbd_live *l = data;

	assert_string_equal(what, "drbd-live");
	r->calls++;
	r->n = n;
	if (n) {
		snprintf(r->role, sizeof(r->role), "%s", l[0].role);
		snprintf(r->disk, sizeof(r->disk), "%s", l[0].disk);
	}
}

static void plan_with_report(struct fake *f, const char *node, struct bl_plan *p,
			     struct reported *r)
{
	struct bl_objlist objs;
	struct bl_diag d = {0};
	struct bl_rec_ctx ctx = { .node = node };

	ctx.io = (struct bl_rec_io){ fake_run, fake_read, fake_list, f };
	if (r) {
		ctx.report = on_report;
		ctx.report_arg = r;
	}
	bl_objlist_init(&objs);
	assert_int_equal(bl_parse_buf("t.yaml", yaml, strlen(yaml), &objs, &d), 0);
	assert_int_equal(bl_reconcile_plan(&bl_drbd_reconciler, &ctx, &objs, p), 0);
	bl_objlist_free(&objs);
	bl_diag_free(&d);
}

static void plan_with(struct fake *f, const char *node, struct bl_plan *p)
{
	plan_with_report(f, node, p, NULL);
}

static bool has_action(const struct bl_plan *p, const char *kind,
		       const char *verb)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].kind, kind) && !strcmp(p->v[i].verb, verb))
			return true;
	return false;
}

/* Converges: the state the first plan produces gives an empty plan. */
static void test_reconciler_converges(void **state)
{
	struct fake f = { .show = "", .status = "[]",
			  .lvs = "  vg0|bollard-db|67108864\n",
			  .md = "", .md_status = 1 };
	struct bl_plan p;
	char *text = NULL;

	(void)state;
	f.md = "No valid meta data found\n";
	plan_with(&f, "nodea", &p);
	assert_true(has_action(&p, "drbd-md", "create"));
	assert_true(has_action(&p, "drbd-resource", "adjust"));
	assert_false(has_action(&p, "lv", "create"));
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].op == BL_OP_WRITE)
			text = strdup(p.v[i].payload);
	assert_non_null(text);
	/* config to write, metadata to create: not configured here yet */
	assert_false(drbd_plan_configured(&p, "db"));
	bl_plan_free(&p);

	/* now the file is in place and DRBD runs it */
	f.file_name = "bollard-db.res";
	f.file_text = text;
	f.show = show_text_fenced;
	f.status = "[{\"name\":\"bollard-db\",\"role\":\"Secondary\","
		   "\"devices\":[{\"volume\":0,\"disk-state\":\"UpToDate\"}]}]";
	f.calls_md = 0;
	struct reported r = { 0 };
	plan_with_report(&f, "nodea", &p, &r);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.nconds, 0);
	assert_int_equal(f.calls_md, 0); /* attached: metadata not probed */
	assert_true(drbd_plan_configured(&p, "db"));
	/* observe handed its live state over, once */
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.role, "Secondary");
	assert_string_equal(r.disk, "UpToDate");
	bl_plan_free(&p);
	free(text);
}

/* A node outside the Cluster wants nothing, and removes what it has. */
static void test_reconciler_other_node(void **state)
{
	struct fake f = { .show = "", .status = "[]", .lvs = "" };
	struct bl_plan p;

	(void)state;
	plan_with(&f, "nodez", &p);
	assert_int_equal(p.n, 0);
	bl_plan_free(&p);
}

/* ---- live state (Volume status): sync percent from both dialects ------*/

static void test_live_json(void **state)
{
	/* Two resources: one resyncing to two peers (the lower percent and
	 * the not Connected peer win), one in sync (percent-in-sync 100 is
	 * not a resync). */
	static const char j[] =
		"[{\"name\":\"bollard-db\",\"role\":\"Primary\","
		"\"devices\":[{\"volume\":0,\"disk-state\":\"UpToDate\"}],"
		"\"connections\":["
		"{\"name\":\"nodeb\",\"connection-state\":\"Connected\","
		" \"peer_devices\":[{\"replication-state\":\"SyncSource\","
		"  \"peer-disk-state\":\"Inconsistent\",\"percent-in-sync\":42.97}]},"
		"{\"name\":\"nodec\",\"connection-state\":\"Connecting\","
		" \"peer_devices\":[{\"replication-state\":\"PausedSyncS\","
		"  \"peer-disk-state\":\"DUnknown\",\"percent-in-sync\":17.5}]}]},"
		"{\"name\":\"bollard-logs\",\"role\":\"Secondary\","
		"\"devices\":[{\"volume\":0,\"disk-state\":\"Inconsistent\"}],"
		"\"connections\":[{\"name\":\"nodea\",\"connection-state\":\"Connected\","
		" \"peer_devices\":[{\"replication-state\":\"SyncTarget\","
		"  \"peer-disk-state\":\"UpToDate\",\"percent-in-sync\":99.99}]}]},"
		"{\"name\":\"bollard-ok\",\"role\":\"Secondary\","
		"\"devices\":[{\"volume\":0,\"disk-state\":\"UpToDate\"}],"
		"\"connections\":[{\"name\":\"nodea\",\"connection-state\":\"Connected\","
		" \"peer_devices\":[{\"replication-state\":\"Established\","
		"  \"peer-disk-state\":\"UpToDate\",\"percent-in-sync\":100.00}]}]}]";
	struct drbd_live *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(drbd_live_parse_json(j, strlen(j), &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "bollard-db");
	assert_string_equal(v[0].role, "Primary");
	assert_string_equal(v[0].disk, "UpToDate");
	assert_string_equal(v[0].conn, "Connecting");
	assert_string_equal(v[0].repl, "PausedSyncS");
	assert_string_equal(v[0].peer_disk, "DUnknown");
	assert_int_equal(v[0].sync_pct, 17);
	assert_string_equal(v[1].disk, "Inconsistent");
	assert_string_equal(v[1].repl, "SyncTarget");
	assert_int_equal(v[1].sync_pct, 99);   /* rounded down, never 100 early */
	assert_string_equal(v[2].conn, "Connected");
	assert_int_equal(v[2].sync_pct, -1);
	drbd_live_free(v, n);
	assert_int_equal(drbd_live_parse_json("{}", 2, &v, &n), BL_E_PARSE);
	assert_int_equal(drbd_live_parse_json("nope", 4, &v, &n), BL_E_PARSE);
}

static void test_live_proc(void **state)
{
	static const char proc[] =
		"version: 8.4.11 (api:1/proto:86-101)\n"
		"srcversion: F73C670A7EC572DB9CF3E5B \n"
		"\n"
		" 2: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n"
		"    ns:212992 nr:0 dw:0 dr:215104 al:8 bm:0 lo:0 pe:3 ua:0 ap:0 ep:1 wo:f oos:835584\n"
		"\t[===>................] sync'ed: 20.8% (835584/1048576)K\n"
		"\tfinish: 0:00:29 speed: 28,352 (28,352) K/sec\n"
		" 3: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----\n"
		"    ns:0 nr:0 dw:0 dr:0 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n"
		" 4: cs:WFConnection ro:Secondary/Unknown ds:Inconsistent/DUnknown C r----s\n"
		" 5: cs:Unconfigured\n"
		" 7: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----\n";
	struct drbd_res live[4];
	struct drbd_live *v = NULL;
	size_t n = 0;

	(void)state;
	memset(live, 0, sizeof(live));
	live[0].name = "bollard-db";   live[0].minor = 2;
	live[1].name = "bollard-logs"; live[1].minor = 3;
	live[2].name = "bollard-new";  live[2].minor = 4;
	live[3].name = "bollard-unc";  live[3].minor = 5;
	assert_int_equal(drbd_live_parse_proc(proc, live, 4, &v, &n), 0);
	assert_int_equal(n, 3);          /* 5: no ro:, 7: not a live resource */
	assert_string_equal(v[0].name, "bollard-db");
	assert_string_equal(v[0].role, "Primary");
	assert_string_equal(v[0].disk, "UpToDate");
	assert_string_equal(v[0].conn, "SyncSource");
	assert_string_equal(v[0].peer_disk, "Inconsistent");
	assert_int_equal(v[0].sync_pct, 20);
	/* the sync'ed line belongs to minor 2 only */
	assert_string_equal(v[1].name, "bollard-logs");
	assert_string_equal(v[1].conn, "Connected");
	assert_int_equal(v[1].sync_pct, -1);
	assert_string_equal(v[2].disk, "Inconsistent");
	assert_string_equal(v[2].conn, "WFConnection");
	assert_int_equal(v[2].sync_pct, -1);
	drbd_live_free(v, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_show),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_render_roundtrip),
		cmocka_unit_test(test_dialect_84),
		cmocka_unit_test(test_fencing),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_reconciler_converges),
		cmocka_unit_test(test_reconciler_other_node),
		cmocka_unit_test(test_live_json),
		cmocka_unit_test(test_live_proc),
	};

	return cmocka_run_group_tests_name("plan_drbd", tests, NULL, NULL);
}
