/*
 * fuzz_login.c - libFuzzer: login text negotiation.
 *
 * The input is split at 0xff bytes into login request data segments. The
 * first byte of each piece picks that request's flags (T, C, CSG, NSG) and
 * its target (bit 7: the CHAP target); the rest is its key=value text, sent
 * as one Login Request PDU through the real engine. So sequences of
 * security and operational stage requests, CHAP exchanges, continuation
 * (C bit) and malformed or oversized keys all reach the login state machine.
 * Each piece's text also goes straight through iscsi_text_parse and the
 * key negotiator.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_engine.h"
#include "fuzz_host.h"
#include "iscsi_int.h"

static int neg_cb(void *arg, const char *key, const char *val)
{
	struct iscsi_neg *n = arg;
	struct iscsi_text_out o = { 0 };

	iscsi_neg_key(n, key, val, &o);
	iscsi_text_free(&o);
	return 0;
}

static void send_login(struct bt_conn *c, uint8_t flags, const uint8_t *text,
		       size_t len, uint32_t cmdsn)
{
	size_t padded = (len + 3) & ~(size_t)3;
	uint8_t *buf = calloc(1, 48 + padded);

	buf[0] = 0x43;
	buf[1] = flags & 0xcf;
	if (flags & 0x10)                 /* sometimes an invalid CSG/NSG    */
		buf[1] = flags;
	buf[5] = (uint8_t)(len >> 16);
	buf[6] = (uint8_t)(len >> 8);
	buf[7] = (uint8_t)len;
	buf[8] = 0x80;
	buf[27] = (uint8_t)cmdsn;
	memcpy(buf + 48, text, len);
	bt_conn_rx(c, buf, 48 + padded);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_engine *e = fuzz_engine();
	struct fuzz_conn fc = { 0 };
	struct bt_conn *c;
	size_t pos = 0;
	uint32_t n = 0;

	if (size < 1 || size > 65536)
		return 0;
	c = bt_conn_new(e, &fc, "127.0.0.1:3260", "127.0.0.1:50001");
	if (!c)
		return 0;
	while (pos < size && !fc.closed && n < 16) {
		const uint8_t *end = memchr(data + pos, 0xff, size - pos);
		size_t plen = end ? (size_t)(end - (data + pos)) : size - pos;
		uint8_t flags = plen ? data[pos] : 0x87;
		const uint8_t *text = plen ? data + pos + 1 : data + pos;
		size_t tlen = plen ? plen - 1 : 0;
		uint8_t *withname;
		struct iscsi_neg neg;
		size_t nl;
		const char *tname = (flags & 0x20) ? FUZZ_TIQN_CHAP : FUZZ_TIQN;
		char prefix[160];

		iscsi_neg_init(&neg, flags & 0x40);
		iscsi_text_parse(text, (u32)tlen, neg_cb, &neg);
		/* The first request names initiator and target, or it would
		 * stop at "missing parameter" nearly every time. */
		nl = n == 0 && !(flags & 0x08) ?
			(size_t)snprintf(prefix, sizeof(prefix),
					 "InitiatorName=iqn.2026-01.io.bollard.fuzz:l%c"
					 "TargetName=%s%c", 0, tname, 0) : 0;
		withname = malloc(nl + tlen + 1);
		memcpy(withname, prefix, nl);
		memcpy(withname + nl, text, tlen);
		send_login(c, flags & 0xc7 ? flags : (uint8_t)(flags | 0x87),
			   withname, nl + tlen, 1);
		free(withname);
		pos += plen + 1;
		n++;
	}
	fuzz_tick(e, 20000);              /* login timeout path */
	bt_conn_closed(c);
	return 0;
}
