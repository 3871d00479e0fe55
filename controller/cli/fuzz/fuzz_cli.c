/*
 * fuzz_cli.c - libFuzzer over the CLI's own parsers: label selectors
 * (user-typed -l) and the unified diff of two texts. The input is split at
 * the first NUL: selector text, then "old\0new" for the diff.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	const char *a, *b;
	struct selector sel;
	char err[128];
	FILE *devnull;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	buf[size + 1] = 0;
	if (selector_parse(buf, &sel, err, sizeof(err)) == 0) {
		json_t *l = json_pack("{s:s,s:s}", "a", "b", "env", "prod");

		selector_match(&sel, l);
		selector_match(&sel, NULL);
		json_decref(l);
		selector_free(&sel);
	}
	a = buf;
	b = buf + strlen(buf) + 1;
	if (b > buf + size)
		b = "";
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		udiff(a, b, "a", "b", devnull);
		fclose(devnull);
	}
	free(buf);
	return 0;
}
