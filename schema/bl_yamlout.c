/*
 * bl_yamlout.c - print JSON values as readable block YAML.
 *
 * The rule for quoting is "quote when a reader would get something else
 * back": our own composer (bl_yaml.c) and YAML 1.1 readers alike. So words
 * that YAML 1.1 reads as booleans (yes, no, on, off, y, n) are quoted even
 * though bollard itself reads them as strings.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "bl_schema_int.h"

/*
 * Would a YAML 1.1 or 1.2 reader take this plain scalar for a number or a
 * timestamp? Integers (with _ separators, 0x/0o/0b, sexagesimal 1:20),
 * floats with at most one '.', and dates "2026-11-24..." all count;
 * "127.0.0.1" or "10Gi" do not, and stay unquoted.
 */
static bool looks_like_number(const char *s)
{
	const char *p = s;
	bool digit = false;
	int dots = 0;

	if (strlen(s) >= 10 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	    isdigit((unsigned char)s[3]) && s[4] == '-' &&
	    isdigit((unsigned char)s[5]))
		return true;                     /* timestamp */
	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && p[1] && strchr("xXoObB", p[1]))
		return true;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			digit = true;
		} else if (*p == '.') {
			if (++dots > 1)
				return false;
		} else if (*p == '_' || *p == ':') {
			continue;
		} else if ((*p == 'e' || *p == 'E') && digit) {
			p++;
			if (*p == '-' || *p == '+')
				p++;
			if (!*p)
				return false;
			for (; *p; p++)
				if (!isdigit((unsigned char)*p))
					return false;
			return true;
		} else {
			return false;
		}
	}
	return digit;
}

static const char *const special_words[] = {
	"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false",
	"False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On",
	"ON", "off", "Off", "OFF", "y", "Y", "n", "N", ".inf", ".Inf",
	"-.inf", ".nan", ".NaN", "<<", "=", NULL,
};

static bool needs_quotes(const char *s, size_t n)
{
	size_t i;

	for (i = 0; special_words[i]; i++)
		if (!strcmp(s, special_words[i]))
			return true;
	if (strlen(s) != n)
		return true;
	if (looks_like_number(s))
		return true;
	if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
		return true;
	if (s[n - 1] == ' ' || s[n - 1] == ':' || s[n - 1] == '\t')
		return true;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		if (c == ':' && (s[i + 1] == ' ' || s[i + 1] == 0))
			return true;
		if (c == '#' && i > 0 && s[i - 1] == ' ')
			return true;
	}
	return false;
}

static int put_quoted(const char *s, size_t n, FILE *f)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
	return 0;
}

static void put_string(const char *s, size_t n, FILE *f)
{
	if (needs_quotes(s, n))
		put_quoted(s, n, f);
	else
		fwrite(s, 1, n, f);
}

/* Scalars, and empty containers, on the current line. */
static bool put_inline(const json_t *v, FILE *f)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (json_object_size(v))
			return false;
		fputs("{}", f);
		return true;
	case JSON_ARRAY:
		if (json_array_size(v))
			return false;
		fputs("[]", f);
		return true;
	case JSON_STRING:
		put_string(json_string_value(v), json_string_length(v), f);
		return true;
	case JSON_INTEGER:
		fprintf(f, "%lld", (long long)json_integer_value(v));
		return true;
	case JSON_REAL: {
		char buf[40];

		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		/* keep it a float when read back: 1 -> 1.0 */
		if (!strpbrk(buf, ".eEn"))
			strcat(buf, ".0");
		fputs(buf, f);
		return true;
	}
	case JSON_TRUE:
		fputs("true", f);
		return true;
	case JSON_FALSE:
		fputs("false", f);
		return true;
	case JSON_NULL:
		fputs("null", f);
		return true;
	}
	return true;
}

static void indent(int n, FILE *f)
{
	while (n-- > 0)
		fputc(' ', f);
}

static void put_node(const json_t *v, int ind, bool first_inline, FILE *f);

/* A mapping's members at indent ind; the first may already have its
 * indentation printed (list item "- key: v"). */
static void put_map(const json_t *v, int ind, bool first_inline, FILE *f)
{
	const char *k;
	json_t *e;
	bool first = true;

	json_object_foreach((json_t *)v, k, e) {
		if (!(first && first_inline))
			indent(ind, f);
		first = false;
		put_string(k, strlen(k), f);
		fputc(':', f);
		if (json_is_object(e) && json_object_size(e)) {
			fputc('\n', f);
			put_map(e, ind + 2, false, f);
		} else if (json_is_array(e) && json_array_size(e)) {
			fputc('\n', f);
			put_node(e, ind + 2, false, f);
		} else {
			fputc(' ', f);
			put_inline(e, f);
			fputc('\n', f);
		}
	}
}

static void put_node(const json_t *v, int ind, bool first_inline, FILE *f)
{
	size_t i;
	json_t *e;

	if (json_is_object(v) && json_object_size(v)) {
		put_map(v, ind, first_inline, f);
		return;
	}
	if (json_is_array(v) && json_array_size(v)) {
		json_array_foreach((json_t *)v, i, e) {
			if (!(i == 0 && first_inline))
				indent(ind, f);
			fputs("- ", f);
			if ((json_is_object(e) && json_object_size(e)) ||
			    (json_is_array(e) && json_array_size(e))) {
				put_node(e, ind + 2, true, f);
			} else {
				put_inline(e, f);
				fputc('\n', f);
			}
		}
		return;
	}
	if (!first_inline)
		indent(ind, f);
	put_inline(v, f);
	fputc('\n', f);
}

int bl_json_print_yaml(const json_t *v, FILE *f)
{
	if (!v)
		return -EINVAL;
	put_node(v, 0, false, f);
	return ferror(f) ? -EIO : 0;
}
