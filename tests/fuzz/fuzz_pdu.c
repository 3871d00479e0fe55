/*
 * fuzz_pdu.c - libFuzzer: an arbitrary byte stream into one iSCSI
 * connection of the real engine (transport + SCSI layer, RAM LUN).
 *
 * Input layout: byte 0 selects a prefix (bit 0: a canned valid login to
 * full feature phase first, so most inputs exercise SCSI commands, Data-Out,
 * Text, TMF, NOP ...; bit 1: that login negotiates header and data
 * digests); byte 1 seeds the chunking (the stream is fed in pieces of
 * varying size, as TCP would deliver it); the rest is the stream.
 * After the stream: timers run, the connection is closed, and the next input
 * starts clean (sessions die with their connection).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt_engine.h"
#include "fuzz_host.h"

static size_t put_login(uint8_t *buf, int digests)
{
	static const char keys_plain[] =
		"InitiatorName=iqn.2026-01.io.bollard.fuzz:i\0"
		"TargetName=" FUZZ_TIQN "\0"
		"HeaderDigest=None\0DataDigest=None\0"
		"InitialR2T=No\0ImmediateData=Yes\0MaxBurstLength=65536\0"
		"FirstBurstLength=8192\0MaxRecvDataSegmentLength=8192\0";
	static const char keys_dig[] =
		"InitiatorName=iqn.2026-01.io.bollard.fuzz:i\0"
		"TargetName=" FUZZ_TIQN "\0"
		"HeaderDigest=CRC32C\0DataDigest=CRC32C\0";
	const char *k = digests ? keys_dig : keys_plain;
	size_t klen = digests ? sizeof(keys_dig) - 1 : sizeof(keys_plain) - 1;
	size_t padded = (klen + 3) & ~(size_t)3;

	memset(buf, 0, 48 + padded);
	buf[0] = 0x43;
	buf[1] = 0x87;                    /* T, CSG=1, NSG=3 */
	buf[5] = (uint8_t)(klen >> 16);
	buf[6] = (uint8_t)(klen >> 8);
	buf[7] = (uint8_t)klen;
	buf[8] = 0x80;
	buf[27] = 1;                      /* CmdSN 1 */
	memcpy(buf + 48, k, klen);
	return 48 + padded;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_engine *e = fuzz_engine();
	struct fuzz_conn fc = { 0 };
	struct bt_conn *c;
	uint8_t login[1024];
	unsigned seed;
	size_t pos = 0;

	if (size < 2)
		return 0;
	c = bt_conn_new(e, &fc, "127.0.0.1:3260", "127.0.0.1:50000");
	if (!c)
		return 0;
	if (data[0] & 1) {
		size_t n = put_login(login, data[0] & 2);

		bt_conn_rx(c, login, n);
	}
	seed = data[1] | 1u;
	data += 2;
	size -= 2;
	while (pos < size && !fc.closed) {
		size_t n = 1 + seed % 97;

		seed = seed * 1103515245u + 12345u;
		if (n > size - pos)
			n = size - pos;
		if (bt_conn_rx(c, data + pos, n) < 0)
			break;
		pos += n;
	}
	fuzz_tick(e, 100);
	bt_conn_closed(c);
	return 0;
}
