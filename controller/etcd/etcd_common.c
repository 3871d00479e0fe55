/*
 * etcd_common.c - pieces of the etcd client that do not depend on the
 * transport: clocks and backoff, prefix ranges, freeing listings and the
 * mapping of etcd's status codes to bollard's. Linked into both
 * libbl_etcd.a (gRPC) and libbl_etcd_http.a (JSON gateway).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_err.h"
#include "etcd_common.h"

int64_t bl__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bl__backoff_sleep(int *backoff_ms, int64_t deadline_ms)
{
	int64_t left = deadline_ms - bl__now_ms();
	int64_t ms = *backoff_ms < left ? *backoff_ms : left;
	struct timespec ts;

	if (ms > 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	*backoff_ms *= 2;
	if (*backoff_ms > BL_ETCD_BACKOFF_MAX_MS)
		*backoff_ms = BL_ETCD_BACKOFF_MAX_MS;
}

int bl__prefix_end(const uint8_t *key, size_t len, uint8_t **end,
		   size_t *end_len)
{
	size_t n = len;
	uint8_t *p;

	while (n && key[n - 1] == 0xff)
		n--;
	if (!n) {
		/* No byte can be incremented: the range is open-ended. */
		p = malloc(1);
		if (!p)
			return -ENOMEM;
		p[0] = 0;
		*end = p;
		*end_len = 1;
		return 0;
	}
	p = malloc(n);
	if (!p)
		return -ENOMEM;
	memcpy(p, key, n);
	p[n - 1]++;
	*end = p;
	*end_len = n;
	return 0;
}

void bl_kvs_free(struct bl_kvs *kvs)
{
	size_t i;

	if (!kvs)
		return;
	for (i = 0; i < kvs->n; i++) {
		free(kvs->kvs[i].key);
		free(kvs->kvs[i].value);
	}
	free(kvs->kvs);
	memset(kvs, 0, sizeof(*kvs));
}

/*
 * etcd 3.4 status codes (etcdserver/api/v3rpc/rpctypes): compaction is
 * OutOfRange, a bad user/password is InvalidArgument "authentication
 * failed", an expired token is Unauthenticated "invalid auth token",
 * missing rights are PermissionDenied, "no leader" is Unavailable.
 */
int bl__code_rc(int code, const char *msg)
{
	switch (code) {
	case BL_GRPC_OK:
		return 0;
	case BL_GRPC_DEADLINE_EXCEEDED:
		return -ETIMEDOUT;
	case BL_GRPC_UNAVAILABLE:
		return BL_E_UNAVAILABLE;
	case BL_GRPC_CANCELLED:
		return BL_E_CANCELED;
	case BL_GRPC_UNAUTHENTICATED:
	case BL_GRPC_PERMISSION_DENIED:
		return BL_E_AUTH;
	case BL_GRPC_RESOURCE_EXHAUSTED:
		return BL_E_ETCD;
	case BL_GRPC_NOT_FOUND:
		return -ENOENT;
	case BL_GRPC_OUT_OF_RANGE:
		if (msg && strstr(msg, "compacted"))
			return BL_E_COMPACTED;
		return BL_E_ETCD;
	case BL_GRPC_INVALID_ARGUMENT:
	case BL_GRPC_FAILED_PRECONDITION:
		if (msg && (strstr(msg, "authentication failed") ||
			    strstr(msg, "user name") ||
			    strstr(msg, "authentication is not enabled") ||
			    strstr(msg, "permission denied")))
			return BL_E_AUTH;
		return BL_E_ETCD;
	default:
		return BL_E_ETCD;
	}
}

/* Each transport's internal header declares the same; it sets e's error
 * text (bl_etcd_errmsg). */
void bl__seterr(struct bl_etcd *e, const char *fmt, ...);

int bl__parse_endpoints(struct bl_etcd *e, const char *list,
			int (*add)(struct bl_etcd *e, const char *p, size_t len),
			bool *tls)
{
	const char *p = list;
	int scheme = -1, n = 0, rc;    /* scheme: -1 none yet, 0 http, 1 https */

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int s = 0;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= 7 && !strncmp(p, "http://", 7)) {
			p += 7;
			len -= 7;
		} else if (len >= 8 && !strncmp(p, "https://", 8)) {
			p += 8;
			len -= 8;
			s = 1;
		} else if (memmem(p, len, "://", 3)) {
			bl__seterr(e, "endpoint '%.*s': unsupported scheme",
				   (int)len, p);
			return -EINVAL;
		}
		while (len && (p[len - 1] == '/' || p[len - 1] == ' '))
			len--;
		if (len) {
			if (scheme >= 0 && scheme != s) {
				bl__seterr(e, "endpoints mix http:// and https://");
				return -EINVAL;
			}
			scheme = s;
			rc = add(e, p, len);
			if (rc < 0)
				return rc;
			n++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (!n) {
		bl__seterr(e, "no etcd endpoints given");
		return -EINVAL;
	}
	*tls = scheme == 1;
	return 0;
}
