/*
 * bl_kinds.c - the field tables of every kind, their cross-field checks,
 * and kind name lookup.
 *
 * These tables are the single source of truth: the validator walks them to
 * check and default input (bl_validate.c), bl_kind_json_schema() turns them
 * into JSON Schema, and bl_schema_write_markdown() into docs/schema.md. A
 * field added here is therefore validated, defaulted and documented at once.
 * Rules a table cannot express (a field required only for one backing type,
 * a default that depends on the node count) live in the kind's finish hook
 * and are stated in the field's doc text so the generated docs say them.
 */
#include <string.h>
#include <strings.h>

#include "bl_schema_int.h"

#define END { .name = NULL }

/* ---- metadata ------------------------------------------------------------*/

const struct bl_field bl_metadata_fields[] = {
	{ .name = "name", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .fmt = &bl_fmt_name,
	  .doc = "Name, unique per kind." },
	{ .name = "labels", .type = BL_F_STRMAP, .fmt = &bl_fmt_label_value,
	  .doc = "String key/value pairs that selectors (Rollout) match, "
		 "with Kubernetes' syntax for keys and values. Quote values "
		 "that look like numbers or booleans." },
	{ .name = "annotations", .type = BL_F_STRMAP,
	  .doc = "Free-form string key/value pairs; not interpreted." },
	{ .name = "uid", .type = BL_F_STRING, .flags = BL_FF_SERVER,
	  .doc = "Server-owned: assigned on creation. Ignored on input." },
	{ .name = "generation", .type = BL_F_INT, .flags = BL_FF_SERVER,
	  .min = 0, .max = INT64_MAX,
	  .doc = "Server-owned: incremented on every spec change. Ignored on "
		 "input." },
	{ .name = "resourceVersion", .type = BL_F_INT, .flags = BL_FF_SERVER,
	  .min = 0, .max = INT64_MAX,
	  .doc = "Server-owned: the store revision of the object. Ignored on "
		 "input." },
	{ .name = "creationTimestamp", .type = BL_F_STRING,
	  .flags = BL_FF_SERVER,
	  .doc = "Server-owned: RFC 3339 UTC creation time. Ignored on input." },
	END
};

/* ---- Cluster -------------------------------------------------------------*/

static const struct bl_field node_fields[] = {
	{ .name = "name", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .fmt = &bl_fmt_nodename,
	  .doc = "The node's host name, as `uname -n` prints it: the bollardd "
		 "on that host serves this node. Unique within the cluster." },
	{ .name = "address", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .fmt = &bl_fmt_host,
	  .doc = "Management address (IPv4, IPv6 or DNS name) of the node." },
	{ .name = "replicationAddress", .type = BL_F_STRING,
	  .fmt = &bl_fmt_host,
	  .def_doc = "`address`",
	  .doc = "Address DRBD replication traffic uses, ideally on a "
		 "dedicated back-to-back link." },
	END
};

static const struct bl_field node_item = {
	.type = BL_F_OBJECT, .sub = node_fields,
};

/* Pacemaker operation settings. Why configurable: the agents' run times
 * vary by orders of magnitude (a DRBD probe takes well under a second on
 * hardware and over 20 s in an emulated test VM), and Pacemaker uses the
 * recurring monitor's timeout for the initial probe too: a probe that
 * times out counts as a failure and costs a stop/start cycle. */
static const char *const drbd_agent_enum[] = { "bollard", "linbit", NULL };
static const char *const address_agent_enum[] = { "bollard", "heartbeat", NULL };

static const struct bl_field pacemaker_fields[] = {
	{ .name = "opTimeout", .type = BL_F_INT, .min = 5, .max = 3600,
	  .def = "60",
	  .doc = "Seconds: timeout of every monitor (and so of the probes), "
		 "and the least timeout of start, stop, promote and demote "
		 "(which keep their own larger defaults: start 120 s, DRBD "
		 "start 240 s, promote/demote 90 s, stop 60-100 s)." },
	{ .name = "monitorInterval", .type = BL_F_INT, .min = 1, .max = 3600,
	  .def = "10",
	  .doc = "Seconds between monitors of the Target's resources (service "
		 "addresses, the target); DRBD clones are monitored every "
		 "3 x interval - 1 s as Promoted and 3 x interval + 1 s as "
		 "Unpromoted (Pacemaker needs the two to differ)." },
	{ .name = "drbdAgent", .type = BL_F_STRING, .enums = drbd_agent_enum,
	  .def = "\"bollard\"",
	  .doc = "Resource agent of the DRBD clones. `bollard`: "
		 "ocf:bollard:drbd (deploy/ocf/bollard-drbd, notify=false): "
		 "a node's promotion score comes from its own disk state "
		 "(UpToDate only) and promote never forces DRBD; a failover "
		 "runs the agent once; DRBD's fence-peer handler is "
		 "bollard's (deploy/drbd/bollard-fence-peer). `linbit`: "
		 "ocf:linbit:drbd from drbd-utils (notify=true), for sites "
		 "that depend on it; a failover runs it about five times in "
		 "sequence (its notifications); DRBD's fence-peer handler is "
		 "drbd-utils' crm-fence-peer." },
	{ .name = "addressAgent", .type = BL_F_STRING, .enums = address_agent_enum,
	  .def = "\"bollard\"",
	  .doc = "Resource agent of the service addresses. `bollard`: "
		 "ocf:bollard:address (deploy/ocf/bollard-address): a POSIX "
		 "sh agent that adds the address with two `ip` runs and sends "
		 "its gratuitous ARPs (IPv6: unsolicited neighbour "
		 "advertisements) in the background, so a failover's start "
		 "does not wait for them. `heartbeat`: ocf:heartbeat:IPaddr2 "
		 "from resource-agents, a large bash script (seconds per start "
		 "in small or emulated nodes). Switching restarts each "
		 "Target's group once." },
	END
};

static const char *const quorum_enum[] = { "majority", "none", NULL };
static const char *const ha_enum[] = { "pacemaker", "none", NULL };

static const struct bl_field cluster_fields[] = {
	{ .name = "nodes", .type = BL_F_ARRAY, .flags = BL_FF_REQUIRED,
	  .sub = &node_item, .unique = "name", .min = 1, .max = 32,
	  .doc = "The appliance nodes." },
	{ .name = "quorum", .type = BL_F_STRING, .enums = quorum_enum,
	  .def_doc = "`majority` with 3 or more nodes, else `none`",
	  .doc = "Quorum policy. `none` lets a two-node cluster keep running "
		 "after losing its peer (DRBD and fencing guard the data)." },
	{ .name = "ha", .type = BL_F_STRING, .enums = ha_enum,
	  .def = "\"none\"",
	  .doc = "`pacemaker`: corosync/Pacemaker decide where each Target "
		 "runs and move it on failure. `none`: every Target is served "
		 "by the first node." },
	{ .name = "pacemaker", .type = BL_F_OBJECT, .sub = pacemaker_fields,
	  .doc = "Operation timeouts and intervals of the resources bollard "
		 "puts in the CIB (with `ha: pacemaker`). Absent: the "
		 "defaults below." },
	END
};

static void cluster_finish(struct bl_vctx *v, json_t *spec)
{
	size_t nn = json_array_size(json_object_get(spec, "nodes"));
	const char *ha = json_string_value(json_object_get(spec, "ha"));
	const char *q;

	if (!json_object_get(spec, "quorum"))
		json_object_set_new(spec, "quorum",
				    json_string(nn > 2 ? "majority" : "none"));
	q = json_string_value(json_object_get(spec, "quorum"));
	if (q && !strcmp(q, "majority") && nn == 2)
		bl_vwarn(v, "spec.quorum", false,
			 "majority quorum with 2 nodes stops the cluster when "
			"either node fails; use quorum: none for two nodes");
	if (ha && !strcmp(ha, "pacemaker") && nn < 2)
		bl_verr(v, "spec.ha", false,
			"ha: pacemaker needs at least 2 nodes");
}

/* ---- Volume --------------------------------------------------------------*/

static const char *const backing_enum[] = { "lvm", "file", "device", NULL };

static const struct bl_field backing_fields[] = {
	{ .name = "type", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .enums = backing_enum,
	  .doc = "`lvm`: a logical volume in `vg` (created by bollardd); "
		 "`file`: a file at `path` (created sparse); `device`: an "
		 "existing block device at `path`." },
	{ .name = "vg", .type = BL_F_STRING, .maxlen = 127,
	  .doc = "LVM volume group; required for `lvm`, not allowed "
		 "otherwise. The logical volume is named after the Volume." },
	{ .name = "path", .type = BL_F_STRING, .maxlen = 4095,
	  .doc = "Required for `file` and `device`, not allowed for `lvm`. "
		 "A relative `file` path is resolved against bollardd's state "
		 "directory; a `device` path must be absolute." },
	END
};

static const char *const protocol_enum[] = { "A", "B", "C", NULL };
static const char *const none_enum[] = { "none", NULL };

static const struct bl_field replication_fields[] = {
	{ .name = "protocol", .type = BL_F_STRING, .enums = protocol_enum,
	  .def = "\"C\"",
	  .doc = "DRBD protocol: `C` (synchronous, a write completes when "
		 "both nodes have it: the only safe choice for failover), `B` "
		 "or `A` (asynchronous)." },
	{ .name = "port", .type = BL_F_INT, .min = 1, .max = 65535,
	  .def_doc = "7788 + minor, chosen at apply",
	  .doc = "TCP port of the DRBD connection." },
	{ .name = "minor", .type = BL_F_INT, .min = 0, .max = 1048575,
	  .def_doc = "allocated at apply",
	  .doc = "DRBD minor number (/dev/drbdN). Kept once allocated." },
	{ .name = "pingInterval", .type = BL_F_INT, .min = 1, .max = 120,
	  .def_doc = "2 with the Cluster's `ha: pacemaker`, else DRBD's 10",
	  .doc = "Seconds: DRBD's net ping-int, how often an idle connection "
		 "checks that the peer is alive. A Secondary whose Primary "
		 "died silently keeps seeing it as Primary until then, and "
		 "cannot be promoted before: under Pacemaker it bounds the "
		 "failover time, so bollard lowers it there." },
	{ .name = "pingTimeout", .type = BL_F_INT, .min = 100, .max = 30000,
	  .def_doc = "DRBD's 500",
	  .doc = "Milliseconds (rounded up to tenths of a second): DRBD's net "
		 "ping-timeout, how long a ping answer may take before the "
		 "connection is dropped. Raise it where the nodes stall for "
		 "longer (a dropped connection reconnects and resyncs; with "
		 "Pacemaker the Primary briefly freezes I/O while its "
		 "fence-peer handler runs)." },
	END
};

static const struct bl_field volume_fields[] = {
	{ .name = "cluster", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .fmt = &bl_fmt_name,
	  .doc = "The Cluster whose nodes hold this Volume." },
	{ .name = "size", .type = BL_F_SIZE, .flags = BL_FF_REQUIRED,
	  .doc = "Capacity: a number of bytes or a size with a binary unit "
		 "(K, M, G, T, P = powers of 1024, also written Ki, Mi, Gi, "
		 "Ti, Pi). A positive multiple of 512 bytes. Stored as bytes." },
	{ .name = "backing", .type = BL_F_OBJECT, .flags = BL_FF_REQUIRED,
	  .sub = backing_fields,
	  .doc = "Where the data lives on each node." },
	{ .name = "replication", .type = BL_F_STR_OR_OBJ,
	  .flags = BL_FF_REQUIRED, .enums = none_enum,
	  .sub = replication_fields,
	  .doc = "`none` (a single node, or storage every node already "
		 "shares) or the DRBD settings that mirror the Volume between "
		 "the cluster's two nodes." },
	{ .name = "deletionPolicy", .type = BL_F_STRING,
	  .enums = (const char *const[]){ "Retain", "Delete", NULL },
	  .def = "\"Retain\"",
	  .doc = "What deleting the Volume does to its data: `Retain` keeps "
		 "the LV/file, `Delete` removes it." },
	END
};

static void volume_finish(struct bl_vctx *v, json_t *spec)
{
	json_t *b = json_object_get(spec, "backing");
	const char *type = json_string_value(json_object_get(b, "type"));
	const char *path = json_string_value(json_object_get(b, "path"));
	bool has_vg = json_object_get(b, "vg") != NULL;
	json_int_t size = json_integer_value(json_object_get(spec, "size"));

	if (size % 512)
		bl_verr(v, "spec.size", false,
			"%lld bytes is not a multiple of 512", (long long)size);
	if (!type)
		return;
	if (!strcmp(type, "lvm")) {
		if (!has_vg)
			bl_verr(v, "spec.backing.vg", false,
				"vg is required for lvm backing");
		if (path)
			bl_verr(v, "spec.backing.path", true,
				"path is not allowed for lvm backing "
				"(the LV is named after the Volume)");
	} else {
		if (has_vg)
			bl_verr(v, "spec.backing.vg", true,
				"vg is only allowed for lvm backing");
		if (!path)
			bl_verr(v, "spec.backing.path", false,
				"path is required for %s backing", type);
		else if (!strcmp(type, "device") && path[0] != '/')
			bl_verr(v, "spec.backing.path", false,
				"a device path must be absolute");
		else if (!*path)
			bl_verr(v, "spec.backing.path", false,
				"path must not be empty");
	}
}

/* ---- Target --------------------------------------------------------------*/

static const struct bl_field cidr_item = {
	.type = BL_F_STRING, .fmt = &bl_fmt_cidr,
};

static const struct bl_field lun_fields[] = {
	{ .name = "lun", .type = BL_F_INT, .flags = BL_FF_REQUIRED,
	  .min = 0, .max = 16383,
	  .doc = "LUN number, unique within the Target." },
	{ .name = "volume", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .fmt = &bl_fmt_name,
	  .doc = "The Volume exported as this LUN; it must be in the Target's "
		 "cluster, and a Volume may appear only once per Target." },
	END
};
static const struct bl_field lun_item = {
	.type = BL_F_OBJECT, .sub = lun_fields,
};

static const struct bl_field acl_fields[] = {
	{ .name = "initiator", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .fmt = &bl_fmt_initiator,
	  .doc = "Initiator allowed to log in, unique within the Target." },
	{ .name = "chapSecretRef", .type = BL_F_STRING, .fmt = &bl_fmt_name,
	  .doc = "Secret holding the CHAP credentials this initiator must "
		 "present (overrides `auth.chapSecretRef`)." },
	END
};
static const struct bl_field acl_item = {
	.type = BL_F_OBJECT, .sub = acl_fields,
};

static const struct bl_field auth_fields[] = {
	{ .name = "chapSecretRef", .type = BL_F_STRING, .fmt = &bl_fmt_name,
	  .doc = "Secret with the CHAP credentials every initiator must "
		 "present." },
	{ .name = "mutualChapSecretRef", .type = BL_F_STRING,
	  .fmt = &bl_fmt_name,
	  .doc = "Secret with the credentials the target presents back "
		 "(mutual CHAP). Needs one-way CHAP for every initiator: "
		 "`chapSecretRef` here or on every ACL." },
	END
};

static const struct bl_field sessions_fields[] = {
	{ .name = "maxPerInitiator", .type = BL_F_INT, .min = 1, .max = 64,
	  .def = "2",
	  .doc = "Sessions one initiator may hold at once (multipath "
		 "paths)." },
	END
};

static const struct bl_field features_fields[] = {
	{ .name = "compareAndWrite", .type = BL_F_BOOL, .def = "true",
	  .doc = "COMPARE AND WRITE (VMware ATS locking)." },
	{ .name = "extendedCopy", .type = BL_F_BOOL, .def = "true",
	  .doc = "EXTENDED COPY (VMware XCOPY clone offload)." },
	{ .name = "unmap", .type = BL_F_BOOL, .def = "true",
	  .doc = "UNMAP (thin provisioning space reclaim)." },
	{ .name = "writeSame", .type = BL_F_BOOL, .def = "true",
	  .doc = "WRITE SAME (block zeroing offload)." },
	{ .name = "persistentReservations", .type = BL_F_BOOL, .def = "true",
	  .doc = "Keep persistent reservation state in the last MiB of each "
		 "LUN's volume, so registrations and reservations survive a "
		 "restart and a failover to the DRBD peer. That MiB is not part "
		 "of the LUN's capacity. A LUN whose last MiB holds other data is "
		 "refused, never overwritten: turn this off to export such a "
		 "volume (PR state then lives in memory only). Create-only: a "
		 "change on a live LUN is reported, not applied." },
	END
};

static const struct bl_field target_fields[] = {
	{ .name = "cluster", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .fmt = &bl_fmt_name,
	  .doc = "The Cluster that serves this Target." },
	{ .name = "iqn", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .fmt = &bl_fmt_iqn, .maxlen = 223,
	  .doc = "The target's iSCSI name: `iqn.YYYY-MM.reversed.domain[:id]`, "
		 "`eui.` + 16 hex digits or `naa.` + 16 or 32 hex digits." },
	{ .name = "serviceAddresses", .type = BL_F_ARRAY, .def = "[]",
	  .sub = &cidr_item, .flags = BL_FF_UNIQUE, .max = 16,
	  .doc = "Floating addresses (IPv4 or IPv6, with prefix length) the "
		 "target listens on, moved with it on failover. Empty: every "
		 "address of the serving node." },
	{ .name = "port", .type = BL_F_INT, .min = 1, .max = 65535,
	  .def = "3260",
	  .doc = "TCP port of the iSCSI portal." },
	{ .name = "luns", .type = BL_F_ARRAY, .def = "[]", .sub = &lun_item,
	  .unique = "lun", .max = 16384,
	  .doc = "Logical units, each a Volume. LUN numbers and Volumes are "
		 "unique within the Target." },
	{ .name = "acls", .type = BL_F_ARRAY, .def = "[]", .sub = &acl_item,
	  .unique = "initiator", .max = 4096,
	  .doc = "Initiators allowed to log in. Empty: nobody." },
	{ .name = "auth", .type = BL_F_OBJECT, .sub = auth_fields,
	  .doc = "CHAP for every initiator." },
	{ .name = "sessions", .type = BL_F_OBJECT, .flags = BL_FF_FILL,
	  .sub = sessions_fields,
	  .doc = "Session limits." },
	{ .name = "features", .type = BL_F_OBJECT, .flags = BL_FF_FILL,
	  .sub = features_fields,
	  .doc = "SCSI offloads advertised to initiators (VMware VAAI)." },
	END
};

static void target_finish(struct bl_vctx *v, json_t *spec)
{
	json_t *luns = json_object_get(spec, "luns");
	json_t *auth = json_object_get(spec, "auth");
	json_t *seen;
	size_t i, j;
	char path[64];

	/* A Volume exported twice under one Target would be two LUNs with
	 * one identity: initiators' multipathing would merge them. */
	seen = json_object();
	for (i = 0; seen && i < json_array_size(luns); i++) {
		json_t *lun = json_array_get(luns, i);
		const char *vi = json_string_value(json_object_get(lun,
								   "volume"));
		json_t *prev;

		if (!vi)
			continue;
		prev = json_object_get(seen, vi);
		if (!prev) {
			json_object_set_new(seen, vi, json_integer((json_int_t)i));
			continue;
		}
		j = (size_t)json_integer_value(prev);
		snprintf(path, sizeof(path), "spec.luns[%zu].volume", i);
		bl_verr(v, path, false, "Volume '%s' is already LUN %lld "
			"(spec.luns[%zu])", vi,
			(long long)json_integer_value(json_object_get(
				json_array_get(luns, j), "lun")), j);
	}
	json_decref(seen);
	/* Mutual CHAP answers one-way CHAP: every initiator must have
	 * credentials, target-wide or its own. */
	if (json_object_get(auth, "mutualChapSecretRef") &&
	    !json_object_get(auth, "chapSecretRef")) {
		json_t *acls = json_object_get(spec, "acls");

		for (i = 0; i < json_array_size(acls); i++)
			if (!json_object_get(json_array_get(acls, i),
					     "chapSecretRef"))
				break;
		if (i < json_array_size(acls) || i == 0)
			bl_verr(v, "spec.auth.mutualChapSecretRef", true,
				"mutual CHAP needs one-way CHAP for every "
				"initiator: set auth.chapSecretRef or a "
				"chapSecretRef on every ACL");
	}
}

/* ---- Secret --------------------------------------------------------------*/

static const struct bl_field secret_fields[] = {
	{ .name = "username", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .minlen = 1, .maxlen = 255,
	  .doc = "CHAP user name." },
	{ .name = "password", .type = BL_F_STRING, .flags = BL_FF_REQUIRED,
	  .minlen = 12, .maxlen = 255,
	  .doc = "CHAP secret, 12 to 255 bytes (RFC 7143 wants at least 12). "
		 "12 to 16 suits every common initiator: Microsoft's accepts "
		 "no other length. Never printed by get/describe." },
	END
};

/* ---- Rollout -------------------------------------------------------------*/

static const struct bl_field selector_fields[] = {
	{ .name = "matchLabels", .type = BL_F_STRMAP,
	  .fmt = &bl_fmt_label_value,
	  .doc = "Every label listed must be present with this value. "
		 "Empty: matches everything." },
	END
};

static const struct bl_field wave_item = {
	.type = BL_F_INTPCT, .min = 1, .max = 1000000,
};

static const struct bl_field strategy_fields[] = {
	{ .name = "canary", .type = BL_F_INT, .min = 0, .max = 1000000,
	  .def = "1",
	  .doc = "Clusters updated first, alone, before any wave (0: no "
		 "canary)." },
	{ .name = "waves", .type = BL_F_ARRAY, .def = "[]", .sub = &wave_item,
	  .max = 100,
	  .doc = "The waves after the canary. An integer is the number of "
		 "clusters in that wave; a percentage (\"25%\") is the share "
		 "of the selected clusters updated by the end of that wave, "
		 "so percentages must increase. Clusters left after the last "
		 "wave form one more wave. Empty: one wave with the rest." },
	{ .name = "maxUnavailable", .type = BL_F_INTPCT, .min = 1,
	  .max = 1000000, .def = "1",
	  .doc = "Clusters of a wave allowed to be unhealthy at once: a count "
		 "or a percentage of the wave." },
	END
};

static const struct bl_field gate_fields[] = {
	{ .name = "stableFor", .type = BL_F_DURATION, .def = "\"30s\"",
	  .doc = "How long a cluster must stay healthy before it counts as "
		 "done (`30s`, `5m`, `1h30m`, `500ms`)." },
	{ .name = "timeout", .type = BL_F_DURATION, .def = "\"10m\"",
	  .doc = "How long a cluster may take to become healthy before the "
		 "rollout fails; at least `stableFor`." },
	END
};

static const struct bl_field rollout_fields[] = {
	{ .name = "clusterSelector", .type = BL_F_OBJECT,
	  .flags = BL_FF_REQUIRED, .sub = selector_fields,
	  .doc = "Which Clusters the rollout covers, by their labels." },
	{ .name = "objectSelector", .type = BL_F_OBJECT,
	  .sub = selector_fields,
	  .doc = "Which objects of those clusters change, by their labels. "
		 "Absent: all of them." },
	{ .name = "strategy", .type = BL_F_OBJECT, .flags = BL_FF_FILL,
	  .sub = strategy_fields,
	  .doc = "Order and pace: canary, then waves." },
	{ .name = "healthGate", .type = BL_F_OBJECT, .flags = BL_FF_FILL,
	  .sub = gate_fields,
	  .doc = "When an updated cluster counts as healthy." },
	{ .name = "onFailure", .type = BL_F_STRING,
	  .enums = (const char *const[]){ "halt", "rollback", NULL },
	  .def = "\"halt\"",
	  .doc = "`halt`: stop and leave updated clusters as they are; "
		 "`rollback`: return updated clusters to the previous "
		 "generation." },
	{ .name = "paused", .type = BL_F_BOOL, .def = "false",
	  .doc = "Set to stop admitting clusters at once; clusters already admitted finish their health gate." },
	END
};

static void rollout_finish(struct bl_vctx *v, json_t *spec)
{
	json_t *waves = json_object_get(json_object_get(spec, "strategy"),
					"waves");
	json_t *gate = json_object_get(spec, "healthGate");
	int64_t last = 0, pct;
	uint64_t stable = 0, timeout = 0;
	size_t i;
	char path[64];

	for (i = 0; i < json_array_size(waves); i++) {
		const char *s = json_string_value(json_array_get(waves, i));

		if (!s || !bl_valid_percent(s, &pct))
			continue;
		if (pct <= last) {
			snprintf(path, sizeof(path), "spec.strategy.waves[%zu]",
				 i);
			bl_verr(v, path, false,
				"percentages must increase (%lld%% follows "
				"%lld%%)", (long long)pct, (long long)last);
		}
		last = pct;
	}
	if (!bl_parse_duration(json_string_value(
		json_object_get(gate, "stableFor")), &stable) &&
	    !bl_parse_duration(json_string_value(
		json_object_get(gate, "timeout")), &timeout) &&
	    timeout < stable)
		bl_verr(v, "spec.healthGate.timeout", false,
			"timeout is shorter than stableFor");
}

/* ---- the kinds -----------------------------------------------------------*/

static const struct bl_kind kind_cluster = {
	"Cluster", "clusters", "cl", "spec", cluster_fields, cluster_finish,
	"An appliance cluster: the nodes that serve Volumes and Targets "
	"together, and how they fail over.",
};
static const struct bl_kind kind_secret = {
	"Secret", "secrets", "sec", "data", secret_fields, NULL,
	"CHAP credentials referred to by Targets. Uses `data`, not `spec`; "
	"its values are never printed back.",
};
static const struct bl_kind kind_volume = {
	"Volume", "volumes", "vol", "spec", volume_fields, volume_finish,
	"A block volume on a Cluster's nodes, optionally mirrored by DRBD.",
};
static const struct bl_kind kind_target = {
	"Target", "targets", "tgt", "spec", target_fields, target_finish,
	"An iSCSI target: its name, portal, LUNs (Volumes), access control "
	"and SCSI features.",
};
static const struct bl_kind kind_rollout = {
	"Rollout", "rollouts", "ro", "spec", rollout_fields, rollout_finish,
	"A staged change across many Clusters: a canary, then waves, each "
	"gated on health.",
};

/* Apply order. */
static const struct bl_kind *const all_kinds[] = {
	&kind_cluster, &kind_secret, &kind_volume, &kind_target,
	&kind_rollout, NULL,
};
static const char *const kind_names[] = {
	"Cluster", "Secret", "Volume", "Target", "Rollout", NULL,
};

const struct bl_kind *const *bl_kinds(void)
{
	return all_kinds;
}

const struct bl_kind *bl_kind_get(const char *canonical)
{
	size_t i;

	for (i = 0; canonical && all_kinds[i]; i++)
		if (!strcmp(all_kinds[i]->kind, canonical))
			return all_kinds[i];
	return NULL;
}

const char *bl_kind_lookup(const char *name)
{
	size_t i;

	for (i = 0; name && all_kinds[i]; i++) {
		const struct bl_kind *k = all_kinds[i];

		if (!strcasecmp(name, k->kind) || !strcasecmp(name, k->plural) ||
		    !strcasecmp(name, k->shortname))
			return k->kind;
	}
	return NULL;
}

const char *const *bl_kind_names(void)
{
	return kind_names;
}

int bl_kind_rank(const char *kind)
{
	int i;

	for (i = 0; kind && kind_names[i]; i++)
		if (!strcmp(kind_names[i], kind))
			return i;
	return -1;
}
