/*
 * pacemaker_plan.c - plan() of the Pacemaker reconciler: compare owned CIB
 * elements with the wanted ones (see pacemaker.c, pcmk_int.h). Pure: it
 * reads two models and writes a plan, nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "pcmk_int.h"
#include "reconciler.h"

struct idset {
	char **v;
	size_t n;
};

static bool ids_has(const struct idset *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], id))
			return true;
	return false;
}

static int ids_add(struct idset *s, const char *id)
{
	char **v;

	if (ids_has(s, id))
		return 0;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	if (!(v[s->n] = strdup(id)))
		return -ENOMEM;
	s->n++;
	return 0;
}

static void ids_free(struct idset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Every id in the subtree of n. */
static int ids_add_tree(struct idset *s, xmlNodePtr n)
{
	xmlChar *id = xmlGetProp(n, (const xmlChar *)"id");
	int rc = 0;

	if (id)
		rc = ids_add(s, (const char *)id);
	xmlFree(id);
	for (xmlNodePtr c = n->children; c && !rc; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			rc = ids_add_tree(s, c);
	return rc;
}

static bool elem(xmlNodePtr n)
{
	return n && n->type == XML_ELEMENT_NODE;
}

/* The resource ids a constraint names. */
static int constraint_refs(xmlNodePtr c, struct idset *refs)
{
	static const char *const attrs[] = { "rsc", "with-rsc", "first",
					     "then", "node-attribute-never", NULL };
	int rc = 0;

	for (size_t i = 0; attrs[i] && !rc; i++) {
		xmlChar *v = xmlGetProp(c, (const xmlChar *)attrs[i]);

		if (v && strcmp(attrs[i], "node-attribute-never"))
			rc = ids_add(refs, (const char *)v);
		xmlFree(v);
	}
	for (xmlNodePtr s = c->children; s && !rc; s = s->next) {
		if (!elem(s) || strcmp((const char *)s->name, "resource_set"))
			continue;
		for (xmlNodePtr r = s->children; r && !rc; r = r->next) {
			xmlChar *v;

			if (!elem(r) || strcmp((const char *)r->name, "resource_ref"))
				continue;
			v = xmlGetProp(r, (const xmlChar *)"id");
			if (v)
				rc = ids_add(refs, (const char *)v);
			xmlFree(v);
		}
	}
	return rc;
}

struct ctx {
	const struct pcmk_model *want, *have;
	struct bl_plan *p;
	xmlNodePtr cfg;             /* observed <configuration>               */
	xmlNodePtr sec[3];          /* observed crm_config resources constraints */
	struct idset owned_rsc;     /* every id inside owned resources       */
	struct idset blocked;       /* wanted ids we will not touch          */
	xmlDocPtr wb;               /* the would-be CIB                      */
	int *changes;               /* handles of create/update actions      */
	size_t nchanges;
	struct idset noted_agents;
	struct idset waiting;       /* DRBD clones held back: WaitingForPeers */
	struct idset together;      /* new elements created in one CIB update */
	const struct pcmk_elem **held; /* ... their creations, held back     */
	size_t nheld;
};

static const char *const sections[3] = { "crm_config", "resources", "constraints" };

static int sec_index(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(sections[i], s))
			return i;
	return 1;
}

static bool owned(struct ctx *c, int sec, xmlNodePtr n)
{
	struct idset refs = {0};
	bool ok = true;

	if (!pcmk_attr_prefix(n, "id", PCMK_PREFIX))
		return false;
	if (sec == 0)
		return true;
	if (sec == 1)
		return pcmk_attr_prefix(n, "description", PCMK_MARKER);
	if (constraint_refs(n, &refs))
		ok = false;
	for (size_t i = 0; ok && i < refs.n; i++)
		ok = ids_has(&c->owned_rsc, refs.v[i]);
	ids_free(&refs);
	return ok;
}

/* Top-level element of a section that contains n, and which section. */
static xmlNodePtr top_of(struct ctx *c, xmlNodePtr n, int *sec)
{
	for (; n && n->parent; n = n->parent)
		for (int i = 0; i < 3; i++)
			if (c->sec[i] && n->parent == c->sec[i]) {
				*sec = i;
				return n;
			}
	return NULL;
}

static const char *stage_kind(xmlNodePtr n, char *buf, size_t len)
{
	snprintf(buf, len, "cib-%s", (const char *)n->name);
	return buf;
}

static int push_change(struct ctx *c, int h)
{
	int *v = realloc(c->changes, (c->nchanges + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->changes = v;
	v[c->nchanges++] = h;
	return 0;
}

static xmlNodePtr wb_section(struct ctx *c, int sec)
{
	xmlNodePtr cfg = pcmk_child(xmlDocGetRootElement(c->wb), "configuration");
	xmlNodePtr s = pcmk_child(cfg, sections[sec]);

	if (!s && cfg)
		s = xmlNewChild(cfg, NULL, (const xmlChar *)sections[sec], NULL);
	return s;
}

static int wb_remove(struct ctx *c, const char *id)
{
	xmlNodePtr n = pcmk_find_id(xmlDocGetRootElement(c->wb), id);

	if (n) {
		xmlUnlinkNode(n);
		xmlFreeNode(n);
	}
	return 0;
}

static int wb_put(struct ctx *c, const struct pcmk_elem *e)
{
	xmlNodePtr s = wb_section(c, sec_index(e->section));
	xmlNodePtr old = pcmk_find_id(s, e->id);
	xmlNodePtr cp = xmlDocCopyNode(e->node, c->wb, 1);

	if (!cp || !s)
		return -ENOMEM;
	if (old) {
		xmlReplaceNode(old, cp);
		xmlFreeNode(old);
	} else if (!xmlAddChild(s, cp)) {
		xmlFreeNode(cp);
		return -ENOMEM;
	}
	return 0;
}

static int act_delete(struct ctx *c, xmlNodePtr n, int sec, enum bl_stage st,
		      const char *why)
{
	char kind[64], *xml = NULL, *id = pcmk_attr(n, "id");
	int h, rc;

	if (!id)
		return -ENOMEM;
	h = bl_plan_add(c->p, st, true, stage_kind(n, kind, sizeof(kind)), id,
			"delete", "%s", why);
	if (h < 0) {
		xmlFree(id);
		return h;
	}
	if (asprintf(&xml, "<%s id=\"%s\"/>", (const char *)n->name, id) < 0) {
		xmlFree(id);
		return -ENOMEM;
	}
	rc = bl_plan_set_execl(c->p, h, "cibadmin", "--delete", "-o",
			       sections[sec], "--xml-text", xml, NULL);
	free(xml);
	if (!rc)
		rc = wb_remove(c, id);
	xmlFree(id);
	return rc;
}

static int act_put(struct ctx *c, const struct pcmk_elem *e, bool replace,
		   const char *why)
{
	char kind[64], *xml = pcmk_dump(e->node);
	int h, rc;

	if (!xml)
		return -ENOMEM;
	h = bl_plan_add(c->p, e->stage, false, stage_kind(e->node, kind, sizeof(kind)),
			e->id, replace ? "update" : "create", "%s", why);
	if (h < 0) {
		free(xml);
		return h;
	}
	rc = bl_plan_set_execl(c->p, h, "cibadmin",
			       replace ? "--replace" : "--create", "-o",
			       e->section, "--xml-pipe", NULL);
	if (!rc)
		rc = bl_plan_set_payload(c->p, h, xml, strlen(xml));
	free(xml);
	if (!rc)
		rc = push_change(c, h);
	if (!rc)
		rc = wb_put(c, e);
	return rc;
}

/* Where two canonical forms first differ, named by the id of the element
 * the difference is in. */
static void where_differs(const char *want, const char *have, char *buf,
			  size_t len)
{
	size_t k = 0;
	const char *lt, *idp, *gt;

	while (want[k] && want[k] == have[k])
		k++;
	lt = want + k;
	while (lt > want && *lt != '<')
		lt--;
	if (lt[1] == '/') { /* in a closing tag: children added/removed */
		snprintf(buf, len, "children differ");
		return;
	}
	gt = strchr(lt, '>');
	idp = strstr(lt, " id=\"");
	if (idp && (!gt || idp < gt)) {
		idp += 5;
		snprintf(buf, len, "at %.*s", (int)strcspn(idp, "\""), idp);
	} else {
		snprintf(buf, len, "at <%.*s>", (int)strcspn(lt + 1, " >"), lt + 1);
	}
}

static const struct pcmk_agent *agent_of(const struct pcmk_model *m,
					 xmlNodePtr prim, char *spec, size_t len)
{
	xmlChar *cls = xmlGetProp(prim, (const xmlChar *)"class");
	xmlChar *prov = xmlGetProp(prim, (const xmlChar *)"provider");
	xmlChar *type = xmlGetProp(prim, (const xmlChar *)"type");

	snprintf(spec, len, "%s:%s:%s", cls ? (char *)cls : "",
		 prov ? (char *)prov : "", type ? (char *)type : "");
	xmlFree(cls);
	xmlFree(prov);
	xmlFree(type);
	for (size_t i = 0; i < m->nagents; i++)
		if (!strcmp(m->agents[i].spec, spec))
			return &m->agents[i];
	return NULL;
}

/* Check every primitive's params against its agent's meta-data. Returns
 * 1 when something is wrong (conditions added), 0 fine, <0 error. */
static int check_params(struct ctx *c, const char *top, xmlNodePtr n,
			bool siblings)
{
	int bad = 0, rc;

	for (; n; n = siblings ? n->next : NULL) {
		const struct pcmk_agent *a;
		xmlNodePtr ia;
		char spec[200];
		xmlChar *pid;

		if (!elem(n))
			continue;
		if (strcmp((const char *)n->name, "primitive")) {
			if ((rc = check_params(c, top, n->children, true)) < 0)
				return rc;
			bad |= rc;
			continue;
		}
		a = agent_of(c->have, n, spec, sizeof(spec));
		if (!a || !a->known) {
			if (ids_has(&c->noted_agents, spec))
				continue;
			if ((rc = ids_add(&c->noted_agents, spec)) ||
			    (rc = bl_plan_cond(c->p, spec, "ParamCheckSkipped",
					       "parameters not checked: %s",
					       a && a->why ? a->why
					       : "no meta-data")))
				return rc;
			continue;
		}
		pid = xmlGetProp(n, (const xmlChar *)"id");
		ia = pcmk_child(n, "instance_attributes");
		for (xmlNodePtr p = ia ? ia->children : NULL; p; p = p->next) {
			xmlChar *name;
			bool found = false;

			if (!elem(p))
				continue;
			name = xmlGetProp(p, (const xmlChar *)"name");
			for (size_t i = 0; name && i < a->n; i++)
				found |= !strcmp(a->params[i], (const char *)name);
			if (!found) {
				rc = bl_plan_cond(c->p, top, "InvalidParams",
						  "%s: %s has no parameter '%s'",
						  (char *)pid, spec,
						  name ? (char *)name : "?");
				bad = 1;
			} else {
				rc = 0;
			}
			xmlFree(name);
			if (rc) {
				xmlFree(pid);
				return rc;
			}
		}
		for (size_t i = 0; i < a->n; i++) {
			bool found = false;

			if (!a->required[i])
				continue;
			for (xmlNodePtr p = ia ? ia->children : NULL; p; p = p->next)
				found |= elem(p) && pcmk_attr_is(p, "name", a->params[i]);
			if (!found) {
				bad = 1;
				if ((rc = bl_plan_cond(c->p, top, "InvalidParams",
						       "%s: %s requires '%s'",
						       (char *)pid, spec,
						       a->params[i]))) {
					xmlFree(pid);
					return rc;
				}
			}
		}
		xmlFree(pid);
	}
	return bad;
}

/* A constraint we do not own that names something inside n (an owned
 * resource about to be deleted): its id, new string, or NULL. Deleting n
 * would leave that constraint dangling, which the CIB rejects. */
static char *foreign_ref(struct ctx *c, xmlNodePtr n)
{
	struct idset ids = {0};
	char *who = NULL;

	if (ids_add_tree(&ids, n))
		goto out;
	for (xmlNodePtr k = c->sec[2] ? c->sec[2]->children : NULL; k && !who;
	     k = k->next) {
		struct idset refs = {0};

		if (!elem(k) || owned(c, 2, k) || constraint_refs(k, &refs)) {
			ids_free(&refs);
			continue;
		}
		for (size_t i = 0; i < refs.n && !who; i++)
			if (ids_has(&ids, refs.v[i]))
				who = pcmk_attr(k, "id");
		ids_free(&refs);
	}
out:
	ids_free(&ids);
	return who;
}

static int cmp_elem(const void *x, const void *y)
{
	const struct pcmk_elem *a = *(const struct pcmk_elem *const *)x;
	const struct pcmk_elem *b = *(const struct pcmk_elem *const *)y;
	int k;

	if (a->stage != b->stage)
		return a->stage < b->stage ? -1 : 1;
	if (sec_index(a->section) != sec_index(b->section))
		return sec_index(a->section) - sec_index(b->section);
	/* Within a section by element name (so a group's rsc_colocation is
	 * created before its rsc_orders, right after the group: until it
	 * exists, Pacemaker may start the group anywhere), then by id. */
	if ((k = strcmp((const char *)a->node->name, (const char *)b->node->name)))
		return k;
	return strcmp(a->id, b->id);
}

/*
 * The gate on peers' DRBD readiness. A DRBD clone that is not in the CIB
 * yet is only added once every node of the Cluster reports its Volume's
 * DRBD config rendered (pcmk_int.h: struct pcmk_ready): Pacemaker starts
 * the clone's instances at once, and ocf:linbit:drbd fails "not installed"
 * on a node without the config, which then stays failed until someone runs
 * a cleanup. Only additions wait: a clone already in the CIB is planned as
 * always, whatever the status says (a status missing because a node died
 * is no reason to touch what runs). What depends on a waiting clone waits
 * with it: the constraints naming it (Blocked, below) and a Target group
 * that is not in the CIB yet (it cannot run without its DRBD clone).
 */
static const char *not_ready(const struct ctx *c, const char *volume)
{
	for (size_t i = 0; i < c->have->nready; i++)
		if (!strcmp(c->have->ready[i].volume, volume) && !c->have->ready[i].ok)
			return c->have->ready[i].why ? c->have->ready[i].why : "?";
	return NULL;
}

static int gate_clones(struct ctx *c)
{
	int rc = 0;

	if (!c->have->gated)
		return 0;
	for (size_t i = 0; i < c->want->n && !rc; i++) {
		const struct pcmk_elem *e = &c->want->v[i];
		const char *why;

		if (!e->volume || pcmk_find_id(c->cfg, e->id) ||
		    !(why = not_ready(c, e->volume)))
			continue;
		rc = bl_plan_cond(c->p, e->id, "WaitingForPeers",
				  "not added yet: waiting for every node's DRBD "
				  "config of Volume %s (%s)", e->volume, why);
		if (!rc)
			rc = ids_add(&c->waiting, e->id);
		if (!rc)
			rc = ids_add_tree(&c->blocked, e->node);
	}
	return rc;
}

/*
 * New resources and the new constraints that name them are created in one
 * CIB update. Each in its own cibadmin call, Pacemaker sees the resources
 * before their constraints and may start them anywhere in between: tests/ha
 * saw a Target's group start on the node whose DRBD was not promoted (its
 * rsc_colocation came one call later); the target's start then waited out
 * its timeout there. One `cibadmin --modify --allow-create` on the
 * configuration carries them all, so the CIB never holds one without the
 * other (crm_verify has checked the would-be CIB first, as for any change).
 *
 * find_together() picks them before planning: a wanted constraint absent
 * from the CIB, and every wanted top-level resource absent from the CIB
 * that it names (the constraint may name an element inside it, as the
 * target's rsc_order names the group's target primitive). plan_elem() then
 * holds their creations back (hold) instead of planning one action each,
 * and put_together() plans the one action. What plan_elem() refuses (a
 * Blocked constraint, a WaitingForPeers group, an id collision) is never
 * held, so it is not created, as before.
 */
/* The new top-level resource (fresh[i]: wanted, absent from the CIB) that
 * is or holds the element id. */
static const struct pcmk_elem *new_rsc_holding(const struct ctx *c,
					       const bool *fresh, const char *id)
{
	for (size_t i = 0; i < c->want->n; i++) {
		const struct pcmk_elem *r = &c->want->v[i];

		/* r->node itself, then inside it (pcmk_find_id would go
		 * on to r->node's siblings: the other wanted elements) */
		if (fresh[i] &&
		    (!strcmp(r->id, id) || pcmk_find_id(r->node->children, id)))
			return r;
	}
	return NULL;
}

static int find_together(struct ctx *c)
{
	bool *fresh = calloc(c->want->n + 1, sizeof(*fresh));
	int rc = 0;

	if (!fresh)
		return -ENOMEM;
	/* Which resources are new: one look into the CIB each, not one per
	 * constraint reference (plans of hundreds of Targets). */
	for (size_t i = 0; i < c->want->n; i++)
		fresh[i] = sec_index(c->want->v[i].section) == 1 &&
			   !pcmk_find_id(c->cfg, c->want->v[i].id);
	for (size_t i = 0; i < c->want->n && !rc; i++) {
		const struct pcmk_elem *e = &c->want->v[i];
		struct idset refs = {0};

		if (sec_index(e->section) != 2 || pcmk_find_id(c->cfg, e->id))
			continue;
		rc = constraint_refs(e->node, &refs);
		for (size_t k = 0; k < refs.n && !rc; k++) {
			const struct pcmk_elem *r = new_rsc_holding(c, fresh, refs.v[k]);

			if (r)
				rc = ids_add(&c->together, r->id);
			if (r && !rc)
				rc = ids_add(&c->together, e->id);
		}
		ids_free(&refs);
	}
	free(fresh);
	return rc;
}

static int hold(struct ctx *c, const struct pcmk_elem *e)
{
	const struct pcmk_elem **v = realloc(c->held, (c->nheld + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->held = v;
	v[c->nheld++] = e;
	return 0;
}

/* Append "<element> <id>" to names and e's XML to xml. */
static int put_one(const struct pcmk_elem *e, char **names, char **xml)
{
	char *dump = pcmk_dump(e->node), *n = NULL, *x = NULL;
	int rc = -ENOMEM;

	if (!dump)
		return -ENOMEM;
	if (asprintf(&n, "%s%s%s %s", *names ? *names : "", *names ? ", " : "",
		     (const char *)e->node->name, e->id) >= 0 &&
	    asprintf(&x, "%s%s", *xml ? *xml : "", dump) >= 0) {
		free(*names);
		free(*xml);
		*names = n;
		*xml = x;
		n = x = NULL;
		rc = 0;
	}
	free(n);
	free(x);
	free(dump);
	return rc;
}

static int put_together(struct ctx *c)
{
	char *names = NULL, *rsc = NULL, *con = NULL, *xml = NULL;
	size_t nrsc = 0, ncon = 0;
	int h, rc = 0;

	for (size_t i = 0; i < c->nheld && !rc; i++) {
		bool is_rsc = sec_index(c->held[i]->section) == 1;

		rc = put_one(c->held[i], &names, is_rsc ? &rsc : &con);
		if (is_rsc)
			nrsc++;
		else
			ncon++;
	}
	if (rc || !c->nheld)
		goto out;
	if (!nrsc || !ncon) {
		/* Only one side survived plan_elem's refusals: nothing to
		 * keep together, plain creations as always. */
		for (size_t i = 0; i < c->nheld && !rc; i++)
			rc = act_put(c, c->held[i], false, "missing: create");
		goto out;
	}
	if (asprintf(&xml, "<configuration>\n<resources>\n%s</resources>\n"
		     "<constraints>\n%s</constraints>\n</configuration>\n",
		     rsc, con) < 0) {
		xml = NULL;
		rc = -ENOMEM;
		goto out;
	}
	h = bl_plan_add(c->p, BL_STAGE_CONFIG, false, "cib", "configuration",
			"create", "missing: create %s in one CIB update (a "
			"resource must not exist without its constraints)",
			names);
	rc = h < 0 ? h : 0;
	if (!rc)
		rc = bl_plan_set_execl(c->p, h, "cibadmin", "--modify",
				       "--allow-create", "-o", "configuration",
				       "--xml-pipe", NULL);
	if (!rc)
		rc = bl_plan_set_payload(c->p, h, xml, strlen(xml));
	if (!rc)
		rc = push_change(c, h);
	for (size_t i = 0; i < c->nheld && !rc; i++)
		rc = wb_put(c, c->held[i]);
out:
	free(names);
	free(rsc);
	free(con);
	free(xml);
	return rc;
}

static int plan_elem(struct ctx *c, const struct pcmk_elem *e)
{
	struct idset ids = {0}, refs = {0};
	xmlNodePtr obs = NULL;
	int sec = sec_index(e->section), rc, osec = -1;

	if (ids_has(&c->waiting, e->id))
		return 0;               /* gate_clones said why */
	if ((rc = ids_add_tree(&ids, e->node)))
		goto out;
	/* A new group whose DRBD clone waits, waits with it. */
	for (size_t i = 0; i < e->nneeds; i++)
		if (ids_has(&c->waiting, e->needs[i]) && !pcmk_find_id(c->cfg, e->id)) {
			rc = bl_plan_cond(c->p, e->id, "WaitingForPeers",
					  "not added yet: it runs on %s, which "
					  "waits for every node's DRBD config",
					  e->needs[i]);
			goto out_block;
		}
	/* A constraint naming something we will not touch waits with it. */
	if (sec == 2) {
		if ((rc = constraint_refs(e->node, &refs)))
			goto out;
		for (size_t i = 0; i < refs.n; i++)
			if (ids_has(&c->blocked, refs.v[i])) {
				rc = bl_plan_cond(c->p, e->id, "Blocked",
						  "not created: %s is not "
						  "managed this round", refs.v[i]);
				goto out_block;
			}
	}
	/* Collisions: any id of ours already used by an element we do not
	 * own. */
	for (size_t i = 0; i < ids.n; i++) {
		xmlNodePtr f = pcmk_find_id(c->cfg, ids.v[i]);
		xmlNodePtr top;
		int fs = -1;

		if (!f)
			continue;
		top = top_of(c, f, &fs);
		if (!top || !owned(c, fs, top)) {
			xmlChar *tid = top ? xmlGetProp(top, (const xmlChar *)"id") : NULL;

			rc = bl_plan_cond(c->p, e->id, "NotOwned",
					  "id %s is taken by %s element %s "
					  "without bollard's marker; left alone",
					  ids.v[i], top ? (const char *)top->name : "an",
					  tid ? (const char *)tid : "outside the sections");
			xmlFree(tid);
			goto out_block;
		}
		if (!strcmp(ids.v[i], e->id)) {
			obs = top;
			osec = fs;
		}
	}
	rc = check_params(c, e->id, e->node, false);
	if (rc < 0)
		goto out;
	if (rc > 0) {
		rc = 0;
		goto out_block;
	}
	if (!obs) {
		rc = ids_has(&c->together, e->id) ? hold(c, e)
		     : act_put(c, e, false, "missing: create");
	} else if (obs != pcmk_find_id(obs, e->id) || osec != sec ||
		   strcmp((const char *)obs->name, (const char *)e->node->name)) {
		/* Same id, owned, but another kind or place: recreate. */
		rc = act_delete(c, obs, osec, e->stage, "replaced by another kind");
		if (!rc)
			rc = act_put(c, e, false, "recreate");
	} else {
		char *want = pcmk_canon(e->node), *have = pcmk_canon(obs);

		rc = want && have ? 0 : -ENOMEM;
		if (!rc && strcmp(want, have)) {
			char why[200], where[160];

			where_differs(want, have, where, sizeof(where));
			snprintf(why, sizeof(why), "differs from desired (%s)",
				 where);
			rc = act_put(c, e, true, why);
		}
		free(want);
		free(have);
	}
	goto out;

out_block:
	if (!rc)
		for (size_t i = 0; i < ids.n && !rc; i++)
			rc = ids_add(&c->blocked, ids.v[i]);
out:
	ids_free(&ids);
	ids_free(&refs);
	return rc;
}

int pcmk_plan(const struct bl_rec_ctx *rctx, const void *want_,
	      const void *have_, struct bl_plan *p)
{
	struct ctx c = { .want = want_, .have = have_, .p = p };
	xmlNodePtr cfg = pcmk_child(xmlDocGetRootElement(c.have->doc),
				    "configuration");
	const struct pcmk_elem **order = NULL;
	int rc = 0;

	(void)rctx;
	c.cfg = cfg;
	for (int i = 0; i < 3; i++)
		c.sec[i] = pcmk_child(cfg, sections[i]);
	c.wb = xmlCopyDoc(c.have->doc, 1);
	if (!c.wb)
		return -ENOMEM;
	for (size_t i = 0; i < c.want->nconds && !rc; i++)
		rc = bl_plan_cond(p, c.want->conds[i].object,
				  c.want->conds[i].reason, "%s",
				  c.want->conds[i].msg);
	/* Owned resources first: constraint ownership depends on them. */
	for (xmlNodePtr n = c.sec[1] ? c.sec[1]->children : NULL; n && !rc; n = n->next)
		if (elem(n) && owned(&c, 1, n))
			rc = ids_add_tree(&c.owned_rsc, n);

	order = calloc(c.want->n + 1, sizeof(*order));
	if (!order)
		rc = -ENOMEM;
	for (size_t i = 0; i < c.want->n && !rc; i++)
		order[i] = &c.want->v[i];
	if (!rc)
		qsort(order, c.want->n, sizeof(*order), cmp_elem);
	if (!rc)
		rc = gate_clones(&c);
	if (!rc)
		rc = find_together(&c);
	for (size_t i = 0; i < c.want->n && !rc; i++)
		rc = plan_elem(&c, order[i]);
	if (!rc)
		rc = put_together(&c);

	/* Owned elements nobody wants any more. Constraints first (they are
	 * ACTIVATE-stage removals, which run first anyway). */
	for (int s = 2; s >= 0 && !rc; s--) {
		for (xmlNodePtr n = c.sec[s] ? c.sec[s]->children : NULL;
		     n && !rc; n = n->next) {
			bool wanted = false;
			xmlChar *id;

			if (!elem(n) || !owned(&c, s, n))
				continue;
			id = xmlGetProp(n, (const xmlChar *)"id");
			for (size_t i = 0; i < c.want->n; i++)
				wanted |= id && !strcmp(c.want->v[i].id, (char *)id);
			if (!wanted && s == 1) {
				char *who = foreign_ref(&c, n);

				if (who) {
					rc = bl_plan_cond(p, (char *)id, "InUse",
							  "no longer wanted, but constraint "
							  "%s (not bollard's) names it: not "
							  "deleted", who);
					xmlFree(who);
					xmlFree(id);
					continue;
				}
			}
			xmlFree(id);
			if (!wanted)
				rc = act_delete(&c, n, s,
						s == 2 ? BL_STAGE_ACTIVATE
						: BL_STAGE_CONFIG,
						"owned by bollard, no longer wanted");
		}
	}
	if (!rc && c.nchanges) {
		char *cib = pcmk_dump_doc(c.wb);
		int h;

		if (!cib) {
			rc = -ENOMEM;
			goto out_free;
		}
		h = bl_plan_add(p, BL_STAGE_VALIDATE, false, "cib", "configuration",
				"validate", "crm_verify the would-be CIB");
		rc = h < 0 ? h : 0;
		if (!rc)
			rc = bl_plan_set_execl(p, h, "crm_verify", "--xml-pipe", NULL);
		if (!rc)
			rc = bl_plan_set_payload(p, h, cib, strlen(cib));
		if (!rc)
			rc = bl_plan_hide_payload(p, h);
		free(cib);
		/* Every change waits for validation (VALIDATE sorts before
		 * CONFIG and ACTIVATE, where all creations and updates are). */
		for (size_t i = 0; i < c.nchanges && !rc; i++)
			rc = bl_plan_dep(p, c.changes[i], h);
	}
out_free:
	free(order);
	free(c.changes);
	ids_free(&c.owned_rsc);
	ids_free(&c.blocked);
	ids_free(&c.noted_agents);
	ids_free(&c.waiting);
	ids_free(&c.together);
	free(c.held);
	xmlFreeDoc(c.wb);
	return rc;
}
