/*
 * target_print.h - `bollard target show/sessions` output: JSON, YAML and a
 * table, from the client's plain structs. Never prints a secret (the structs
 * hold none).
 */
#ifndef BL_TARGET_PRINT_H
#define BL_TARGET_PRINT_H

#include <stdio.h>

#include "bt_mgmt_client.h"

enum tp_format { TP_TABLE = 0, TP_JSON, TP_YAML };

/* "json", "yaml", "table" (also "wide" = table). -1 if unknown. */
int tp_format_parse(const char *s);

/* 0, or -ENOMEM. */
int tp_print_state(FILE *out, const struct btc_state *s, enum tp_format f);
int tp_print_sessions(FILE *out, const struct btc_session *s, size_t n,
		      enum tp_format f);

#endif
