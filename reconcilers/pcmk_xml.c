/*
 * pcmk_xml.c - libxml2 helpers for the Pacemaker reconciler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "bl_err.h"
#include "pcmk_int.h"

struct cbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void cb_put(struct cbuf *b, const char *s)
{
	size_t l = strlen(s);

	if (b->oom)
		return;
	if (b->len + l + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + l + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, l + 1);
	b->len += l;
}

static int cmp_attr(const void *x, const void *y)
{
	xmlAttrPtr a = *(xmlAttrPtr const *)x, b = *(xmlAttrPtr const *)y;

	return strcmp((const char *)a->name, (const char *)b->name);
}

static void canon(struct cbuf *b, xmlNodePtr n)
{
	xmlAttrPtr attrs[64];
	size_t na = 0;

	cb_put(b, "<");
	cb_put(b, (const char *)n->name);
	for (xmlAttrPtr a = n->properties; a && na < 64; a = a->next)
		attrs[na++] = a;
	qsort(attrs, na, sizeof(*attrs), cmp_attr);
	for (size_t i = 0; i < na; i++) {
		xmlChar *v = xmlNodeGetContent((xmlNodePtr)attrs[i]);

		cb_put(b, " ");
		cb_put(b, (const char *)attrs[i]->name);
		cb_put(b, "=\"");
		cb_put(b, v ? (const char *)v : "");
		cb_put(b, "\"");
		xmlFree(v);
	}
	cb_put(b, ">");
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			canon(b, c);
	cb_put(b, "</");
	cb_put(b, (const char *)n->name);
	cb_put(b, ">");
}

char *pcmk_canon(xmlNodePtr n)
{
	struct cbuf b = {0};

	canon(&b, n);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static char *dump(xmlDocPtr doc, xmlNodePtr n)
{
	xmlBufferPtr buf = xmlBufferCreate();
	char *s = NULL;

	if (!buf)
		return NULL;
	if (xmlNodeDump(buf, doc, n, 0, 1) >= 0 &&
	    asprintf(&s, "%s\n", (const char *)xmlBufferContent(buf)) < 0)
		s = NULL;
	xmlBufferFree(buf);
	return s;
}

char *pcmk_dump(xmlNodePtr n)
{
	return dump(n->doc, n);
}

char *pcmk_dump_doc(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	return root ? dump(doc, root) : NULL;
}

xmlNodePtr pcmk_find_id(xmlNodePtr n, const char *id)
{
	for (; n; n = n->next) {
		xmlNodePtr f;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (pcmk_attr_is(n, "id", id))
			return n;
		if ((f = pcmk_find_id(n->children, id)))
			return f;
	}
	return NULL;
}

xmlNodePtr pcmk_child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

char *pcmk_attr(xmlNodePtr n, const char *name)
{
	return (char *)xmlGetProp(n, (const xmlChar *)name);
}

bool pcmk_attr_is(xmlNodePtr n, const char *name, const char *value)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	bool eq = v && !strcmp((const char *)v, value);

	xmlFree(v);
	return eq;
}

bool pcmk_attr_prefix(xmlNodePtr n, const char *name, const char *prefix)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	bool eq = v && !strncmp((const char *)v, prefix, strlen(prefix));

	xmlFree(v);
	return eq;
}

void pcmk_agent_free(struct pcmk_agent *a)
{
	free(a->spec);
	free(a->why);
	for (size_t i = 0; i < a->n; i++)
		free(a->params[i]);
	free(a->params);
	free(a->required);
	memset(a, 0, sizeof(*a));
}

int pcmk_parse_metadata(const char *xml, size_t len, struct pcmk_agent *a)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "meta-data.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR |
				      XML_PARSE_NOWARNING);
	xmlNodePtr root, params;
	int rc = 0;

	if (!doc)
		return BL_E_PARSE;
	root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "resource-agent")) {
		xmlFreeDoc(doc);
		return BL_E_PARSE;
	}
	params = pcmk_child(root, "parameters");
	for (xmlNodePtr c = params ? params->children : NULL; c; c = c->next) {
		char **np;
		bool *nr;
		char *name;

		if (c->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)c->name, "parameter"))
			continue;
		name = pcmk_attr(c, "name");
		if (!name)
			continue;
		np = realloc(a->params, (a->n + 1) * sizeof(*np));
		nr = np ? realloc(a->required, (a->n + 1) * sizeof(*nr)) : NULL;
		if (np)
			a->params = np;
		if (nr)
			a->required = nr;
		if (!np || !nr || !(a->params[a->n] = strdup(name))) {
			xmlFree(name);
			rc = -ENOMEM;
			break;
		}
		xmlFree(name);
		a->required[a->n] = pcmk_attr_is(c, "required", "1") ||
				    pcmk_attr_is(c, "required", "true");
		a->n++;
	}
	xmlFreeDoc(doc);
	if (!rc)
		a->known = true;
	return rc;
}
