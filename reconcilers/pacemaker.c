/*
 * pacemaker.c - the Pacemaker reconciler (model: Pacemaker's scheduler:
 * pure planning over a CIB snapshot, executors injected).
 *
 * desired  per Target of this node's Cluster when spec.ha is pacemaker:
 *            - a promotable clone per replicated Volume the Target's LUNs
 *              use ("bollard-drbd-<vol>-clone") of ocf:bollard:drbd
 *              (deploy/ocf/bollard-drbd, notify=false), or of
 *              ocf:linbit:drbd (notify=true) when the Cluster says
 *              spec.pacemaker.drbdAgent: linbit (see build_drbd_clone);
 *            - a group "bollard-<target>": portblock block (one per service
 *              address), an address per service address (ocf:bollard:address,
 *              or ocf:heartbeat:IPaddr2 when the Cluster says
 *              spec.pacemaker.addressAgent: heartbeat; see build_target),
 *              ocf:bollard:target (param iqn), portblock unblock. portblock is opt-in, with
 *              the Target annotation bollard.io/portblock: "true": on
 *              Debian 12, iptables 1.8.9 lists protocols by number and the
 *              shipped portblock agent then never removes its DROP rule, so
 *              a default-on portblock would leave a target that looks
 *              started but cannot be reached (tests/integration/
 *              pacemaker_live.sh detects that iptables and says so);
 *            - colocation of the group with each clone's Promoted role and
 *              an asymmetric order: the target stops before the clone
 *              demotes (its start waits for Primary itself, see
 *              build_target);
 *          plus cluster properties from the Cluster (no-quorum-policy).
 *          A DRBD clone's element carries its Volume, a group the clones it
 *          runs on, for the gate below.
 * observe  `cibadmin -Q` (parsed with libxml2) and each agent's meta-data
 *          (`crm_resource --show-metadata ocf:P:A`, or our own agent's
 *          `meta-data` action) because crm_verify does not catch unknown
 *          parameters.
 *          And, when the caller can read status (ctx->peer_status), every
 *          node's Volume status of each wanted clone's Volume: has it
 *          rendered its DRBD config (drbd.configured)?
 * plan     compare OWNED elements only (see pcmk_int.h for the rule):
 *          unchanged -> nothing; missing -> create; different -> replace;
 *          owned but no longer wanted -> delete. Changes depend on one
 *          validation step, `crm_verify --xml-pipe`, fed the would-be CIB
 *          (the observed CIB with the plan applied, computed here, purely).
 *
 * The gate on peers' DRBD readiness (pacemaker_plan.c, gate_clones): a
 * clone that is not in the CIB yet is added only when every node reports
 * its DRBD config rendered, since a DRBD agent (ocf:linbit:drbd "not
 * installed", ocf:bollard:drbd a failed `drbdadm up`) fails on a node
 * without it and stays failed until a cleanup. The plan says what
 * it waits for (WaitingForPeers); the controller looks again every few
 * seconds while it waits. Additions only: what is in the CIB is never
 * removed or held because a status is missing.
 *
 * Targeted cibadmin --create/--replace/--delete per element instead of one
 * crm_diff patch: each action stands alone in the plan (readable, and a
 * partial apply leaves a CIB the next plan can finish), and we never need
 * a tool to compute the plan. Removals run before creations (plan.h), so
 * constraints go before the resources they name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "pcmk_int.h"
#include "reconciler.h"

static void pcmk_free_model(void *m_)
{
	struct pcmk_model *m = m_;

	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].id);
		free(m->v[i].volume);
		for (size_t j = 0; j < m->v[i].nneeds; j++)
			free(m->v[i].needs[j]);
		free(m->v[i].needs);
	}
	free(m->v);
	for (size_t i = 0; i < m->nnodes; i++)
		free(m->nodes[i]);
	free(m->nodes);
	for (size_t i = 0; i < m->nready; i++) {
		free(m->ready[i].volume);
		free(m->ready[i].node);
		free(m->ready[i].why);
	}
	free(m->ready);
	for (size_t i = 0; i < m->nagents; i++)
		pcmk_agent_free(&m->agents[i]);
	free(m->agents);
	for (size_t i = 0; i < m->nconds; i++) {
		free(m->conds[i].object);
		free(m->conds[i].reason);
		free(m->conds[i].msg);
	}
	free(m->conds);
	if (m->doc)
		xmlFreeDoc(m->doc);
	free(m);
}

/* ---- building desired XML ------------------------------------------------*/

/* Operation timing from Cluster.spec.pacemaker (schema/bl_kinds.c says
 * what each means; the defaults are repeated here for a Cluster stored
 * before the field existed). */
#define PCMK_DEF_OP_TIMEOUT       60
#define PCMK_DEF_MONITOR_INTERVAL 10

struct builder {
	struct pcmk_model *m;
	xmlNodePtr holder;
	bool oom;
	long long op_timeout;        /* seconds */
	long long mon_interval;      /* seconds */
	bool linbit_drbd;            /* spec.pacemaker.drbdAgent: linbit */
	const char *addr_agent;      /* spec.pacemaker.addressAgent's agent */
};

/* "<n>s" into buf. */
static const char *secs(char *buf, size_t len, long long n)
{
	snprintf(buf, len, "%llds", n);
	return buf;
}

/* A start/stop/promote/demote timeout: its own default, or opTimeout when
 * that is larger. */
static const char *op_t(struct builder *b, char *buf, size_t len,
			long long def)
{
	return secs(buf, len, b->op_timeout > def ? b->op_timeout : def);
}

static void at(struct builder *b, xmlNodePtr n, const char *k, const char *v)
{
	if (n && !xmlSetProp(n, (const xmlChar *)k, (const xmlChar *)v))
		b->oom = true;
}

static xmlNodePtr el(struct builder *b, xmlNodePtr parent, const char *tag,
		     const char *id)
{
	xmlNodePtr n;

	if (b->oom || !parent)
		return NULL;
	n = xmlNewChild(parent, NULL, (const xmlChar *)tag, NULL);
	if (!n) {
		b->oom = true;
		return NULL;
	}
	if (id)
		at(b, n, "id", id);
	return n;
}

static xmlNodePtr nvset(struct builder *b, xmlNodePtr parent,
			const char *tag, const char *owner, const char *suffix)
{
	char id[640];

	snprintf(id, sizeof(id), "%s-%s", owner, suffix);
	return el(b, parent, tag, id);
}

static void nv(struct builder *b, xmlNodePtr set, const char *name,
	       const char *value)
{
	xmlChar *sid;
	xmlNodePtr n;
	char id[700];

	if (!set)
		return;
	sid = xmlGetProp(set, (const xmlChar *)"id");
	snprintf(id, sizeof(id), "%s-%s", sid ? (const char *)sid : "", name);
	xmlFree(sid);
	n = el(b, set, "nvpair", id);
	at(b, n, "name", name);
	at(b, n, "value", value);
}

static void op(struct builder *b, xmlNodePtr prim, const char *name,
	       const char *interval, const char *role, const char *timeout)
{
	xmlNodePtr ops = NULL, n;
	xmlChar *pid;
	char id[700];

	if (!prim || b->oom)
		return;
	for (xmlNodePtr c = prim->children; c; c = c->next)
		if (!strcmp((const char *)c->name, "operations"))
			ops = c;
	if (!ops)
		ops = el(b, prim, "operations", NULL);
	pid = xmlGetProp(prim, (const xmlChar *)"id");
	snprintf(id, sizeof(id), "%s-%s-%s", pid ? (const char *)pid : "",
		 name, interval);
	xmlFree(pid);
	n = el(b, ops, "op", id);
	at(b, n, "name", name);
	at(b, n, "interval", interval);
	if (role)
		at(b, n, "role", role);
	at(b, n, "timeout", timeout);
}

static xmlNodePtr prim(struct builder *b, xmlNodePtr parent, const char *id,
		       const char *agent, const char *source)
{
	char cls[32], prov[64], type[64], desc[256];
	xmlNodePtr n;

	if (sscanf(agent, "%31[^:]:%63[^:]:%63s", cls, prov, type) != 3)
		return NULL;
	n = el(b, parent, "primitive", id);
	snprintf(desc, sizeof(desc), PCMK_MARKER ": %s", source);
	at(b, n, "description", desc);
	at(b, n, "class", cls);
	at(b, n, "provider", prov);
	at(b, n, "type", type);
	return n;
}

static int want_agent(struct pcmk_model *m, const char *spec)
{
	struct pcmk_agent *a;

	for (size_t i = 0; i < m->nagents; i++)
		if (!strcmp(m->agents[i].spec, spec))
			return 0;
	a = realloc(m->agents, (m->nagents + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	m->agents = a;
	memset(&a[m->nagents], 0, sizeof(*a));
	if (!(a[m->nagents].spec = strdup(spec)))
		return -ENOMEM;
	m->nagents++;
	return 0;
}

static int add_elem(struct builder *b, xmlNodePtr n, const char *section,
		    enum bl_stage stage)
{
	struct pcmk_model *m = b->m;
	struct pcmk_elem *v;
	xmlChar *id;

	if (b->oom || !n)
		return -ENOMEM;
	id = xmlGetProp(n, (const xmlChar *)"id");
	for (size_t i = 0; id && i < m->n; i++)
		if (!strcmp(m->v[i].id, (const char *)id)) {
			/* shared (a clone used by two targets): keep one */
			xmlFree(id);
			xmlUnlinkNode(n);
			xmlFreeNode(n);
			return 0;
		}
	v = realloc(m->v, (m->n + 1) * sizeof(*v));
	if (!v || !id) {
		xmlFree(id);
		return -ENOMEM;
	}
	m->v = v;
	v = &v[m->n];
	v->id = strdup((const char *)id);
	xmlFree(id);
	if (!v->id)
		return -ENOMEM;
	v->section = section;
	v->stage = stage;
	v->node = n;
	v->volume = NULL;
	v->generation = 0;
	v->needs = NULL;
	v->nneeds = 0;
	m->n++;
	return 0;
}

static struct pcmk_elem *elem_by_id(struct pcmk_model *m, const char *id)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].id, id))
			return &m->v[i];
	return NULL;
}

/* The group gid cannot run without clone cid (see pcmk_int.h: needs). */
static int elem_needs(struct pcmk_model *m, const char *gid, const char *cid)
{
	struct pcmk_elem *g = elem_by_id(m, gid);
	char **v;

	if (!g)
		return -ENOENT;
	for (size_t i = 0; i < g->nneeds; i++)
		if (!strcmp(g->needs[i], cid))
			return 0;
	v = realloc(g->needs, (g->nneeds + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	g->needs = v;
	if (!(v[g->nneeds] = strdup(cid)))
		return -ENOMEM;
	g->nneeds++;
	return 0;
}

static const json_t *find_node(const json_t *cspec, const char *node)
{
	const json_t *nodes = json_object_get(cspec, "nodes"), *n;
	size_t i;

	json_array_foreach(nodes, i, n)
		if (bl_rec_str(n, "name") && !strcmp(bl_rec_str(n, "name"), node))
			return n;
	return NULL;
}

/*
 * The DRBD clone's agent. Default ocf:bollard:drbd (deploy/ocf/bollard-drbd):
 * notify=false, its promotion score comes from the local disk state alone
 * (UpToDate or nothing) and promote never forces DRBD. ocf:linbit:drbd
 * needs notify=true, and the notifications are what made a failover slow:
 * Pacemaker runs the agent on the survivor before and after the dead
 * instance's demote and stop and before and after the promote, each a run
 * of a large bash script, all before the target can start (tests/ha: 20 s
 * of a 35 s failover in the emulated guests). Sites that rely on the
 * linbit agent (its crm-fence-peer integration, DRBD 9 multi-peer
 * handling) choose it with spec.pacemaker.drbdAgent: linbit. Either way
 * the clone's id, meta attributes (but notify) and operations are the same,
 * so switching is a replace of the clone, not of its constraints.
 */
static int build_drbd_clone(struct builder *b, const char *vol,
			    long long generation, size_t nnodes)
{
	const char *agent = b->linbit_drbd ? "ocf:linbit:drbd" : "ocf:bollard:drbd";
	struct pcmk_elem *e;
	int rc;
	char id[200], cid[220], res[200], src[200], num[24];
	char i1[24], i2[24], t[24], t2[24];
	xmlNodePtr c, meta, p, params;

	snprintf(id, sizeof(id), BL_PCMK_DRBD_ID, vol);
	snprintf(cid, sizeof(cid), BL_PCMK_DRBD_CLONE_ID, vol);
	snprintf(res, sizeof(res), PCMK_PREFIX "%s", vol);
	snprintf(src, sizeof(src), "Volume/%s", vol);
	snprintf(num, sizeof(num), "%zu", nnodes);
	c = el(b, b->holder, "clone", cid);
	{
		char desc[256];

		snprintf(desc, sizeof(desc), PCMK_MARKER ": %s", src);
		at(b, c, "description", desc);
	}
	meta = nvset(b, c, "meta_attributes", cid, "meta");
	nv(b, meta, "promotable", "true");
	nv(b, meta, "promoted-max", "1");
	nv(b, meta, "promoted-node-max", "1");
	nv(b, meta, "clone-max", num);
	nv(b, meta, "clone-node-max", "1");
	nv(b, meta, "notify", b->linbit_drbd ? "true" : "false");
	p = prim(b, c, id, agent, src);
	params = nvset(b, p, "instance_attributes", id, "params");
	nv(b, params, "drbd_resource", res);
	op(b, p, "monitor", secs(i1, sizeof(i1), 3 * b->mon_interval - 1),
	   "Promoted", secs(t, sizeof(t), b->op_timeout));
	op(b, p, "monitor", secs(i2, sizeof(i2), 3 * b->mon_interval + 1),
	   "Unpromoted", t);
	op(b, p, "start", "0s", NULL, op_t(b, t2, sizeof(t2), 240));
	op(b, p, "promote", "0s", NULL, op_t(b, t2, sizeof(t2), 90));
	op(b, p, "demote", "0s", NULL, op_t(b, t2, sizeof(t2), 90));
	op(b, p, "stop", "0s", NULL, op_t(b, t2, sizeof(t2), 100));
	if ((rc = add_elem(b, c, "resources", BL_STAGE_CONFIG)))
		return rc;
	/* The Volume, for the gate on every node's DRBD config (plan). */
	e = elem_by_id(b->m, cid);
	if (e && !e->volume) {
		if (!(e->volume = strdup(vol)))
			return -ENOMEM;
		e->generation = generation;
	}
	return want_agent(b->m, agent);
}

static void portblock(struct builder *b, xmlNodePtr g, const char *tname,
		      const char *what, size_t i, const char *ip,
		      long long port, const char *src)
{
	char id[200], num[24], iv[24], t[24];
	xmlNodePtr p, params;

	snprintf(id, sizeof(id), PCMK_PREFIX "%s-%s-%zu", tname, what, i);
	snprintf(num, sizeof(num), "%lld", port);
	p = prim(b, g, id, "ocf:heartbeat:portblock", src);
	params = nvset(b, p, "instance_attributes", id, "params");
	nv(b, params, "action", what);
	nv(b, params, "ip", ip);
	nv(b, params, "portno", num);
	nv(b, params, "protocol", "tcp");
	op(b, p, "monitor", secs(iv, sizeof(iv), b->mon_interval), NULL,
	   secs(t, sizeof(t), b->op_timeout));
}

/* A Mandatory, one-way rsc_order ID: FIRST's FACTION, then THEN's TACTION. */
static int one_way_order(struct builder *b, const char *id, const char *first,
			 const char *faction, const char *then, const char *taction)
{
	xmlNodePtr c = el(b, b->holder, "rsc_order", id);

	at(b, c, "first", first);
	at(b, c, "first-action", faction);
	at(b, c, "then", then);
	at(b, c, "then-action", taction);
	at(b, c, "kind", "Mandatory");
	at(b, c, "symmetrical", "false");
	return add_elem(b, c, "constraints", BL_STAGE_ACTIVATE);
}

static int build_target(struct builder *b, const struct bl_obj *t,
			const struct bl_objlist *objs, size_t nnodes)
{
	const json_t *spec = t->spec, *addrs = json_object_get(spec, "serviceAddresses");
	const json_t *luns = json_object_get(spec, "luns"), *l, *a;
	const char *pb = json_string_value(json_object_get(t->annotations,
							    "bollard.io/portblock"));
	bool use_pb = pb && !strcmp(pb, "true");
	long long port = bl_rec_int(spec, "port", 3260);
	char gid[200], src[200], id[300], tid[300], desc[256], iv[24], to[24], t2[24];
	xmlNodePtr g, p, params;
	size_t i, naddr = json_array_size(addrs);
	int rc;

	secs(iv, sizeof(iv), b->mon_interval);
	secs(to, sizeof(to), b->op_timeout);
	snprintf(gid, sizeof(gid), PCMK_PREFIX "%s", t->name);
	snprintf(src, sizeof(src), "Target/%s", t->name);
	snprintf(desc, sizeof(desc), PCMK_MARKER ": %s", src);
	g = el(b, b->holder, "group", gid);
	at(b, g, "description", desc);
	/*
	 * A failed start bans a resource from its node until the failure
	 * is cleared (start-failure-is-fatal); failure-timeout clears it
	 * after a minute. A ban that outlived its cause would leave the
	 * node unable to take the target on the next failover: tests/ha
	 * hit one from set-up, where the group existed for a moment
	 * before its colocation, started on the node DRBD was then not
	 * promoted on, and its start waited out its timeout.
	 */
	{
		xmlNodePtr gmeta = nvset(b, g, "meta_attributes", gid, "meta");

		nv(b, gmeta, "failure-timeout", "60s");
	}
	if (use_pb && naddr) {
		json_array_foreach(addrs, i, a) {
			char ip[64];

			snprintf(ip, sizeof(ip), "%.*s",
				 (int)strcspn(json_string_value(a) ?: "", "/"),
				 json_string_value(a) ?: "");
			portblock(b, g, t->name, "block", i, ip, port, src);
		}
	}
	/*
	 * The service addresses. ocf:bollard:address (deploy/ocf/
	 * bollard-address) by default: on a failover the survivor starts the
	 * address beside the DRBD promote and the target's start waits for
	 * both, and IPaddr2's start (a large bash script sourcing
	 * ocf-shellfuncs, tens of processes) took 4-14 s of it in the tests/ha
	 * guests, up to 48 s at load; ours runs two `ip` processes and sends
	 * its gratuitous ARPs in the background. Both take the same params (ip,
	 * cidr_netmask), so spec.pacemaker.addressAgent: heartbeat keeps
	 * IPaddr2 exactly as before, and switching replaces the group (same
	 * ids, constraints untouched; Pacemaker restarts a primitive whose
	 * agent changed).
	 */
	json_array_foreach(addrs, i, a) {
		const char *s = json_string_value(a) ?: "";
		const char *slash = strchr(s, '/');
		char ip[64];

		snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(s, "/"), s);
		snprintf(id, sizeof(id), "%s-ip-%zu", gid, i);
		p = prim(b, g, id, b->addr_agent, src);
		params = nvset(b, p, "instance_attributes", id, "params");
		nv(b, params, "ip", ip);
		if (slash)
			nv(b, params, "cidr_netmask", slash + 1);
		op(b, p, "monitor", iv, NULL, to);
	}
	snprintf(tid, sizeof(tid), "%s-target", gid);
	p = prim(b, g, tid, "ocf:bollard:target", src);
	params = nvset(b, p, "instance_attributes", tid, "params");
	nv(b, params, "iqn", bl_rec_str(spec, "iqn") ?: "");
	op(b, p, "monitor", iv, NULL, to);
	op(b, p, "start", "0s", NULL, op_t(b, t2, sizeof(t2), 120));
	op(b, p, "stop", "0s", NULL, op_t(b, t2, sizeof(t2), 60));
	if (use_pb && naddr) {
		json_array_foreach(addrs, i, a) {
			char ip[64];

			snprintf(ip, sizeof(ip), "%.*s",
				 (int)strcspn(json_string_value(a) ?: "", "/"),
				 json_string_value(a) ?: "");
			portblock(b, g, t->name, "unblock", i, ip, port, src);
		}
	}
	if ((rc = add_elem(b, g, "resources", BL_STAGE_CONFIG)) ||
	    (rc = want_agent(b->m, b->addr_agent)) ||
	    (rc = want_agent(b->m, "ocf:bollard:target")) ||
	    (use_pb && naddr && (rc = want_agent(b->m, "ocf:heartbeat:portblock"))))
		return rc;

	json_array_foreach(luns, i, l) {
		const char *vname = bl_rec_str(l, "volume");
		const struct bl_obj *vol = vname ? bl_objlist_find(objs, "Volume", vname) : NULL;
		char cid[300], cstr[420];
		xmlNodePtr c;

		if (!vol || !json_is_object(json_object_get(vol->spec, "replication")))
			continue;
		if ((rc = build_drbd_clone(b, vname, vol->generation, nnodes)))
			return rc;
		snprintf(cid, sizeof(cid), BL_PCMK_DRBD_CLONE_ID, vname);
		if ((rc = elem_needs(b->m, gid, cid)))
			return rc;
		snprintf(cstr, sizeof(cstr), "%s-with-%s", gid, vname);
		c = el(b, b->holder, "rsc_colocation", cstr);
		at(b, c, "rsc", gid);
		at(b, c, "with-rsc", cid);
		at(b, c, "with-rsc-role", "Promoted");
		at(b, c, "score", "INFINITY");
		if ((rc = add_elem(b, c, "constraints", BL_STAGE_ACTIVATE)))
			return rc;
		/*
		 * Stop the target, then demote: one asymmetrical order on the
		 * target primitive. Its start is not ordered after the
		 * promote: it runs beside it (the colocation puts it on the
		 * node being promoted). Its agent waits until every LUN's
		 * device opens for writing, which a DRBD device does once
		 * Primary (`bollard target enable --wait`).
		 *
		 * Why beside: on a failover the promote's fence-peer handler
		 * places a constraint, which aborts Pacemaker's transition;
		 * a start ordered after the promote then waits for a new
		 * transition, and the start itself (the agent's meta-data is
		 * re-read for every start) comes after that. tests/ha
		 * measured DRBD Primary -> first write ~1.7 s with the
		 * order (2026-11-24, session 7), ~0.9 s beside it (session 6).
		 *
		 * The hazard of a start beside the promote is a start on a
		 * node whose promote never comes: it would wait out its
		 * timeout and fail. tests/ha saw it at set-up, when the group
		 * existed for a moment before its colocation; the plan now
		 * creates a new group and its constraints in one CIB update
		 * (pacemaker_plan.c, find_together). Should it happen anyway,
		 * the wait gives up early when DRBD shows the promote will not
		 * come here (the peer stays Primary, or the local disk cannot
		 * be promoted), and the group's failure-timeout ends the ban
		 * on this node after 60 s.
		 */
		snprintf(cstr, sizeof(cstr), "%s-before-demote-%s", gid, vname);
		if ((rc = one_way_order(b, cstr, tid, "stop", cid, "demote")))
			return rc;
	}
	return 0;
}

static int pcmk_desired(struct bl_rec_ctx *ctx, const struct bl_objlist *objs,
			void **out)
{
	struct pcmk_model *m = calloc(1, sizeof(*m));
	struct builder b = { .m = m };
	const struct bl_obj *cl = NULL;
	int rc = 0;

	if (!m)
		return -ENOMEM;
	m->doc = xmlNewDoc((const xmlChar *)"1.0");
	b.holder = m->doc ? xmlNewDocNode(m->doc, NULL,
					  (const xmlChar *)"desired", NULL) : NULL;
	if (!b.holder) {
		pcmk_free_model(m);
		return -ENOMEM;
	}
	xmlDocSetRootElement(m->doc, b.holder);
	for (size_t i = 0; i < objs->n; i++)
		if (!strcmp(objs->v[i]->kind, "Cluster") &&
		    find_node(objs->v[i]->spec, ctx->node)) {
			cl = objs->v[i];
			break;
		}
	if (cl && !strcmp(bl_rec_str(cl->spec, "ha") ?: "", "pacemaker")) {
		size_t nnodes = json_array_size(json_object_get(cl->spec, "nodes"));
		const json_t *pm = json_object_get(cl->spec, "pacemaker"), *n;
		size_t k;
		xmlNodePtr props = el(&b, b.holder, "cluster_property_set",
				      PCMK_PREFIX "options");

		b.op_timeout = bl_rec_int(pm, "opTimeout", PCMK_DEF_OP_TIMEOUT);
		b.mon_interval = bl_rec_int(pm, "monitorInterval",
					    PCMK_DEF_MONITOR_INTERVAL);
		if (b.op_timeout < 1)
			b.op_timeout = PCMK_DEF_OP_TIMEOUT;
		if (b.mon_interval < 1)
			b.mon_interval = PCMK_DEF_MONITOR_INTERVAL;
		b.linbit_drbd = !strcmp(bl_rec_str(pm, "drbdAgent") ?: "", "linbit");
		b.addr_agent = !strcmp(bl_rec_str(pm, "addressAgent") ?: "", "heartbeat")
			       ? "ocf:heartbeat:IPaddr2" : "ocf:bollard:address";
		nv(&b, props, "no-quorum-policy",
		   !strcmp(bl_rec_str(cl->spec, "quorum") ?: "", "none")
		   ? "ignore" : "stop");
		rc = add_elem(&b, props, "crm_config", BL_STAGE_CONFIG);
		json_array_foreach(json_object_get(cl->spec, "nodes"), k, n) {
			const char *nm = bl_rec_str(n, "name");
			char **nv;

			if (rc || !nm)
				continue;
			nv = realloc(m->nodes, (m->nnodes + 1) * sizeof(*nv));
			if (!nv || !(nv[m->nnodes] = strdup(nm))) {
				if (nv)
					m->nodes = nv;
				rc = -ENOMEM;
				continue;
			}
			m->nodes = nv;
			m->nnodes++;
		}
		for (size_t i = 0; i < objs->n && !rc; i++) {
			const struct bl_obj *t = objs->v[i];

			if (strcmp(t->kind, "Target") ||
			    strcmp(bl_rec_str(t->spec, "cluster") ?: "", cl->name))
				continue;
			rc = build_target(&b, t, objs, nnodes);
		}
	}
	if (!rc && b.oom)
		rc = -ENOMEM;
	if (rc) {
		pcmk_free_model(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- observe -------------------------------------------------------------*/

/*
 * Has node rendered volume's DRBD config? From its Volume status: the
 * "drbd" object's "configured" (volume_status.h), at the Volume's
 * generation or later. Anything else (no status: never reported, or its
 * heartbeat lease lapsed; unparseable; configured false) is "not yet",
 * with why.
 */
static int ready_one(struct bl_rec_ctx *ctx, const struct pcmk_elem *e,
		     const char *node, struct pcmk_ready *r)
{
	char *text = NULL;
	json_t *st = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!(r->volume = strdup(e->volume)) || !(r->node = strdup(node)))
		return -ENOMEM;
	rc = ctx->peer_status(ctx->peer_status_arg, "Volume", e->volume, node, &text);
	if (rc == 0)
		st = json_loads(text, 0, NULL);
	free(text);
	if (rc == -ENOENT)
		rc = asprintf(&r->why, "%s has reported no status for Volume %s",
			      node, e->volume);
	else if (rc < 0)
		rc = asprintf(&r->why, "%s's status of Volume %s is unreadable: %s",
			      node, e->volume, bl_strerror(rc));
	else if (!json_is_true(json_object_get(json_object_get(st, "drbd"), "configured")))
		rc = asprintf(&r->why, "%s has not rendered the DRBD config of "
			      PCMK_PREFIX "%s yet", node, e->volume);
	else if (json_integer_value(json_object_get(st, "observedGeneration")) < e->generation)
		rc = asprintf(&r->why, "%s has configured generation %lld of Volume %s, "
			      "not %lld yet", node,
			      (long long)json_integer_value(json_object_get(st, "observedGeneration")),
			      e->volume, e->generation);
	else
		r->ok = true;
	json_decref(st);
	if (rc < 0) {
		r->why = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int observe_ready(struct bl_rec_ctx *ctx, const struct pcmk_model *want,
			 struct pcmk_model *m)
{
	if (!ctx->peer_status)
		return 0;
	m->gated = true;
	for (size_t i = 0; i < want->n; i++) {
		if (!want->v[i].volume)
			continue;
		for (size_t j = 0; j < want->nnodes; j++) {
			struct pcmk_ready *r = realloc(m->ready, (m->nready + 1) * sizeof(*r));
			int rc;

			if (!r)
				return -ENOMEM;
			m->ready = r;
			rc = ready_one(ctx, &want->v[i], want->nodes[j], &r[m->nready]);
			m->nready++;
			if (rc)
				return rc;
		}
	}
	return 0;
}

/*
 * Our own agents' meta-data come from the agent files when the caller
 * named deploy/ocf/bollard-target (ctx->bollard_agent): ocf:bollard:TYPE
 * is the file bollard-TYPE next to it (deploy/ocf/bollard-drbd). Into
 * buf; false when spec is not ours or no path was given.
 */
static bool own_agent_path(const struct bl_rec_ctx *ctx, const char *spec,
			   char *buf, size_t len)
{
	static const char pfx[] = "ocf:bollard:";
	const char *slash;
	int n;

	if (!ctx->bollard_agent || strncmp(spec, pfx, sizeof(pfx) - 1))
		return false;
	slash = strrchr(ctx->bollard_agent, '/');
	n = snprintf(buf, len, "%.*sbollard-%s",
		     slash ? (int)(slash - ctx->bollard_agent + 1) : 0,
		     ctx->bollard_agent, spec + sizeof(pfx) - 1);
	return n > 0 && (size_t)n < len;
}

static int fetch_metadata(struct bl_rec_ctx *ctx, struct pcmk_agent *a)
{
	char path[4096];
	const char *crm[] = { "crm_resource", "--show-metadata", a->spec, NULL };
	const char *own[] = { "env", "OCF_ROOT=/usr/lib/ocf", path,
			      "meta-data", NULL };
	bool ours = own_agent_path(ctx, a->spec, path, sizeof(path));
	struct bl_run_out o = {0};
	int rc;

	rc = ctx->io.run(ctx->io.arg, ours ? own : crm, NULL, 0, &o);
	if (rc || o.status) {
		if (asprintf(&a->why, "%s: %s", ours ? "agent meta-data"
			     : "crm_resource --show-metadata",
			     rc ? bl_strerror(rc) : "failed") < 0)
			a->why = NULL;
		bl_run_out_free(&o);
		return a->why ? 0 : -ENOMEM;
	}
	rc = pcmk_parse_metadata(o.out, o.out_len, a);
	bl_run_out_free(&o);
	if (rc == BL_E_PARSE) {
		a->why = strdup("meta-data is not valid XML");
		return a->why ? 0 : -ENOMEM;
	}
	return rc;
}

static int pcmk_observe(struct bl_rec_ctx *ctx, const void *want_, void **out)
{
	static const char *const query[] = { "cibadmin", "-Q", NULL };
	const struct pcmk_model *want = want_;
	struct pcmk_model *m = calloc(1, sizeof(*m));
	struct bl_run_out o = {0};
	int rc;

	if (!m)
		return -ENOMEM;
	rc = ctx->io.run(ctx->io.arg, query, NULL, 0, &o);
	if ((rc || o.status) && want->n == 0) {
		/*
		 * Nothing is wanted in a CIB on this node (no Cluster with ha:
		 * pacemaker has it) and no CIB answers: there is nothing we
		 * could clean up either. Observe an empty CIB instead of
		 * failing, so a node without Pacemaker (the embedded default)
		 * reconciles cleanly. When a CIB does answer, owned leftovers
		 * are still found and removed.
		 */
		static const char empty[] = "<cib><configuration><crm_config/>"
			"<nodes/><resources/><constraints/></configuration><status/></cib>";
		bl_run_out_free(&o);
		m->doc = xmlReadMemory(empty, (int)sizeof(empty) - 1, "cib.xml", NULL,
				       XML_PARSE_NONET | XML_PARSE_NOBLANKS);
		if (!m->doc) {
			pcmk_free_model(m);
			return -ENOMEM;
		}
		*out = m;
		return 0;
	}
	if (rc || o.status) {
		snprintf(ctx->err, sizeof(ctx->err), "cibadmin -Q: %s",
			 rc ? bl_strerror(rc) : o.err);
		bl_run_out_free(&o);
		pcmk_free_model(m);
		return rc ? rc : -EIO;
	}
	m->doc = xmlReadMemory(o.out, (int)o.out_len, "cib.xml", NULL,
			       XML_PARSE_NONET | XML_PARSE_NOBLANKS |
			       XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	bl_run_out_free(&o);
	if (!m->doc || !pcmk_child(xmlDocGetRootElement(m->doc), "configuration")) {
		snprintf(ctx->err, sizeof(ctx->err),
			 "cibadmin -Q: not a CIB (no <configuration>)");
		pcmk_free_model(m);
		return BL_E_PARSE;
	}
	for (size_t i = 0; i < want->nagents; i++) {
		struct pcmk_agent *a = realloc(m->agents,
					       (m->nagents + 1) * sizeof(*a));

		if (!a) {
			pcmk_free_model(m);
			return -ENOMEM;
		}
		m->agents = a;
		a = &a[m->nagents];
		memset(a, 0, sizeof(*a));
		if (!(a->spec = strdup(want->agents[i].spec))) {
			pcmk_free_model(m);
			return -ENOMEM;
		}
		m->nagents++;
		if ((rc = fetch_metadata(ctx, a))) {
			pcmk_free_model(m);
			return rc;
		}
	}
	if ((rc = observe_ready(ctx, want, m))) {
		pcmk_free_model(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- plan: see pacemaker_plan.c -------------------------------------------*/

static int pcmk_apply(struct bl_rec_ctx *ctx, struct bl_plan *plan,
		      struct bl_executor *ex, struct bl_apply_result *res)
{
	int rc = bl_plan_apply(plan, ex, res);

	if (rc)
		snprintf(ctx->err, sizeof(ctx->err), "%s", ex->last_error);
	return rc;
}

const struct bl_reconciler_ops bl_pacemaker_reconciler = {
	.name = "pacemaker",
	.desired = pcmk_desired,
	.observe = pcmk_observe,
	.plan = pcmk_plan,
	.apply = pcmk_apply,
	.free_model = pcmk_free_model,
};
