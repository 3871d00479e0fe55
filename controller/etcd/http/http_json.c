/*
 * http_json.c - the gateway's JSON encoding of etcd's protobuf messages
 * (protobuf's canonical JSON mapping): bytes are base64, int64/uint64 are
 * decimal strings, fields equal to their default (0, false, "") are left
 * out, enums are their names.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

static const char b64c[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *bl__b64(const void *src, size_t n)
{
	const uint8_t *p = src;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64c[v >> 18];
		*o++ = b64c[(v >> 12) & 63];
		*o++ = b64c[(v >> 6) & 63];
		*o++ = b64c[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = b64c[v >> 18];
		*o++ = b64c[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64c[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

json_t *bl__jb64(const void *p, size_t n)
{
	char *s = bl__b64(p, n);
	json_t *j;

	if (!s)
		return NULL;
	j = json_string(s);
	free(s);
	return j;
}

static int b64v(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int bl__unb64(const char *s, char **out, size_t *n)
{
	size_t len = s ? strlen(s) : 0, k = 0;
	uint32_t acc = 0;
	int bits = 0;
	char *d = malloc(len / 4 * 3 + 4);

	*out = NULL;
	*n = 0;
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int v;

		if (s[i] == '=')
			break;
		v = b64v(s[i]);
		if (v < 0) {
			free(d);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[k++] = (char)(acc >> bits);
		}
	}
	d[k] = '\0';
	*out = d;
	*n = k;
	return 0;
}

int64_t bl__jint(const json_t *o, const char *name)
{
	const json_t *v = json_object_get(o, name);

	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	if (json_is_integer(v))
		return json_integer_value(v);
	return 0;
}

json_t *bl__jint_new(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

int64_t bl__jrev(const json_t *resp)
{
	return bl__jint(json_object_get(resp, "header"), "revision");
}

int bl__jkv(struct bl_kv *dst, const json_t *kv, bool value)
{
	const char *k = json_string_value(json_object_get(kv, "key"));
	const char *v = value ? json_string_value(json_object_get(kv, "value")) : NULL;
	int rc;

	memset(dst, 0, sizeof(*dst));
	rc = bl__unb64(k, &dst->key, &dst->key_len);
	if (rc == 0)
		rc = bl__unb64(v, &dst->value, &dst->value_len);
	if (rc < 0) {
		free(dst->key);
		free(dst->value);
		memset(dst, 0, sizeof(*dst));
		return rc;
	}
	dst->create_revision = bl__jint(kv, "create_revision");
	dst->mod_revision = bl__jint(kv, "mod_revision");
	dst->version = bl__jint(kv, "version");
	dst->lease = bl__jint(kv, "lease");
	return 0;
}

int bl__jerror(const json_t *body, char *msg, size_t msglen)
{
	const json_t *err = json_object_get(body, "error");
	const char *m;

	if (json_is_object(err)) {
		/* In a stream: {"error":{"grpc_code":14,"http_code":503,...}} */
		m = json_string_value(json_object_get(err, "message"));
		snprintf(msg, msglen, "%s", m ? m : "");
		return (int)bl__jint(err, "grpc_code");
	}
	if (!err && !json_object_get(body, "code"))
		return -1;
	m = json_string_value(json_object_get(body, "message"));
	if (!m)
		m = json_string_value(err);
	snprintf(msg, msglen, "%s", m ? m : "");
	return (int)bl__jint(body, "code");
}
