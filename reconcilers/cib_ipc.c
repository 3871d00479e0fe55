/*
 * cib_ipc.c - build the CIB manager's requests and read its answers (see
 * cib_ipc.h for the protocol). Pure string work: no I/O, no globals.
 *
 * The answers come from Pacemaker's own XML writer (libxml2, unformatted):
 * one element, attributes in double quotes, values escaped with &quot;
 * &amp; &lt; &gt; (and &#N; for control characters). So a small scanner
 * suffices for the root element's attributes; the payload inside
 * <cib_calldata> is handed on untouched. A '<' or '>' never appears raw in
 * an attribute value of such a document, which is what makes finding the
 * end of a tag and the closing </cib_calldata> by search safe.
 */
#include "cib_ipc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_err.h"

/* A value we put in an attribute must not need escaping: the callers pass
 * names and section ids of our own, never user text. */
static int plain(const char *s)
{
	return s && *s && !strpbrk(s, "\"<>&'");
}

int bl_cib_register_msg(const char *name, char **out)
{
	*out = NULL;
	if (!plain(name))
		return -EINVAL;
	if (asprintf(out, "<cib_command t=\"cib\" cib_op=\"register\" "
		     "cib_clientname=\"%s\" cib_callopt=\"%u\"/>",
		     name, BL_CIB_SYNC_CALL) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int bl_cib_op_msg(const char *op, const char *section, int callid,
		  const char *token, unsigned opts, const char *data,
		  char **out)
{
	char sec[128] = "";

	*out = NULL;
	if (!plain(op) || !plain(token) || callid <= 0 ||
	    (section && !plain(section)) || (data && data[0] != '<'))
		return -EINVAL;
	if (section &&
	    (size_t)snprintf(sec, sizeof(sec), " cib_section=\"%s\"", section) >= sizeof(sec))
		return -EINVAL;
	if (asprintf(out, "<cib_command __name__=\"cib_command\" t=\"cib\" "
		     "cib_async_id=\"%s\" cib_op=\"%s\"%s cib_callid=\"%d\" "
		     "cib_callopt=\"%u\"%s%s%s",
		     token, op, sec, callid, opts,
		     data ? "><cib_calldata>" : "/>", data ? data : "",
		     data ? "</cib_calldata></cib_command>" : "") < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Decode the entities of an attribute value in place (it only shrinks).
 * BL_E_PROTO for an entity we do not know. */
static int unescape(char *s)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&quot;", '"' }, { "&amp;", '&' }, { "&lt;", '<' },
		{ "&gt;", '>' }, { "&apos;", '\'' },
	};
	char *w = s;

	for (const char *r = s; *r; ) {
		size_t i;

		if (*r != '&') {
			*w++ = *r++;
			continue;
		}
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t n = strlen(ents[i].ent);

			if (!strncmp(r, ents[i].ent, n)) {
				*w++ = ents[i].c;
				r += n;
				break;
			}
		}
		if (i < sizeof(ents) / sizeof(ents[0]))
			continue;
		if (r[1] == '#') {      /* &#N; or &#xN; */
			char *end;
			long v = r[2] == 'x' ? strtol(r + 3, &end, 16)
					     : strtol(r + 2, &end, 10);

			if (*end != ';' || v <= 0 || v > 127)
				return BL_E_PROTO;
			*w++ = (char)v;
			r = end + 1;
			continue;
		}
		return BL_E_PROTO;
	}
	*w = '\0';
	return 0;
}

static int to_int(const char *s, int *v)
{
	char *end;
	long l;

	errno = 0;
	l = strtol(s, &end, 10);
	if (!*s || *end || errno || l < -1000000 || l > 1000000000)
		return BL_E_PROTO;
	*v = (int)l;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int bl_cib_reply_parse(char *xml, size_t len, struct bl_cib_reply *r)
{
	static const char open_tag[] = "<cib_calldata>";
	static const char close_tag[] = "</cib_calldata>";
	char *p = xml, *end = xml + len, *tag_end, *d, *q;
	int rc, empty;

	memset(r, 0, sizeof(*r));
	if (strlen(xml) != len)
		return BL_E_PROTO;      /* a NUL inside, or len wrong */
	while (p < end && is_space(*p))
		p++;
	if (p + 1 >= end || *p != '<' || !(p[1] == '_' || (p[1] >= 'a' && p[1] <= 'z') ||
					    (p[1] >= 'A' && p[1] <= 'Z')))
		return BL_E_PROTO;
	tag_end = strchr(p, '>');
	if (!tag_end)
		return BL_E_PROTO;
	empty = tag_end[-1] == '/';
	*tag_end = '\0';
	if (empty)
		tag_end[-1] = '\0';
	/* skip the element's name */
	p++;
	while (*p && !is_space(*p))
		p++;
	/* attributes: name="value" */
	for (;;) {
		char *name, *val;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '=' && !is_space(*p))
			p++;
		if (*p != '=' || p[1] != '"')
			return BL_E_PROTO;
		*p = '\0';
		val = p + 2;
		q = strchr(val, '"');
		if (!q)
			return BL_E_PROTO;
		*q = '\0';
		p = q + 1;
		if ((rc = unescape(val)) < 0)
			return rc;
		if (!strcmp(name, "cib_op")) {
			r->op = val;
		} else if (!strcmp(name, "cib_clientid")) {
			r->clientid = val;
		} else if (!strcmp(name, "cib_callid")) {
			if ((rc = to_int(val, &r->callid)) < 0)
				return rc;
			r->have_callid = 1;
		} else if (!strcmp(name, "cib_rc")) {
			if ((rc = to_int(val, &r->rc)) < 0)
				return rc;
			r->have_rc = 1;
		}
	}
	if (empty)
		return 0;
	/* the payload: between the first <cib_calldata> and the last
	 * </cib_calldata> (the payload itself may not hold one: a '<' in
	 * it starts a tag, and no CIB element has that name). */
	d = strstr(tag_end + 1, open_tag);
	if (!d)
		return 0;
	d += sizeof(open_tag) - 1;
	q = NULL;
	for (char *s = d; (s = strstr(s, close_tag)); s++)
		q = s;
	if (!q)
		return BL_E_PROTO;
	r->data = d;
	r->data_len = (size_t)(q - d);
	return 0;
}

const char *bl_cib_rc_str(int rc)
{
	/* Pacemaker's own codes, results.h: pcmk_err_generic = 201 ... */
	static const char *const pcmk[] = {
		"generic Pacemaker error", "no quorum",
		"update does not conform to the configured schema",
		"schema transform failed", "update was older than existing configuration",
		"application of update diff failed", "application of update diff failed, requesting full refresh",
		"on-disk configuration was manually modified", "could not archive previous configuration",
		"could not save new configuration to disk", "schema is already the latest available",
		"configuration was corrupt", "resource is active on multiple nodes",
		"node not found", "operation already in progress",
		"bad name/value pair given", "unknown output format",
	};

	if (rc == 0)
		return "OK";
	if (rc <= -201 && rc > -201 - (int)(sizeof(pcmk) / sizeof(pcmk[0])))
		return pcmk[-rc - 201];
	if (rc < 0 && rc > -200)
		return strerror(-rc);
	return "unknown CIB error";
}
