/*
 * pcmk_int.h - the Pacemaker reconciler's model and XML helpers, shared by
 * pacemaker.c (desired, observe, plan) and pcmk_xml.c (libxml2 helpers).
 *
 * Ownership. bollard only ever creates, changes or deletes CIB elements it
 * owns:
 *   - resources (top-level primitive/group/clone in <resources>): the id
 *     starts with "bollard-" AND the description starts with
 *     "bollard-managed";
 *   - cluster_property_set in <crm_config>: the id starts with "bollard-"
 *     (nvsets have no description in the schema);
 *   - constraints: the id starts with "bollard-" AND every resource the
 *     constraint names is an owned resource (constraints have no
 *     description either; this keeps a foreign constraint that merely
 *     borrowed our prefix out of reach).
 * An element whose id we want but which is not owned is a collision: it is
 * reported as a NotOwned condition and left alone.
 */
#ifndef BL_PCMK_INT_H
#define BL_PCMK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>

#include "plan.h"
#include "reconciler.h"

#define PCMK_PREFIX  BL_PCMK_PREFIX
#define PCMK_MARKER  "bollard-managed"

/* One element bollard wants in the CIB (top level of its section). */
struct pcmk_elem {
	char *id;
	const char *section;     /* "crm_config" "resources" "constraints" */
	enum bl_stage stage;
	xmlNodePtr node;         /* owned by the model's doc               */
	char *volume;            /* a DRBD clone: its Volume; else NULL    */
	long long generation;    /* ... and that Volume's generation       */
	char **needs;            /* a Target's group: the DRBD clones it is
	                          * colocated with (it cannot run without) */
	size_t nneeds;
};

/*
 * Observed: whether a node reported a Volume's DRBD config rendered
 * (drbd.configured in its Volume status, at the Volume's generation or
 * later). why: when not, a phrase for the plan ("nodeb has reported no
 * status for Volume db").
 */
struct pcmk_ready {
	char *volume, *node;
	bool ok;
	char *why;
};

/* An agent's parameters from its meta-data. */
struct pcmk_agent {
	char *spec;              /* "ocf:heartbeat:IPaddr2"                */
	bool known;              /* meta-data was read                     */
	char *why;               /* when !known: why not                   */
	char **params;
	bool *required;
	size_t n;
};

struct pcmk_cond {
	char *object, *reason, *msg;
};

struct pcmk_model {
	xmlDocPtr doc;           /* desired: holder of elements; observed: CIB */
	struct pcmk_elem *v;     /* desired elements                        */
	size_t n;
	struct pcmk_agent *agents; /* desired: specs used; observed: meta-data */
	size_t nagents;
	struct pcmk_cond *conds;
	size_t nconds;
	char **nodes;            /* desired: the Cluster's nodes            */
	size_t nnodes;
	struct pcmk_ready *ready;/* observed: per (clone Volume, node); NULL
	                          * with gated false: status not readable,
	                          * nothing is gated                       */
	size_t nready;
	bool gated;
};

struct bl_rec_ctx;
/* pacemaker_plan.c: the plan() of the reconciler (want/have are models). */
int pcmk_plan(const struct bl_rec_ctx *ctx, const void *want,
	      const void *have, struct bl_plan *p);

/* ---- pcmk_xml.c ------------------------------------------------------*/

/* Canonical one-line form for comparison: element names, attributes
 * sorted by name, children in order; text, comments and whitespace
 * ignored. New string or NULL (ENOMEM). */
char *pcmk_canon(xmlNodePtr n);
/* Pretty XML of one element (two-space indent, trailing newline). */
char *pcmk_dump(xmlNodePtr n);
/* Whole document, pretty. */
char *pcmk_dump_doc(xmlDocPtr doc);
/* Element with attribute id == id under n (n included), or NULL. */
xmlNodePtr pcmk_find_id(xmlNodePtr n, const char *id);
/* First child element named name, or NULL. */
xmlNodePtr pcmk_child(xmlNodePtr n, const char *name);
/* Attribute value as a new string or NULL (free with xmlFree). */
char *pcmk_attr(xmlNodePtr n, const char *name);
bool pcmk_attr_is(xmlNodePtr n, const char *name, const char *value);
bool pcmk_attr_prefix(xmlNodePtr n, const char *name, const char *prefix);
/* Parse an agent's meta-data XML into a. Returns 0 or BL_E_PARSE. */
int pcmk_parse_metadata(const char *xml, size_t len, struct pcmk_agent *a);
void pcmk_agent_free(struct pcmk_agent *a);

#endif
