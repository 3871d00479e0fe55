/*
 * bollard-schema-gen - write the generated schema files.
 *
 *   bollard-schema-gen --json-dir DIR     DIR/<kind>.schema.json for every kind
 *   bollard-schema-gen --markdown FILE    the field reference (docs/schema.md)
 *   bollard-schema-gen --print KIND       one kind's JSON Schema to stdout
 *   bollard-schema-gen --to-yaml FILE     a JSON file printed as YAML by
 *                                         bl_json_print_yaml (a test hook)
 *
 * `make schemas` runs the first two into schema/kinds and docs/schema.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_schema_int.h"

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "bollard-schema-gen: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	fputs(text, f);
	if (fclose(f)) {
		fprintf(stderr, "bollard-schema-gen: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	return 0;
}

static int json_dir(const char *dir)
{
	const char *const *k;
	int rc = 0;

	for (k = bl_kind_names(); *k; k++) {
		char path[4096], lower[32];
		char *text = bl_schema_text(*k);
		size_t i;

		for (i = 0; (*k)[i] && i < sizeof(lower) - 1; i++)
			lower[i] = (char)tolower((unsigned char)(*k)[i]);
		lower[i] = 0;
		snprintf(path, sizeof(path), "%s/%s.schema.json", dir, lower);
		if (!text) {
			fprintf(stderr, "bollard-schema-gen: out of memory\n");
			return 1;
		}
		rc |= write_file(path, text);
		free(text);
	}
	return rc;
}

static int markdown(const char *path)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f) {
		fprintf(stderr, "bollard-schema-gen: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	rc = bl_schema_write_markdown(f);
	if (fclose(f) || rc) {
		fprintf(stderr, "bollard-schema-gen: %s: write failed\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--json-dir"))
		return json_dir(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--markdown"))
		return markdown(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--print")) {
		const char *k = bl_kind_lookup(argv[2]);
		char *text = k ? bl_schema_text(k) : NULL;

		if (!text) {
			fprintf(stderr, "bollard-schema-gen: unknown kind %s\n",
				argv[2]);
			return 1;
		}
		fputs(text, stdout);
		free(text);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--to-yaml")) {
		json_error_t err;
		json_t *v = json_load_file(argv[2], JSON_DECODE_ANY, &err);

		if (!v) {
			fprintf(stderr, "bollard-schema-gen: %s:%d:%d: %s\n",
				argv[2], err.line, err.column, err.text);
			return 1;
		}
		if (bl_json_print_yaml(v, stdout)) {
			json_decref(v);
			return 1;
		}
		json_decref(v);
		return 0;
	}
	fprintf(stderr, "usage: bollard-schema-gen --json-dir DIR | "
		"--markdown FILE | --print KIND | --to-yaml FILE\n");
	return 2;
}
