/*
 * etcd_common.h - the transport-neutral pieces shared by the two etcd
 * clients behind bl_etcd.h: the gRPC one (controller/etcd/etcd_*.c, for
 * bollardd) and the HTTP/1.1 JSON gateway one (controller/etcd/http/, for
 * the `bollard` CLI). Not a public header; see docs/etcd.md.
 */
#ifndef BL_ETCD_COMMON_H
#define BL_ETCD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_etcd.h"

/* Reconnect backoff of the unary retry loop and the watch restarts. */
#define BL_ETCD_BACKOFF_MIN_MS 100
#define BL_ETCD_BACKOFF_MAX_MS 2000

int64_t bl__now_ms(void);
/* Sleep min(*backoff_ms, time left to deadline_ms), then double the backoff
 * (capped at BL_ETCD_BACKOFF_MAX_MS). */
void bl__backoff_sleep(int *backoff_ms, int64_t deadline_ms);
/* [key, end) for a prefix: end is key with the last non-0xff byte + 1, or
 * "\0" (every key >= key) when there is none. *end is malloc'ed. */
int bl__prefix_end(const uint8_t *key, size_t len, uint8_t **end,
		   size_t *end_len);
/*
 * Map a non-OK gRPC status code (the numeric canonical codes: the gRPC
 * client gets them from the call, the gateway puts them in its error
 * body's "code") and etcd's message to a bollard code.
 */
int bl__code_rc(int code, const char *msg);

struct bl_etcd;
/*
 * Split an endpoint list "http://a:1,https://b:2" for either transport:
 * blanks and trailing '/' are dropped, a bare "host:port" is http, any
 * other "scheme://" is refused, and all endpoints must share one scheme
 * (one set of credentials). add(e, hostport, len) is called per endpoint.
 * *tls is set for https. 0, the add callback's error, or -EINVAL with the
 * reason in e's error text (bl__seterr).
 */
int bl__parse_endpoints(struct bl_etcd *e, const char *list,
			int (*add)(struct bl_etcd *e, const char *p, size_t len),
			bool *tls);

/* Canonical gRPC status codes the clients look at by number. */
enum {
	BL_GRPC_OK = 0, BL_GRPC_CANCELLED = 1, BL_GRPC_INVALID_ARGUMENT = 3,
	BL_GRPC_DEADLINE_EXCEEDED = 4, BL_GRPC_NOT_FOUND = 5,
	BL_GRPC_PERMISSION_DENIED = 7, BL_GRPC_RESOURCE_EXHAUSTED = 8,
	BL_GRPC_FAILED_PRECONDITION = 9, BL_GRPC_OUT_OF_RANGE = 11,
	BL_GRPC_UNIMPLEMENTED = 12, BL_GRPC_UNAVAILABLE = 14,
	BL_GRPC_UNAUTHENTICATED = 16,
};

#endif
