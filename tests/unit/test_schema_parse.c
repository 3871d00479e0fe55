/*
 * test_schema_parse.c - every kind parses, defaults are applied, and every
 * kind of validation error is reported with its exact file:line:col and
 * field path.
 */
#include "test_schema_util.h"

static const char cluster3[] =
	HDR "kind: Cluster\n"
	"metadata:\n"
	"  name: east-1\n"
	"  labels: {region: eu-west, tier: gold}\n"
	"spec:\n"
	"  nodes:\n"
	"    - {name: a, address: 10.0.0.1}\n"
	"    - {name: b.example.com, address: \"fd00::2\"}\n"
	"    - name: c\n"
	"      address: c.example.com\n"
	"      replicationAddress: 192.168.7.3\n";

static void t_cluster_defaults(void **state)
{
	struct bl_objlist l;
	const struct bl_obj *o;

	expect_ok(cluster3, 1, &l);
	o = l.v[0];
	assert_string_equal(o->kind, "Cluster");
	assert_string_equal(o->name, "east-1");
	assert_string_equal(o->api_version, BL_API_VERSION);
	assert_string_equal(json_string_value(json_object_get(o->labels,
							      "tier")), "gold");
	/* three nodes: majority quorum; ha defaults to none */
	assert_string_equal(json_string_value(json_object_get(o->spec,
							      "quorum")),
			    "majority");
	assert_string_equal(json_string_value(json_object_get(o->spec, "ha")),
			    "none");
	assert_string_equal(o->file, "t.yaml");
	assert_int_equal(o->line, 1);      /* where the mapping starts */
	assert_null(o->uid);
	assert_null(o->data);
	bl_objlist_free(&l);

	/* two nodes: quorum none */
	expect_ok(HDR "kind: Cluster\nmetadata: {name: c}\n"
		  "spec:\n  ha: pacemaker\n  nodes:\n"
		  "  - {name: a, address: 10.0.0.1}\n"
		  "  - {name: b, address: 10.0.0.2}\n", 1, &l);
	assert_string_equal(json_string_value(json_object_get(l.v[0]->spec,
							      "quorum")),
			    "none");
	/* membership is by spec.nodes[].name, not by address */
	assert_true(bl_cluster_has_node(l.v[0], "b"));
	assert_false(bl_cluster_has_node(l.v[0], "c"));
	assert_false(bl_cluster_has_node(l.v[0], "10.0.0.1"));
	assert_false(bl_cluster_has_node(NULL, "a"));
	bl_objlist_free(&l);
}

/*
 * The agents Pacemaker runs, chosen in spec.pacemaker: drbdAgent (the DRBD
 * clones: ocf:bollard:drbd unless linbit is asked) and addressAgent (the
 * service addresses: ocf:bollard:address unless heartbeat, IPaddr2, is
 * asked). One row a field: the value it takes when left out (the pacemaker
 * mapping then holds only opTimeout, so the default must be applied beside
 * a field that is given), the values it takes as written, and a value it
 * refuses with the exact diagnostics. Every document has the pacemaker
 * mapping on line 6, so a message's column is where the value starts on
 * that line.
 */
static const struct {
	const char *field;
	const char *def;	/* the value when the field is left out */
	const char *valid[3];	/* values kept as written; NULL ends */
	const char *bad, *err;	/* a value refused, with these diagnostics */
} pcmk_agents[] = {
	{ "drbdAgent", "bollard", { "bollard", "linbit" }, "heartbeat",
	  "t.yaml:6:26: spec.pacemaker.drbdAgent: \"heartbeat\" is "
	  "not one of: bollard, linbit\n" },
	{ "addressAgent", "bollard", { "bollard", "heartbeat" }, "IPaddr2",
	  "t.yaml:6:29: spec.pacemaker.addressAgent: \"IPaddr2\" is "
	  "not one of: bollard, heartbeat\n" },
};

/* A two-node pacemaker Cluster with spec.pacemaker {field: value}, or
 * {opTimeout: 90} where value is NULL. */
static void pcmk_doc(char *doc, size_t size, const char *field,
		     const char *value)
{
	int n = snprintf(doc, size,
			 HDR "kind: Cluster\nmetadata: {name: c}\n"
			 "spec:\n  ha: pacemaker\n"
			 "  pacemaker: {%s: %s}\n"               /* 6 */
			 "  nodes:\n"
			 "  - {name: a, address: 10.0.0.1}\n"
			 "  - {name: b, address: 10.0.0.2}\n",
			 value ? field : "opTimeout", value ? value : "90");

	assert_true(n > 0 && (size_t)n < size);
}

/* The document with field: value (NULL: left out) parses and the parsed
 * spec.pacemaker.field is want. */
static void expect_pcmk_agent(const char *field, const char *value,
			      const char *want)
{
	struct bl_objlist l;
	const char *got;
	char doc[512];

	pcmk_doc(doc, sizeof(doc), field, value);
	expect_ok(doc, 1, &l);
	got = json_string_value(json_object_get(
		json_object_get(l.v[0]->spec, "pacemaker"), field));
	if (!got || strcmp(got, want))
		fprintf(stderr, "spec.pacemaker.%s (%s): got %s, want %s\n",
			field, value ? value : "left out",
			got ? got : "nothing", want);
	assert_non_null(got);
	assert_string_equal(got, want);
	bl_objlist_free(&l);
}

static void t_cluster_pacemaker_agents(void **state)
{
	size_t i, v, n = sizeof(pcmk_agents) / sizeof(pcmk_agents[0]);
	char doc[512];

	for (i = 0; i < n; i++) {
		const char *field = pcmk_agents[i].field;

		expect_pcmk_agent(field, NULL, pcmk_agents[i].def);
		for (v = 0; pcmk_agents[i].valid[v]; v++)
			expect_pcmk_agent(field, pcmk_agents[i].valid[v],
					  pcmk_agents[i].valid[v]);
		pcmk_doc(doc, sizeof(doc), field, pcmk_agents[i].bad);
		expect_errors(doc, BL_E_INVALID, pcmk_agents[i].err);
	}
}

static void t_volume_defaults(void **state)
{
	struct bl_objlist l;
	json_t *spec, *rep;

	expect_ok(HDR "kind: Volume\nmetadata: {name: db}\nspec:\n"
		  "  cluster: c\n  size: 10Gi\n"
		  "  backing: {type: lvm, vg: vg0}\n"
		  "  replication: {port: 7790}\n", 1, &l);
	spec = l.v[0]->spec;
	assert_int_equal(json_integer_value(json_object_get(spec, "size")),
			 10LL << 30);
	assert_string_equal(json_string_value(json_object_get(
		spec, "deletionPolicy")), "Retain");
	rep = json_object_get(spec, "replication");
	assert_string_equal(json_string_value(json_object_get(rep,
							      "protocol")), "C");
	assert_int_equal(json_integer_value(json_object_get(rep, "port")),
			 7790);
	assert_null(json_object_get(rep, "minor"));   /* allocated at apply */
	bl_objlist_free(&l);

	/* integer bytes, device backing, replication none */
	expect_ok(HDR "kind: Volume\nmetadata: {name: raw}\nspec:\n"
		  "  cluster: c\n  size: 1048576\n"
		  "  backing: {type: device, path: /dev/sdb}\n"
		  "  replication: none\n  deletionPolicy: Delete\n", 1, &l);
	assert_string_equal(json_string_value(json_object_get(
		l.v[0]->spec, "replication")), "none");
	bl_objlist_free(&l);
}

static void t_target_defaults(void **state)
{
	struct bl_objlist l;
	json_t *spec, *feat;

	expect_ok(HDR "kind: Target\nmetadata: {name: t}\nspec:\n"
		  "  cluster: c\n  iqn: iqn.2026-11.io.bollard:t\n"
		  "  serviceAddresses: [192.0.2.10/24, \"2001:db8::10/64\"]\n"
		  "  luns: [{lun: 0, volume: a}, {lun: 16383, volume: b}]\n"
		  "  acls:\n"
		  "  - {initiator: \"iqn.1998-01.com.vmware:esx1-4a5b\","
		  " chapSecretRef: s}\n"
		  "  features: {unmap: false}\n", 1, &l);
	spec = l.v[0]->spec;
	assert_int_equal(json_integer_value(json_object_get(spec, "port")),
			 3260);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(spec, "sessions"), "maxPerInitiator")), 2);
	feat = json_object_get(spec, "features");
	assert_true(json_is_false(json_object_get(feat, "unmap")));
	assert_true(json_is_true(json_object_get(feat, "compareAndWrite")));
	assert_true(json_is_true(json_object_get(feat, "extendedCopy")));
	assert_true(json_is_true(json_object_get(feat, "writeSame")));
	bl_objlist_free(&l);
}

static void t_secret_and_rollout(void **state)
{
	struct bl_objlist l;
	json_t *spec, *strat, *gate;

	expect_ok(HDR "kind: Secret\nmetadata: {name: chap}\n"
		  "data: {username: esx, password: \"0123456789ab\"}\n"
		  "---\n"
		  HDR "kind: Rollout\nmetadata: {name: r}\nspec:\n"
		  "  clusterSelector: {matchLabels: {env: prod}}\n"
		  "  strategy: {waves: [2, \"50%\", \"100%\"]}\n", 2, &l);
	assert_string_equal(l.v[0]->kind, "Secret");
	assert_null(l.v[0]->spec);
	assert_string_equal(json_string_value(json_object_get(l.v[0]->data,
							      "username")),
			    "esx");
	spec = l.v[1]->spec;
	strat = json_object_get(spec, "strategy");
	assert_int_equal(json_integer_value(json_object_get(strat, "canary")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(
		strat, "maxUnavailable")), 1);
	gate = json_object_get(spec, "healthGate");
	assert_string_equal(json_string_value(json_object_get(gate,
							      "stableFor")),
			    "30s");
	assert_string_equal(json_string_value(json_object_get(gate,
							      "timeout")),
			    "10m");
	assert_string_equal(json_string_value(json_object_get(spec,
							      "onFailure")),
			    "halt");
	assert_true(json_is_false(json_object_get(spec, "paused")));
	bl_objlist_free(&l);
}

static void t_multi_document(void **state)
{
	struct bl_objlist l;

	/* empty documents and comments between objects are fine */
	expect_ok("---\n# nothing here\n---\n" HDR
		  "kind: Secret\nmetadata: {name: a}\n"
		  "data: {username: u, password: \"0123456789ab\"}\n"
		  "---\n---\n" HDR "kind: Secret\nmetadata: {name: b}\n"
		  "data: {username: u, password: \"0123456789ab\"}\n...\n",
		  2, &l);
	assert_string_equal(l.v[0]->name, "a");
	assert_string_equal(l.v[1]->name, "b");
	assert_int_equal(l.v[1]->line, 10);
	bl_objlist_free(&l);

	/* an error in the second document: nothing is returned, both
	 * documents' errors are reported */
	expect_errors(HDR "kind: Secret\nmetadata: {name: A}\n"
		      "data: {username: u, password: \"0123456789ab\"}\n"
		      "---\n" HDR "kind: Secret\nmetadata: {name: b}\n"
		      "data: {username: u, password: short}\n",
		      BL_E_INVALID,
		      "t.yaml:3:18: metadata.name: \"A\" is not a DNS-1123 "
		      "label (lowercase letters, digits and '-', starting and "
		      "ending with a letter or digit, at most 63 characters)\n"
		      "t.yaml:9:31: data.password: must be at least 12 "
		      "characters (has 5)\n");
}

static void t_server_fields_ignored(void **state)
{
	struct bl_objlist l;

	expect_ok(HDR "kind: Secret\nmetadata:\n  name: a\n  uid: x\n"
		  "  generation: 7\n  resourceVersion: 9\n"
		  "  creationTimestamp: \"2020-01-01T00:00:00Z\"\n"
		  "data: {username: u, password: \"0123456789ab\"}\n"
		  "status: {anything: [1, 2]}\n", 1, &l);
	assert_null(l.v[0]->uid);
	assert_int_equal(l.v[0]->generation, 0);
	assert_int_equal(l.v[0]->resource_version, 0);
	assert_null(l.v[0]->creation_timestamp);
	bl_objlist_free(&l);
}

static void t_errors_target(void **state)
{
	expect_errors(
		HDR "kind: Target\n"              /* 2 */
		"metadata:\n"                     /* 3 */
		"  name: t\n"                     /* 4 */
		"spec:\n"                         /* 5 */
		"  cluster: c\n"                  /* 6 */
		"  iqn: iqn.2026-13.io.x:t\n"     /* 7 */
		"  prot: 3260\n"                  /* 8 */
		"  luns:\n"                       /* 9 */
		"    - lun: 0\n"                  /* 10 */
		"      volume: a\n"               /* 11 */
		"    - lun: 0\n"                  /* 12 */
		"      volume: b\n"               /* 13 */
		"    - {lun: 99999, volume: c}\n" /* 14 */
		"  acls:\n"                       /* 15 */
		"    - initiator: nobody\n"       /* 16 */
		"      chapSecretRef: 5\n"        /* 17 */
		"  features: {unmap: yes}\n"      /* 18 */
		"  sessions: {maxPerInitiator: 1.5}\n" /* 19 */
		"  serviceAddresses: [10.0.0.1/33]\n", /* 20 */
		BL_E_INVALID,
		"t.yaml:7:8: spec.iqn: \"iqn.2026-13.io.x:t\" is not an iSCSI "
		"name: iqn.YYYY-MM.reversed.domain[:identifier], eui.<16 hex "
		"digits> or naa.<16 or 32 hex digits>\n"
		"t.yaml:8:3: spec.prot: unknown field \"prot\" (did you mean "
		"\"port\"?)\n"
		"t.yaml:12:12: spec.luns[1].lun: duplicate lun 0 (also in "
		"luns[0])\n"
		"t.yaml:14:13: spec.luns[2].lun: 99999 is out of range "
		"0..16383\n"
		"t.yaml:16:18: spec.acls[0].initiator: \"nobody\" is not an "
		"initiator iSCSI name (iqn./eui./naa.) or \"*\" for any "
		"initiator\n"
		"t.yaml:17:22: spec.acls[0].chapSecretRef: expected a string, "
		"got the integer 5\n"
		"t.yaml:18:21: spec.features.unmap: expected true or false, "
		"got the string \"yes\"\n"
		"t.yaml:19:31: spec.sessions.maxPerInitiator: expected a whole "
		"number, got the number 1.5\n"
		"t.yaml:20:22: spec.serviceAddresses[0]: \"10.0.0.1/33\" is not "
		"an IPv4 or IPv6 address with an optional prefix length "
		"(192.0.2.10/24, 2001:db8::10/64)\n");
}

static void t_errors_missing_and_top(void **state)
{
	/* missing required fields point at the parent's key */
	expect_errors(HDR "kind: Target\nmetadata: {name: t}\n"
		      "spec:\n  port: 3260\n",
		      BL_E_INVALID,
		      "t.yaml:4:1: spec.cluster: missing required field "
		      "\"cluster\"\n"
		      "t.yaml:4:1: spec.iqn: missing required field \"iqn\"\n");
	/* kind spelling, apiVersion, unknown top-level field, no metadata */
	expect_errors("apiVersion: bollard.io/v1\nkind: target\nspex: {}\n",
		      BL_E_INVALID,
		      "t.yaml:1:1: metadata: missing required field "
		      "\"metadata\"\n"
		      "t.yaml:1:13: apiVersion: apiVersion must be "
		      "\"bollard.io/v1alpha1\"\n"
		      "t.yaml:2:7: kind: unknown kind \"target\" (did you mean "
		      "\"Target\"?)\n"
		      "t.yaml:3:1: spex: unknown field \"spex\"\n");
	/* a document that is not a mapping */
	expect_errors("- a\n- b\n", BL_E_INVALID,
		      "t.yaml:1:1: a document must be a mapping with "
		      "apiVersion, kind, metadata and spec\n");
	/* spec on a Secret, data missing */
	expect_errors(HDR "kind: Secret\nmetadata: {name: s}\nspec: {}\n",
		      BL_E_INVALID,
		      "t.yaml:1:1: data: missing required field \"data\"\n"
		      "t.yaml:4:1: spec: Secret has no \"spec\" (use \"data\")\n");
}

static void t_errors_volume(void **state)
{
	expect_errors(HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		      "  cluster: c\n"                              /* 5 */
		      "  size: 10Q\n"                               /* 6 */
		      "  backing: {type: zfs}\n"                    /* 7 */
		      "  replication: {protocol: D, port: 0}\n",    /* 8 */
		      BL_E_INVALID,
		      "t.yaml:6:9: spec.size: \"10Q\" is not a size (a number "
		      "of bytes, or with K/M/G/T/P or Ki/Mi/Gi/Ti/Pi: 64Mi, "
		      "10Gi)\n"
		      "t.yaml:7:19: spec.backing.type: \"zfs\" is not one of: "
		      "lvm, file, device\n"
		      "t.yaml:8:27: spec.replication.protocol: \"D\" is not one "
		      "of: A, B, C\n"
		      "t.yaml:8:36: spec.replication.port: 0 is out of range "
		      "1..65535\n");
	/* cross-field rules: lvm needs vg, refuses path; size alignment */
	expect_errors(HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		      "  cluster: c\n  size: 1000\n"
		      "  backing:\n    type: lvm\n    path: /x\n"
		      "  replication: maybe\n",
		      BL_E_INVALID,
		      "t.yaml:10:16: spec.replication: \"maybe\" is not none or "
		      "a mapping of settings\n");
	expect_errors(HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		      "  cluster: c\n  size: 1000\n"
		      "  backing:\n    type: lvm\n    path: /x\n"
		      "  replication: none\n",
		      BL_E_INVALID,
		      "t.yaml:6:9: spec.size: 1000 bytes is not a multiple of "
		      "512\n"
		      "t.yaml:7:3: spec.backing.vg: vg is required for lvm "
		      "backing\n"
		      "t.yaml:9:5: spec.backing.path: path is not allowed for "
		      "lvm backing (the LV is named after the Volume)\n");
	expect_errors(HDR "kind: Volume\nmetadata: {name: v}\nspec:\n"
		      "  cluster: c\n  size: 1Mi\n"
		      "  backing: {type: device, path: dev/sdb}\n"
		      "  replication: none\n",
		      BL_E_INVALID,
		      "t.yaml:7:33: spec.backing.path: a device path must be "
		      "absolute\n");
}

static void t_errors_cluster_secret_rollout(void **state)
{
	expect_errors(HDR "kind: Cluster\nmetadata:\n  name: c\n"
		      "  labels: {tier: 1, \"bad key!\": x}\n"
		      "spec:\n  nodes:\n"
		      "  - {name: a, address: 10.0.0.1}\n"
		      "  - {name: a, address: \"not an address\"}\n"
		      "  ha: pacemaker\n",
		      BL_E_INVALID,
		      "t.yaml:5:18: metadata.labels.tier: expected a string "
		      "(quote numbers and booleans), got the integer 1\n"
		      "t.yaml:5:21: metadata.labels[\"bad key!\"]: \"bad key!\" "
		      "is not a label key: [DNS subdomain '/'] name, name at "
		      "most 63 of [A-Za-z0-9._-] starting and ending "
		      "alphanumeric\n"
		      "t.yaml:9:12: spec.nodes[1].name: duplicate name \"a\" "
		      "(also in nodes[0])\n"
		      "t.yaml:9:24: spec.nodes[1].address: \"not an address\" is "
		      "not an IPv4 address, IPv6 address or DNS name\n");
	expect_errors(HDR "kind: Cluster\nmetadata: {name: c}\n"
		      "spec:\n  nodes: []\n  ha: pacemaker\n",
		      BL_E_INVALID,
		      "t.yaml:5:10: spec.nodes: needs at least 1 item\n");
	expect_errors(HDR "kind: Rollout\nmetadata: {name: r}\nspec:\n"
		      "  clusterSelector: {}\n"
		      "  strategy: {waves: [0, \"50%\", \"20%\", \"150%\"],"
		      " maxUnavailable: \"x\"}\n"
		      "  healthGate: {stableFor: 30, timeout: 1d}\n"
		      "  onFailure: panic\n  paused: 1\n",
		      BL_E_INVALID,
		      "t.yaml:6:22: spec.strategy.waves[0]: 0 is out of range "
		      "1..1000000\n"
		      "t.yaml:6:39: spec.strategy.waves[3]: \"150%\" is not a "
		      "percentage (\"1%\" to \"100%\")\n"
		      "t.yaml:6:64: spec.strategy.maxUnavailable: \"x\" is not "
		      "a percentage (\"1%\" to \"100%\")\n"
		      "t.yaml:7:27: spec.healthGate.stableFor: expected a "
		      "duration (\"30s\", \"10m\", \"1h\"), got the integer 30\n"
		      "t.yaml:7:40: spec.healthGate.timeout: \"1d\" is not a "
		      "duration (a number with ms, s, m or h: \"30s\", "
		      "\"1h30m\")\n"
		      "t.yaml:8:14: spec.onFailure: \"panic\" is not one of: "
		      "halt, rollback\n"
		      "t.yaml:9:11: spec.paused: expected true or false, got "
		      "the integer 1\n");
	expect_errors(HDR "kind: Rollout\nmetadata: {name: r}\nspec:\n"
		      "  clusterSelector: {}\n"
		      "  strategy: {waves: [\"50%\", \"20%\"]}\n"
		      "  healthGate: {stableFor: 5m, timeout: 1m}\n",
		      BL_E_INVALID,
		      "t.yaml:6:29: spec.strategy.waves[1]: percentages must "
		      "increase (20% follows 50%)\n"
		      "t.yaml:7:40: spec.healthGate.timeout: timeout is shorter "
		      "than stableFor\n");
}

/* Secret values never appear in messages, whatever is wrong with them. */
static void t_secret_values_not_echoed(void **state)
{
	expect_errors(HDR "kind: Secret\nmetadata: {name: s}\n"
		      "data:\n  username: [a]\n  password: 1234567890123\n",
		      BL_E_INVALID,
		      "t.yaml:5:13: data.username: expected a string, got a "
		      "list\n"
		      "t.yaml:6:13: data.password: expected a string, got an "
		      "integer\n");
	expect_errors(HDR "kind: Secret\nmetadata: {name: s}\n"
		      "data:\n  username: u\n"
		      "  password: 123456789012345678901234567890\n",
		      BL_E_PARSE,
		      "t.yaml:6:13: data.password: number (value hidden) is "
		      "out of range (64-bit integers only)\n");
}

/* Windows line ends and a UTF-8 byte order mark are fine. */
static void t_crlf_bom(void **state)
{
	struct bl_objlist l;

	expect_ok("\xef\xbb\xbf" HDR "kind: Secret\r\nmetadata:\r\n"
		  "  name: s\r\ndata: {username: u, "
		  "password: \"0123456789ab\"}\r\n", 1, &l);
	bl_objlist_free(&l);
	expect_errors("apiVersion: bollard.io/v1alpha1\r\nkind: Secret\r\n"
		      "metadata:\r\n  name: S\r\n"
		      "data: {username: u, password: \"0123456789ab\"}\r\n",
		      BL_E_INVALID,
		      "t.yaml:4:9: metadata.name: \"S\" is not a DNS-1123 "
		      "label (lowercase letters, digits and '-', starting and "
		      "ending with a letter or digit, at most 63 characters)\n");
}

static void t_warning_is_not_error(void **state)
{
	struct bl_objlist l;
	struct bl_diag d;
	static const char txt[] =
		HDR "kind: Cluster\nmetadata: {name: c}\n"
		"spec:\n  quorum: majority\n  nodes:\n"
		"  - {name: a, address: 10.0.0.1}\n"
		"  - {name: b, address: 10.0.0.2}\n";
	char *out = NULL;
	size_t n;
	FILE *f;

	bl_objlist_init(&l);
	bl_diag_init(&d);
	assert_int_equal(bl_parse_buf("t.yaml", txt, strlen(txt), &l, &d), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(bl_diag_count(&d), 0);
	assert_int_equal(d.n, 1);
	f = open_memstream(&out, &n);
	bl_diag_print(&d, f);
	fclose(f);
	assert_string_equal(out, "t.yaml:5:11: warning: spec.quorum: majority "
			    "quorum with 2 nodes stops the cluster when either "
			    "node fails; use quorum: none for two nodes\n");
	free(out);
	bl_diag_free(&d);
	bl_objlist_free(&l);
}

static void t_null_is_absent(void **state)
{
	struct bl_objlist l;

	expect_ok(HDR "kind: Target\nmetadata:\n  name: t\n  labels:\n"
		  "spec:\n  cluster: c\n  iqn: eui.0123456789ABCDEF\n"
		  "  port: ~\n  luns:\n", 1, &l);
	assert_int_equal(json_integer_value(json_object_get(l.v[0]->spec,
							    "port")), 3260);
	assert_int_equal(json_array_size(json_object_get(l.v[0]->spec,
							 "luns")), 0);
	assert_int_equal(json_object_size(l.v[0]->labels), 0);
	bl_objlist_free(&l);
}

static void t_marks(void **state)
{
	struct bl_objlist l;
	int line, col;

	expect_ok(HDR "kind: Target\nmetadata: {name: t}\nspec:\n"
		  "  cluster: c\n  iqn: iqn.2026-11.io.x:t\n"
		  "  luns:\n  - lun: 3\n    volume: v\n", 1, &l);
	assert_int_equal(bl_obj_mark(l.v[0], "spec.luns[0].volume", &line,
				     &col), 0);
	assert_int_equal(line, 9);
	assert_int_equal(col, 13);
	/* a defaulted field falls back to its nearest marked parent */
	assert_int_equal(bl_obj_mark(l.v[0], "spec.features.unmap", &line,
				     &col), 0);
	assert_int_equal(line, 5);
	bl_objlist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_cluster_defaults),
		cmocka_unit_test(t_cluster_pacemaker_agents),
		cmocka_unit_test(t_volume_defaults),
		cmocka_unit_test(t_target_defaults),
		cmocka_unit_test(t_secret_and_rollout),
		cmocka_unit_test(t_multi_document),
		cmocka_unit_test(t_server_fields_ignored),
		cmocka_unit_test(t_errors_target),
		cmocka_unit_test(t_errors_missing_and_top),
		cmocka_unit_test(t_errors_volume),
		cmocka_unit_test(t_errors_cluster_secret_rollout),
		cmocka_unit_test(t_secret_values_not_echoed),
		cmocka_unit_test(t_crlf_bom),
		cmocka_unit_test(t_warning_is_not_error),
		cmocka_unit_test(t_null_is_absent),
		cmocka_unit_test(t_marks),
	};

	return cmocka_run_group_tests_name("schema_parse", tests, NULL, NULL);
}
