/*
 * bl_docgen.c - JSON Schema and Markdown reference generated from the field
 * tables in bl_kinds.c (the same tables the validator runs on).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_schema_int.h"

#define SIZE_PATTERN "^[0-9]+([KMGTP]i?)?$"
#define DURATION_PATTERN "^([0-9]+(ms|s|m|h))+$"
#define PERCENT_PATTERN "^([1-9][0-9]?|100)%$"

static json_t *field_schema(const struct bl_field *f);

static json_t *enum_array(const char *const *e)
{
	json_t *a = json_array();

	for (; a && *e; e++)
		json_array_append_new(a, json_string(*e));
	return a;
}

static json_t *object_schema(const struct bl_field *fields)
{
	json_t *o = json_object(), *props = json_object(), *req = json_array();
	const struct bl_field *f;

	for (f = fields; f->name; f++) {
		json_object_set_new(props, f->name, field_schema(f));
		if (f->flags & BL_FF_REQUIRED)
			json_array_append_new(req, json_string(f->name));
	}
	json_object_set_new(o, "type", json_string("object"));
	json_object_set_new(o, "additionalProperties", json_false());
	json_object_set_new(o, "properties", props);
	if (json_array_size(req))
		json_object_set_new(o, "required", req);
	else
		json_decref(req);
	return o;
}

static json_t *int_schema(const struct bl_field *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string("integer"));
	if (f->min < f->max) {
		json_object_set_new(o, "minimum", json_integer(f->min));
		json_object_set_new(o, "maximum", json_integer(f->max));
	}
	return o;
}

static json_t *one_of2(json_t *a, json_t *b)
{
	json_t *o = json_object(), *arr = json_array();

	json_array_append_new(arr, a);
	json_array_append_new(arr, b);
	json_object_set_new(o, "oneOf", arr);
	return o;
}

static json_t *string_schema(const char *pattern)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string("string"));
	if (pattern)
		json_object_set_new(o, "pattern", json_string(pattern));
	return o;
}

static json_t *field_schema(const struct bl_field *f)
{
	json_t *o = NULL, *t;

	switch (f->type) {
	case BL_F_STRING:
		o = string_schema(f->fmt ? f->fmt->pattern : NULL);
		if (f->enums)
			json_object_set_new(o, "enum", enum_array(f->enums));
		if (f->minlen)
			json_object_set_new(o, "minLength",
					    json_integer((json_int_t)f->minlen));
		if (f->maxlen)
			json_object_set_new(o, "maxLength",
					    json_integer((json_int_t)f->maxlen));
		break;
	case BL_F_INT:
		o = int_schema(f);
		break;
	case BL_F_BOOL:
		o = json_object();
		json_object_set_new(o, "type", json_string("boolean"));
		break;
	case BL_F_SIZE:
		t = json_object();
		json_object_set_new(t, "type", json_string("integer"));
		json_object_set_new(t, "minimum", json_integer(512));
		json_object_set_new(t, "multipleOf", json_integer(512));
		o = one_of2(t, string_schema(SIZE_PATTERN));
		break;
	case BL_F_DURATION:
		o = string_schema(DURATION_PATTERN);
		break;
	case BL_F_INTPCT:
		o = one_of2(int_schema(f), string_schema(PERCENT_PATTERN));
		break;
	case BL_F_OBJECT:
		o = object_schema(f->sub);
		break;
	case BL_F_ARRAY:
		o = json_object();
		json_object_set_new(o, "type", json_string("array"));
		json_object_set_new(o, "items", field_schema(f->sub));
		if (f->min > 0)
			json_object_set_new(o, "minItems", json_integer(f->min));
		if (f->max > 0)
			json_object_set_new(o, "maxItems", json_integer(f->max));
		if (f->flags & BL_FF_UNIQUE)
			json_object_set_new(o, "uniqueItems", json_true());
		break;
	case BL_F_STRMAP:
		o = json_object();
		json_object_set_new(o, "type", json_string("object"));
		t = json_object();
		json_object_set_new(t, "type", json_string("string"));
		json_object_set_new(o, "additionalProperties", t);
		break;
	case BL_F_STR_OR_OBJ:
		t = json_object();
		json_object_set_new(t, "type", json_string("string"));
		json_object_set_new(t, "enum", enum_array(f->enums));
		o = one_of2(t, object_schema(f->sub));
		break;
	case BL_F_ANY:
		o = json_object();
		break;
	}
	if (!o)
		return NULL;
	if (f->doc || f->fmt || f->unique || f->def_doc) {
		char *desc = NULL;

		if (asprintf(&desc, "%s%s%s%s%s%s%s%s%s",
			     f->doc ? f->doc : "",
			     f->fmt ? (f->type == BL_F_STRMAP ?
				       " Values must be " : " Must be ") : "",
			     f->fmt ? f->fmt->what : "",
			     f->fmt ? "." : "",
			     f->unique ? " Items are unique by `" : "",
			     f->unique ? f->unique : "",
			     f->unique ? "`." : "",
			     f->def_doc ? " Default: " : "",
			     f->def_doc ? f->def_doc : "") >= 0) {
			json_object_set_new(o, "description", json_string(desc));
			free(desc);
		}
	}
	if (f->def) {
		t = json_loads(f->def, JSON_DECODE_ANY, NULL);
		if (t)
			json_object_set_new(o, "default", t);
	}
	return o;
}

json_t *bl_kind_json_schema(const char *kind)
{
	const struct bl_kind *k = bl_kind_get(kind);
	json_t *o, *props, *req, *t;
	struct bl_field meta = {
		.name = "metadata", .type = BL_F_OBJECT,
		.sub = bl_metadata_fields,
		.doc = "Name, labels and annotations; server-owned fields are "
		       "accepted and ignored.",
	};
	struct bl_field body = {
		.name = k ? k->body : "spec", .type = BL_F_OBJECT,
		.sub = k ? k->fields : NULL,
	};

	if (!k)
		return NULL;
	o = json_object();
	props = json_object();
	req = json_array();
	if (!o || !props || !req)
		goto out_free;
	json_object_set_new(o, "$schema", json_string(
		"https://json-schema.org/draft/2020-12/schema"));
	json_object_set_new(o, "title", json_string(k->kind));
	json_object_set_new(o, "description", json_string(k->doc));
	json_object_set_new(o, "type", json_string("object"));
	json_object_set_new(o, "additionalProperties", json_false());
	t = json_object();
	json_object_set_new(t, "const", json_string(BL_API_VERSION));
	json_object_set_new(props, "apiVersion", t);
	t = json_object();
	json_object_set_new(t, "const", json_string(k->kind));
	json_object_set_new(props, "kind", t);
	json_object_set_new(props, "metadata", field_schema(&meta));
	json_object_set_new(props, k->body, field_schema(&body));
	t = json_object();
	json_object_set_new(t, "description", json_string(
		"Server-owned; ignored on input."));
	json_object_set_new(props, "status", t);
	json_object_set_new(o, "properties", props);
	json_array_append_new(req, json_string("apiVersion"));
	json_array_append_new(req, json_string("kind"));
	json_array_append_new(req, json_string("metadata"));
	json_array_append_new(req, json_string(k->body));
	json_object_set_new(o, "required", req);
	return o;

out_free:
	json_decref(o);
	json_decref(props);
	json_decref(req);
	return NULL;
}

/* ---- Markdown ------------------------------------------------------------*/

static const char *type_name(const struct bl_field *f)
{
	switch (f->type) {
	case BL_F_STRING:     return f->enums ? "enum" : "string";
	case BL_F_INT:        return "integer";
	case BL_F_BOOL:       return "boolean";
	case BL_F_SIZE:       return "size";
	case BL_F_DURATION:   return "duration";
	case BL_F_INTPCT:     return "integer or percent";
	case BL_F_OBJECT:     return "object";
	case BL_F_ARRAY:      return "list";
	case BL_F_STRMAP:     return "map of strings";
	case BL_F_STR_OR_OBJ: return "`none` or object";
	case BL_F_ANY:        return "any";
	}
	return "?";
}

static void md_cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static void md_fields(FILE *out, const struct bl_field *fields,
		      const char *prefix)
{
	const struct bl_field *f;

	for (f = fields; f->name; f++) {
		char path[256];
		const struct bl_field *sub = NULL;
		bool list = false;

		snprintf(path, sizeof(path), "%s%s", prefix, f->name);
		fprintf(out, "| `%s` | %s", path, type_name(f));
		if (f->type == BL_F_ARRAY && f->sub->type != BL_F_OBJECT)
			fprintf(out, " of %s", type_name(f->sub));
		fputs(" | ", out);
		fputs(f->flags & BL_FF_REQUIRED ? "yes" : "", out);
		fputs(" | ", out);
		if (f->def) {
			/* strings without their JSON quotes */
			size_t dl = strlen(f->def);

			fputc('`', out);
			if (dl >= 2 && f->def[0] == '"')
				fprintf(out, "%.*s", (int)(dl - 2), f->def + 1);
			else
				md_cell(out, f->def);
			fputc('`', out);
		} else if (f->def_doc) {
			md_cell(out, f->def_doc);
		}
		fputs(" | ", out);
		md_cell(out, f->doc);
		if (f->enums && f->type == BL_F_STRING) {
			const char *const *e;

			fputs(" One of:", out);
			for (e = f->enums; *e; e++)
				fprintf(out, " `%s`", *e);
			fputc('.', out);
		}
		if (f->type == BL_F_INT && f->min < f->max &&
		    f->max != INT64_MAX)
			fprintf(out, " Range %lld..%lld.", (long long)f->min,
				(long long)f->max);
		if (f->fmt) {
			fputs(f->type == BL_F_STRMAP ? " Values must be " :
			      " Must be ", out);
			md_cell(out, f->fmt->what);
			fputc('.', out);
		}
		if (f->type == BL_F_ARRAY && f->sub->fmt) {
			fputs(" Each must be ", out);
			md_cell(out, f->sub->fmt->what);
			fputc('.', out);
		}
		if (f->minlen)
			fprintf(out, " %zu to %zu bytes.", f->minlen, f->maxlen);
		else if (f->maxlen)
			fprintf(out, " At most %zu bytes.", f->maxlen);
		if (f->type == BL_F_ARRAY && f->min > 0)
			fprintf(out, " %lld to %lld items.", (long long)f->min,
				(long long)f->max);
		else if (f->type == BL_F_ARRAY && f->max > 0)
			fprintf(out, " At most %lld items.", (long long)f->max);
		if (f->type == BL_F_ARRAY && f->unique)
			fprintf(out, " Items are unique by `%s`.", f->unique);
		if (f->type == BL_F_ARRAY && (f->flags & BL_FF_UNIQUE))
			fputs(" Items are unique.", out);
		if (f->type == BL_F_INTPCT)
			fputs(" A percentage is written as a string: `\"25%\"`.",
			      out);
		fputs(" |\n", out);
		if (f->type == BL_F_OBJECT || f->type == BL_F_STR_OR_OBJ)
			sub = f->sub;
		if (f->type == BL_F_ARRAY && f->sub->type == BL_F_OBJECT) {
			sub = f->sub->sub;
			list = true;
		}
		if (sub) {
			char np[300];

			snprintf(np, sizeof(np), "%s%s.", path,
				 list ? "[]" : "");
			md_fields(out, sub, np);
		}
	}
}

static const char md_intro[] =
"# Resource reference\n"
"\n"
"<!-- Generated by build/bollard-schema-gen --markdown from the field\n"
"     tables in schema/bl_kinds.c; `make schemas` rewrites it and a unit\n"
"     test fails when it is stale. Edit the tables, not this file. -->\n"
"\n"
"Every object has `apiVersion: " BL_API_VERSION "`, a `kind`, `metadata`\n"
"and a `spec` (a Secret has `data` instead). Validation is strict: unknown\n"
"fields, wrong types, bad sizes or names, duplicate LUNs and duplicate keys\n"
"are errors, each reported as `file:line:col: path: message`, all of them\n"
"in one run. A field set to null counts as absent. Defaults are applied\n"
"before an object is stored, so writing a default out and leaving it out\n"
"store the same bytes. JSON Schemas for editors are in\n"
"`schema/kinds/<kind>.schema.json`.\n"
"\n"
"YAML is read with the YAML 1.2 core schema, narrowed: booleans are only\n"
"`true`/`false` (`yes`, `no`, `on`, `off` are strings), numbers that do\n"
"not fit in 64 bits are errors, anchors and aliases work (at most 10000\n"
"nodes expanded per document), merge keys (`<<`) do not. Limits: 16 MiB\n"
"per file, 64 levels of nesting.\n"
"\n"
"Sizes are bytes or a number with K, M, G, T, P (powers of 1024; `Ki`, `Mi`,\n"
"`Gi`, `Ti`, `Pi` mean the same). Durations are numbers with `ms`, `s`,\n"
"`m` or `h`, combinable (`1h30m`).\n"
"\n"
"Kinds, in the order apply writes them: ";

int bl_schema_write_markdown(FILE *out)
{
	const struct bl_kind *const *k;
	bool first = true;

	fputs(md_intro, out);
	for (k = bl_kinds(); *k; k++) {
		fprintf(out, "%s[%s](#%s)", first ? "" : ", ", (*k)->kind,
			(*k)->plural);
		first = false;
	}
	fputs(".\n\n## metadata (every kind)\n\n"
	      "| field | type | required | default | description |\n"
	      "|---|---|---|---|---|\n", out);
	md_fields(out, bl_metadata_fields, "metadata.");
	for (k = bl_kinds(); *k; k++) {
		char pre[16];

		fprintf(out, "\n<a id=\"%s\"></a>\n## %s\n\n", (*k)->plural,
			(*k)->kind);
		fprintf(out, "%s Names on the command line: `%s`, `%s`, `%s`.\n\n",
			(*k)->doc, (*k)->kind, (*k)->plural, (*k)->shortname);
		fputs("| field | type | required | default | description |\n"
		      "|---|---|---|---|---|\n", out);
		snprintf(pre, sizeof(pre), "%s.", (*k)->body);
		md_fields(out, (*k)->fields, pre);
	}
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

char *bl_schema_text(const char *kind)
{
	json_t *s = bl_kind_json_schema(kind);
	char *txt, *out = NULL;

	if (!s)
		return NULL;
	txt = json_dumps(s, JSON_INDENT(2));
	json_decref(s);
	if (txt && asprintf(&out, "%s\n", txt) < 0)
		out = NULL;
	free(txt);
	return out;
}
