/*
 * test_plan_pcmk.c - Pacemaker reconciler helpers (pcmk_xml.c) and the
 * ownership rules, driven through the reconciler's ops with an in-memory
 * CIB.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libxml/parser.h>

#include "bl_err.h"
#include "pcmk_int.h"
#include "reconciler.h"

static xmlNodePtr parse(xmlDocPtr *doc, const char *xml)
{
	*doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
			     XML_PARSE_NOBLANKS);
	assert_non_null(*doc);
	return xmlDocGetRootElement(*doc);
}

/* Attribute order, whitespace and comments do not matter; values do. */
static void test_canon(void **state)
{
	xmlDocPtr d1, d2, d3;
	char *c1, *c2, *c3;

	(void)state;
	c1 = pcmk_canon(parse(&d1, "<p id=\"x\" class=\"ocf\"><!-- c -->\n"
				   "  <nv name=\"a\" value=\"1\"/></p>"));
	c2 = pcmk_canon(parse(&d2, "<p class=\"ocf\" id=\"x\"><nv value=\"1\" name=\"a\"/></p>"));
	c3 = pcmk_canon(parse(&d3, "<p class=\"ocf\" id=\"x\"><nv value=\"2\" name=\"a\"/></p>"));
	assert_string_equal(c1, "<p class=\"ocf\" id=\"x\"><nv name=\"a\" value=\"1\"></nv></p>");
	assert_string_equal(c1, c2);
	assert_string_not_equal(c1, c3);
	free(c1);
	free(c2);
	free(c3);
	xmlFreeDoc(d1);
	xmlFreeDoc(d2);
	xmlFreeDoc(d3);
}

static void test_metadata(void **state)
{
	static const char md[] =
		"<?xml version=\"1.0\"?><resource-agent name=\"x\"><parameters>"
		"<parameter name=\"ip\" required=\"1\"/><parameter name=\"nic\"/>"
		"</parameters></resource-agent>";
	struct pcmk_agent a = {0};

	(void)state;
	assert_int_equal(pcmk_parse_metadata(md, strlen(md), &a), 0);
	assert_true(a.known);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.params[0], "ip");
	assert_true(a.required[0]);
	assert_false(a.required[1]);
	pcmk_agent_free(&a);
	assert_int_equal(pcmk_parse_metadata("<x/>", 4, &a), BL_E_PARSE);
	assert_int_equal(pcmk_parse_metadata("not xml", 7, &a), BL_E_PARSE);
	pcmk_agent_free(&a);
}

/* ---- ownership through the reconciler ------------------------------------*/

struct fake {
	const char *cib;
};

static int fake_run(void *arg, const char *const *argv, const char *in,
		    size_t in_len, struct bl_run_out *o)
{
	struct fake *f = arg;

	memset(o, 0, sizeof(*o));
	if (!strcmp(argv[0], "cibadmin")) {
		o->out = strdup(f->cib);
		o->out_len = strlen(f->cib);
	} else {
		o->out = strdup(""); /* no meta-data: checks are skipped */
		o->status = 1;
	}
	o->err = strdup("");
	return 0;
}

static const char yaml[] =
	"apiVersion: bollard.io/v1alpha1\nkind: Cluster\nmetadata: {name: lab}\n"
	"spec:\n  ha: pacemaker\n  quorum: majority\n  nodes:\n"
	"    - {name: nodea, address: 192.0.2.1}\n"
	"    - {name: nodeb, address: 192.0.2.2}\n";

#define CIB_HEAD "<cib validate-with=\"pacemaker-3.9\"><configuration><crm_config>" \
	"<cluster_property_set id=\"bollard-options\"><nvpair id=\"bollard-options-no-quorum-policy\" " \
	"name=\"no-quorum-policy\" value=\"stop\"/></cluster_property_set></crm_config><nodes/>"

static void plan_with(const char *cib, struct bl_plan *p)
{
	struct fake f = { cib };
	struct bl_rec_ctx ctx = { .node = "nodea" };
	struct bl_objlist objs;
	struct bl_diag d = {0};

	ctx.io = (struct bl_rec_io){ fake_run, NULL, NULL, &f };
	bl_objlist_init(&objs);
	assert_int_equal(bl_parse_buf("t.yaml", yaml, strlen(yaml), &objs, &d), 0);
	assert_int_equal(bl_reconcile_plan(&bl_pacemaker_reconciler, &ctx, &objs, p), 0);
	bl_objlist_free(&objs);
	bl_diag_free(&d);
}

/*
 * No targets are wanted. Owned: the group with our marker and the
 * constraint naming only it. Not owned: a primitive with our prefix but
 * no marker, a constraint with our prefix naming it, foreign things.
 */
static void test_ownership(void **state)
{
	static const char cib[] = CIB_HEAD
		"<resources>"
		"<group id=\"bollard-old\" description=\"bollard-managed: Target/old\">"
		"<primitive id=\"bollard-old-ip-0\" class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\"/></group>"
		"<primitive id=\"bollard-mine\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>"
		"<primitive id=\"web\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>"
		"</resources><constraints>"
		"<rsc_location id=\"bollard-old-loc\" rsc=\"bollard-old\" node=\"nodea\" score=\"1\"/>"
		"<rsc_location id=\"bollard-mine-loc\" rsc=\"bollard-mine\" node=\"nodea\" score=\"1\"/>"
		"<rsc_order id=\"bollard-mixed\" first=\"bollard-old\" then=\"web\"/>"
		"</constraints></configuration><status/></cib>";
	struct bl_plan p;

	(void)state;
	plan_with(cib, &p);
	/* bollard-old itself stays: the foreign bollard-mixed names it */
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0].object, "bollard-old-loc");
	assert_string_equal(p.v[0].verb, "delete");
	assert_string_equal(p.v[0].argv[0], "cibadmin");
	assert_string_equal(p.v[0].argv[1], "--delete");
	assert_int_equal(p.nconds, 1);
	assert_string_equal(p.conds[0].object, "bollard-old");
	assert_string_equal(p.conds[0].reason, "InUse");
	bl_plan_free(&p);
	/* without the foreign constraint it goes */
	{
		char *c2 = strdup(cib), *m = strstr(c2, "<rsc_order");

		memmove(m, strstr(m, "/>") + 2, strlen(strstr(m, "/>") + 2) + 1);
		plan_with(c2, &p);
		assert_int_equal(p.n, 2);
		assert_string_equal(p.v[1].object, "bollard-old");
		assert_string_equal(p.v[1].verb, "delete");
		bl_plan_free(&p);
		free(c2);
	}
}

/* Drift in our property set is put back; unchanged gives nothing. */
static void test_property_drift(void **state)
{
	static const char cib[] = CIB_HEAD
		"<resources/><constraints/></configuration><status/></cib>";
	struct bl_plan p;
	char *drift = strdup(cib), *v;

	(void)state;
	plan_with(cib, &p);
	assert_int_equal(p.n, 0);
	bl_plan_free(&p);
	v = strstr(drift, "value=\"stop\"");
	memcpy(v, "value=\"kill\"", 12);
	plan_with(drift, &p);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.v[0].verb, "validate");
	assert_string_equal(p.v[1].verb, "update");
	assert_non_null(strstr(p.v[1].desc, "bollard-options-no-quorum-policy"));
	bl_plan_free(&p);
	free(drift);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_ownership),
		cmocka_unit_test(test_property_drift),
	};

	return cmocka_run_group_tests_name("plan_pcmk", tests, NULL, NULL);
}
