/*
 * selector.c - kubectl-style equality-based label selectors.
 *
 *   env=prod,tier!=db,managed,!legacy
 *
 * Every requirement must hold. Keys and values are the label charset
 * (alphanumerics, '-', '_', '.', '/'); spaces around tokens are ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool label_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '_' ||
	       ch == '.' || ch == '/';
}

static char *trim_dup(const char *s, size_t len)
{
	char *out;

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	out = malloc(len + 1);
	if (!out)
		return NULL;
	memcpy(out, s, len);
	out[len] = 0;
	return out;
}

static bool valid_token(const char *s, bool allow_empty)
{
	if (!*s)
		return allow_empty;
	if (strlen(s) > 253)
		return false;
	for (; *s; s++)
		if (!label_char(*s))
			return false;
	return true;
}

void selector_free(struct selector *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->v[i].key);
		free(sel->v[i].val);
	}
	free(sel->v);
	sel->v = NULL;
	sel->n = 0;
}

static int parse_one(const char *s, size_t len, struct sel_req *r,
		     char *errbuf, size_t errlen)
{
	char *tok = trim_dup(s, len);
	char *op;
	int rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	if (!tok)
		return -ENOMEM;
	if (!*tok) {
		snprintf(errbuf, errlen, "empty requirement");
		goto out_free_tok;
	}
	if ((op = strstr(tok, "!="))) {
		r->neg = true;
		*op = 0;
		r->val = trim_dup(op + 2, strlen(op + 2));
	} else if ((op = strstr(tok, "=="))) {
		*op = 0;
		r->val = trim_dup(op + 2, strlen(op + 2));
	} else if ((op = strchr(tok, '='))) {
		*op = 0;
		r->val = trim_dup(op + 1, strlen(op + 1));
	} else if (tok[0] == '!') {
		r->neg = true;
		memmove(tok, tok + 1, strlen(tok));
	}
	if (op && !r->val) {
		rc = -ENOMEM;
		goto out_free_tok;
	}
	r->key = trim_dup(tok, strlen(tok));
	if (!r->key) {
		rc = -ENOMEM;
		goto out_free_val;
	}
	if (!valid_token(r->key, false)) {
		snprintf(errbuf, errlen, "invalid label key \"%s\"", r->key);
		goto out_free_key;
	}
	if (r->val && (!valid_token(r->val, true) || strchr(r->val, '/'))) {
		snprintf(errbuf, errlen, "invalid label value \"%s\"", r->val);
		goto out_free_key;
	}
	free(tok);
	return 0;
out_free_key:
	free(r->key);
	r->key = NULL;
out_free_val:
	free(r->val);
	r->val = NULL;
out_free_tok:
	free(tok);
	return rc;
}

int selector_parse(const char *s, struct selector *out, char *errbuf,
		   size_t errlen)
{
	size_t cap = 1;
	const char *p;

	memset(out, 0, sizeof(*out));
	for (p = s; *p; p++)
		if (*p == ',')
			cap++;
	out->v = calloc(cap, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	p = s;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int rc = parse_one(p, len, &out->v[out->n], errbuf, errlen);

		if (rc < 0) {
			selector_free(out);
			return rc;
		}
		out->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

bool selector_match(const struct selector *sel, const json_t *labels)
{
	for (size_t i = 0; i < sel->n; i++) {
		const struct sel_req *r = &sel->v[i];
		json_t *v = labels ? json_object_get(labels, r->key) : NULL;
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		bool ok;

		if (!r->val)
			ok = s != NULL;
		else
			ok = s && !strcmp(s, r->val);
		if (r->neg)
			ok = !ok;
		if (!ok)
			return false;
	}
	return true;
}
