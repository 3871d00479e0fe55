/*
 * target_print.c - output formats for `bollard target` (target_print.h).
 * JSON goes through jansson; the YAML is written by hand with every string
 * double-quoted (JSON escapes are valid YAML), so no YAML emitter is needed.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#include "target_print.h"

int tp_format_parse(const char *s)
{
	if (!strcmp(s, "json"))
		return TP_JSON;
	if (!strcmp(s, "yaml"))
		return TP_YAML;
	if (!strcmp(s, "table") || !strcmp(s, "wide"))
		return TP_TABLE;
	return -1;
}

/* ---- JSON ----------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The attribute's name, or "unknown" for a code this client does not know. */
static const char *alua_name(uint64_t state)
{
	const char *n = btc_alua_state_name(state);

	return n ? n : "unknown";
}

static json_t *target_json(const struct btc_target *t)
{
	json_t *o = json_object(), *a, *l;
	size_t i;

	json_object_set_new(o, "iqn", jstr(t->iqn));
	json_object_set_new(o, "enabled", json_boolean(t->enabled));
	json_object_set_new(o, "sessions", json_integer(t->nsessions));
	a = json_object();
	json_object_set_new(a, "maxSessionsPerInitiator",
			    json_integer((json_int_t)t->attrs.max_sessions_per_initiator));
	json_object_set_new(a, "maxSessions", json_integer((json_int_t)t->attrs.max_sessions));
	json_object_set_new(a, "nopIntervalMs", json_integer((json_int_t)t->attrs.nop_interval_ms));
	json_object_set_new(a, "nopTimeoutMs", json_integer((json_int_t)t->attrs.nop_timeout_ms));
	json_object_set_new(a, "demoMode", json_boolean(t->attrs.demo_mode));
	if (t->attrs.owner)
		json_object_set_new(a, "owner", json_integer((json_int_t)t->attrs.owner));
	if (t->attrs.alua_group) {
		json_object_set_new(a, "aluaGroup", json_integer((json_int_t)t->attrs.alua_group));
		json_object_set_new(a, "aluaState", jstr(alua_name(t->attrs.alua_state)));
	}
	if (t->attrs.alua_peer_group) {
		json_object_set_new(a, "aluaPeerGroup",
				    json_integer((json_int_t)t->attrs.alua_peer_group));
		json_object_set_new(a, "aluaPeerState", jstr(alua_name(t->attrs.alua_peer_state)));
	}
	json_object_set_new(o, "attributes", a);
	a = json_array();
	for (i = 0; i < t->nportals; i++)
		json_array_append_new(a, jstr(t->portals[i]));
	json_object_set_new(o, "portals", a);
	a = json_array();
	for (i = 0; i < t->nluns; i++) {
		const struct btc_lun *x = &t->luns[i];

		l = json_object();
		json_object_set_new(l, "lun", json_integer((json_int_t)x->lun));
		json_object_set_new(l, "path", jstr(x->path));
		json_object_set_new(l, "uid", jstr(x->uid));
		json_object_set_new(l, "naa", jstr(x->naa));
		json_object_set_new(l, "serial", jstr(x->serial));
		json_object_set_new(l, "blocks", json_integer((json_int_t)x->blocks));
		json_object_set_new(l, "blockSize", json_integer(x->block_size));
		json_object_set_new(l, "readonly", json_boolean(x->readonly));
		json_object_set_new(l, "features", json_integer((json_int_t)x->features));
		json_object_set_new(l, "attached", json_boolean(x->attached));
		json_array_append_new(a, l);
	}
	json_object_set_new(o, "luns", a);
	if (t->more_luns)   /* a page (btc_dump_page): the rest from here */
		json_object_set_new(o, "nextLun", json_integer((json_int_t)t->next_lun));
	a = json_array();
	for (i = 0; i < t->nacls; i++) {
		l = json_object();
		json_object_set_new(l, "initiator", jstr(t->acls[i].initiator));
		json_object_set_new(l, "chapUser", jstr(t->acls[i].chap_user));
		if (t->acls[i].chap_digest)
			json_object_set_new(l, "chapDigest", jstr(t->acls[i].chap_digest));
		json_array_append_new(a, l);
	}
	json_object_set_new(o, "acls", a);
	a = json_object();
	json_object_set_new(a, "chapUser", jstr(t->auth.chap_user));
	json_object_set_new(a, "mutualUser", jstr(t->auth.mutual_user));
	if (t->auth.chap_digest)
		json_object_set_new(a, "chapDigest", jstr(t->auth.chap_digest));
	if (t->auth.mutual_digest)
		json_object_set_new(a, "mutualDigest", jstr(t->auth.mutual_digest));
	json_object_set_new(o, "auth", a);
	return o;
}

static int dump_json(FILE *out, json_t *root)
{
	int rc;

	if (!root)
		return -ENOMEM;
	rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return rc < 0 ? -EIO : 0;
}

/* ---- YAML ----------------------------------------------------------------- */

static void yq(FILE *out, const char *s)
{
	const unsigned char *p;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void target_yaml(FILE *out, const struct btc_target *t)
{
	size_t i;

	fputs("- iqn: ", out);
	yq(out, t->iqn);
	fprintf(out, "\n  enabled: %s\n  sessions: %u\n", t->enabled ? "true" : "false",
		t->nsessions);
	fprintf(out, "  attributes:\n    maxSessionsPerInitiator: %" PRIu64
		"\n    maxSessions: %" PRIu64 "\n    nopIntervalMs: %" PRIu64
		"\n    nopTimeoutMs: %" PRIu64 "\n    demoMode: %s\n",
		t->attrs.max_sessions_per_initiator, t->attrs.max_sessions,
		t->attrs.nop_interval_ms, t->attrs.nop_timeout_ms,
		t->attrs.demo_mode ? "true" : "false");
	if (t->attrs.alua_group)
		fprintf(out, "    aluaGroup: %" PRIu64 "\n    aluaState: %s\n",
			t->attrs.alua_group, alua_name(t->attrs.alua_state));
	if (t->attrs.alua_peer_group)
		fprintf(out, "    aluaPeerGroup: %" PRIu64 "\n    aluaPeerState: %s\n",
			t->attrs.alua_peer_group, alua_name(t->attrs.alua_peer_state));
	fputs(t->nportals ? "  portals:\n" : "  portals: []\n", out);
	for (i = 0; i < t->nportals; i++) {
		fputs("  - ", out);
		yq(out, t->portals[i]);
		fputc('\n', out);
	}
	fputs(t->nluns ? "  luns:\n" : "  luns: []\n", out);
	for (i = 0; i < t->nluns; i++) {
		const struct btc_lun *l = &t->luns[i];

		fprintf(out, "  - lun: %" PRIu64 "\n    path: ", l->lun);
		yq(out, l->path);
		fputs("\n    uid: ", out);
		yq(out, l->uid);
		fputs("\n    naa: ", out);
		yq(out, l->naa);
		fputs("\n    serial: ", out);
		yq(out, l->serial);
		fprintf(out, "\n    blocks: %" PRIu64 "\n    blockSize: %u\n"
			"    readonly: %s\n    features: %u\n    attached: %s\n",
			l->blocks, l->block_size, l->readonly ? "true" : "false",
			(unsigned)l->features, l->attached ? "true" : "false");
	}
	fputs(t->nacls ? "  acls:\n" : "  acls: []\n", out);
	for (i = 0; i < t->nacls; i++) {
		fputs("  - initiator: ", out);
		yq(out, t->acls[i].initiator);
		fputs("\n    chapUser: ", out);
		yq(out, t->acls[i].chap_user);
		fputc('\n', out);
	}
	fputs("  auth:\n    chapUser: ", out);
	yq(out, t->auth.chap_user);
	fputs("\n    mutualUser: ", out);
	yq(out, t->auth.mutual_user);
	fputc('\n', out);
}

/* ---- table ---------------------------------------------------------------- */

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void target_table(FILE *out, const struct btc_target *t)
{
	size_t i;

	fprintf(out, "Target %s\n", t->iqn);
	fprintf(out, "  State:      %s, %u session(s)\n",
		t->enabled ? "enabled" : "disabled", t->nsessions);
	fprintf(out, "  Attributes: maxSessionsPerInitiator=%" PRIu64
		" maxSessions=%" PRIu64 " nopIntervalMs=%" PRIu64
		" nopTimeoutMs=%" PRIu64 " demoMode=%s\n",
		t->attrs.max_sessions_per_initiator, t->attrs.max_sessions,
		t->attrs.nop_interval_ms, t->attrs.nop_timeout_ms,
		t->attrs.demo_mode ? "true" : "false");
	if (t->attrs.alua_group) {
		fprintf(out, "  ALUA:       group %" PRIu64 " %s", t->attrs.alua_group,
			alua_name(t->attrs.alua_state));
		if (t->attrs.alua_peer_group)
			fprintf(out, ", peer group %" PRIu64 " %s",
				t->attrs.alua_peer_group,
				alua_name(t->attrs.alua_peer_state));
		fputc('\n', out);
	}
	fprintf(out, "  Auth:       chap-user=%s mutual-user=%s\n",
		or_dash(t->auth.chap_user), or_dash(t->auth.mutual_user));
	fputs("  Portals:   ", out);
	for (i = 0; i < t->nportals; i++)
		fprintf(out, " %s", t->portals[i]);
	fputs(t->nportals ? "\n" : " -\n", out);
	fprintf(out, "  ACLs:       %zu\n", t->nacls);
	for (i = 0; i < t->nacls; i++)
		fprintf(out, "    %-48s chap-user=%s\n", t->acls[i].initiator,
			or_dash(t->acls[i].chap_user));
	fprintf(out, "  LUNs:       %zu\n", t->nluns);
	if (t->nluns)
		fprintf(out, "    %-5s %-8s %-12s %-6s %-32s %s\n", "LUN",
			"ATTACHED", "BLOCKS", "BS", "NAA", "PATH");
	for (i = 0; i < t->nluns; i++) {
		const struct btc_lun *l = &t->luns[i];

		fprintf(out, "    %-5" PRIu64 " %-8s %-12" PRIu64 " %-6u %-32s %s%s\n",
			l->lun, l->attached ? "yes" : "no", l->blocks,
			l->block_size, or_dash(l->naa), or_dash(l->path),
			l->readonly ? " (ro)" : "");
	}
}

int tp_print_state(FILE *out, const struct btc_state *s, enum tp_format f)
{
	size_t i;

	if (f == TP_JSON) {
		json_t *root = json_object(), *arr = json_array();

		for (i = 0; i < s->ntargets; i++)
			json_array_append_new(arr, target_json(&s->targets[i]));
		json_object_set_new(root, "targets", arr);
		return dump_json(out, root);
	}
	if (f == TP_YAML) {
		fputs(s->ntargets ? "targets:\n" : "targets: []\n", out);
		for (i = 0; i < s->ntargets; i++)
			target_yaml(out, &s->targets[i]);
		return 0;
	}
	if (!s->ntargets)
		fputs("No targets.\n", out);
	for (i = 0; i < s->ntargets; i++) {
		if (i)
			fputc('\n', out);
		target_table(out, &s->targets[i]);
	}
	return 0;
}

static void isid_hex(const uint8_t *isid, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 6; i++) {
		buf[2 * i] = hex[isid[i] >> 4];
		buf[2 * i + 1] = hex[isid[i] & 15];
	}
	buf[12] = 0;
}

int tp_print_sessions(FILE *out, const struct btc_session *s, size_t n,
		      enum tp_format f)
{
	char isid[13];
	size_t i;

	if (f == TP_JSON) {
		json_t *root = json_object(), *arr = json_array();

		for (i = 0; i < n; i++) {
			json_t *o = json_object();

			isid_hex(s[i].isid, isid);
			json_object_set_new(o, "target", jstr(s[i].target));
			json_object_set_new(o, "initiator", jstr(s[i].initiator));
			json_object_set_new(o, "isid", json_string(isid));
			json_object_set_new(o, "tsih", json_integer(s[i].tsih));
			json_object_set_new(o, "id", json_integer((json_int_t)s[i].id));
			json_object_set_new(o, "connections", json_integer(s[i].nconns));
			json_object_set_new(o, "peer", jstr(s[i].peer));
			json_object_set_new(o, "local", jstr(s[i].local));
			json_object_set_new(o, "commands", json_integer((json_int_t)s[i].cmds));
			json_array_append_new(arr, o);
		}
		json_object_set_new(root, "sessions", arr);
		return dump_json(out, root);
	}
	if (f == TP_YAML) {
		fputs(n ? "sessions:\n" : "sessions: []\n", out);
		for (i = 0; i < n; i++) {
			isid_hex(s[i].isid, isid);
			fputs("- target: ", out);
			yq(out, s[i].target);
			fputs("\n  initiator: ", out);
			yq(out, s[i].initiator);
			fprintf(out, "\n  isid: \"%s\"\n  tsih: %u\n  id: %" PRIu64
				"\n  connections: %u\n  peer: ", isid, s[i].tsih,
				s[i].id, s[i].nconns);
			yq(out, s[i].peer);
			fputs("\n  local: ", out);
			yq(out, s[i].local);
			fprintf(out, "\n  commands: %" PRIu64 "\n", s[i].cmds);
		}
		return 0;
	}
	if (!n) {
		fputs("No sessions.\n", out);
		return 0;
	}
	fprintf(out, "%-40s %-40s %-12s %-5s %-5s %s\n", "TARGET", "INITIATOR",
		"ISID", "TSIH", "CONNS", "PEER");
	for (i = 0; i < n; i++) {
		isid_hex(s[i].isid, isid);
		fprintf(out, "%-40s %-40s %-12s %-5u %-5u %s\n", or_dash(s[i].target),
			or_dash(s[i].initiator), isid, s[i].tsih, s[i].nconns,
			or_dash(s[i].peer));
	}
	return 0;
}
