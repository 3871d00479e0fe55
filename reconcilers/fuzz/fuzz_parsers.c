/*
 * fuzz_parsers.c - libFuzzer over the reconcilers' parsers of live-state
 * text: DRBD config syntax (`drbdsetup show` and .res files) and agent
 * meta-data / CIB XML. The first byte picks the parser.
 *
 *   make fuzz && build/fuzz/fuzz_parsers -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "drbd_int.h"
#include "pcmk_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drbd_res *v = NULL;
	struct pcmk_agent a = {0};
	size_t n = 0;
	char err[256], *text;

	if (size < 1 || size > 1 << 16)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
	case 1:
		if ((data[0] % 4 == 0 ? drbd_parse_show(text, &v, &n, err, sizeof(err))
		     : drbd_parse_conf(text, "nodea", &v, &n, err, sizeof(err))) == 0) {
			for (size_t i = 0; i < n; i++) {
				char diff[256];

				/* no invariant here: duplicate peer names are
				 * legal input and compare by first match */
				drbd_res_diff(&v[i], &v[0], diff, sizeof(diff));
				(void)drbd_res_equal(&v[i], &v[i]);
			}
			drbd_res_array_free(v, n);
		}
		break;
	case 2:
		pcmk_parse_metadata(text, size - 1, &a);
		pcmk_agent_free(&a);
		break;
	case 3: {
		xmlDocPtr doc = xmlReadMemory(text, (int)(size - 1), "f.xml", NULL,
					      XML_PARSE_NONET | XML_PARSE_NOERROR |
					      XML_PARSE_NOWARNING);
		xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

		if (root) {
			free(pcmk_canon(root));
			free(pcmk_dump(root));
			pcmk_find_id(root, "bollard-x");
		}
		if (doc)
			xmlFreeDoc(doc);
		break;
	}
	}
	free(text);
	return 0;
}
