/* tests/ha/caw.h - the COMPARE AND WRITE heartbeat of the HA failover test.
 *
 * An ESXi host keeps a VMFS datastore by an ATS heartbeat: every few
 * seconds, COMPARE AND WRITE (SBC-3, opcode 0x89) of its heartbeat block,
 * comparing the value it last wrote and writing the next. A failover must
 * never give that heartbeat an error the host treats as fatal: only a
 * retryable condition, or a MISCOMPARE that the host can explain because
 * its previous CAW had no answer (the host then reads the block and finds
 * its own new value, as ESXi does).
 *
 * This file is the judge, without any iSCSI: ha_client.c runs the CAWs
 * and feeds each outcome here; tests/unit/test_ha_caw.c feeds made-up
 * outcomes (a survivor that answers a hard error must fail the test).
 *
 * The heartbeat block holds generation g >= 1 (caw_fill): the magic
 * "BOLLARDCAW", g, a payload derived from g and a CRC-32. A CAW tries
 * cur -> cur + 1. Its outcome is
 *   known        GOOD (cur + 1 is in the block), or an answer that says
 *                the command was not performed (UNIT ATTENTION, NOT READY,
 *                BUSY, TASK SET FULL);
 *   unknown      no answer: the connection went, the client's timeout
 *                fired, or the client process ended with it in flight.
 *                The block now holds cur or cur + 1 and only a later CAW
 *                (or read) can tell.
 * A MISCOMPARE is explained only while an unknown outcome is pending and
 * the block then reads cur + 1; any other value (cur itself, a third
 * value) is a failure, and so is any other error (RESERVATION CONFLICT
 * included: the client holds the reservation, which must survive the
 * failover).
 */
#ifndef BOLLARD_TESTS_HA_CAW_H
#define BOLLARD_TESTS_HA_CAW_H

#include <stdint.h>
#include <stddef.h>

/* What one CAW attempt came back with. */
enum caw_kind {
	CAW_OK,
	CAW_MISCOMPARE,          /* resolved by caw_miscompare() */
	CAW_RETRY_CONN,          /* no answer: connection lost / cancelled */
	CAW_RETRY_TIMEOUT,       /* no answer within the client's timeout */
	CAW_RETRY_UA,            /* CHECK CONDITION, UNIT ATTENTION */
	CAW_RETRY_NOT_READY,     /* CHECK CONDITION, NOT READY, ASC 04h */
	CAW_RETRY_BUSY,          /* status BUSY */
	CAW_RETRY_TASK_SET_FULL, /* status TASK SET FULL */
	CAW_FATAL,               /* anything else */
	CAW_KIND_MAX
};

/* caw_classify()'s status for "no answer". Real SCSI status bytes are
 * 0..0xff. */
#define CAW_NO_ANSWER      (-1)
#define CAW_NO_ANSWER_TIME (-2)

/* SCSI status byte (or CAW_NO_ANSWER*), sense key, ASC << 8 | ASCQ. */
enum caw_kind caw_classify(int status, int key, int asc_ascq);
const char *caw_kind_str(enum caw_kind k);
/* 1 for every CAW_RETRY_* kind. */
int caw_retryable(enum caw_kind k);

/* The heartbeat's state, kept in a file across client invocations (one
 * invocation per reconnect while the test waits for the survivor).
 * unknown is 0 or cur + 1 (a CAW cur -> cur + 1 had no answer).
 * inflight is 1 between sending a CAW and taking its answer: a state file
 * found with it set means the client ended with a CAW in flight. */
struct caw_state {
	uint64_t lba;
	uint32_t cur;
	uint32_t unknown;
	int inflight;
};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) of n bytes: the
 * checksum in the last 4 bytes of a heartbeat block and of ha_client's
 * numbered blocks. */
uint32_t caw_crc32(const unsigned char *p, size_t n);
/* Generation g (>= 1) as the content of a block of bs bytes (bs >= 64). */
void caw_fill(unsigned char *b, uint32_t bs, uint32_t g);
/* The generation a block holds, 0 for an all-zero block, -1 for anything
 * else (torn, foreign, damaged). */
int64_t caw_value(const unsigned char *b, uint32_t bs);

/* Before sending a CAW: marks it in flight and its outcome unknown until
 * caw_answer(). Returns the state's unknown before the attempt, for
 * caw_answer(). */
uint32_t caw_begin(struct caw_state *s);
/* Takes a known or unknown outcome (not MISCOMPARE, not FATAL). */
void caw_answer(struct caw_state *s, enum caw_kind k, uint32_t unknown_before);
/* A MISCOMPARE and the block read back right after it (NULL: the read
 * failed). 0: explained (the pending unknown CAW did land; cur advances);
 * -EPROTO with *why set: not explained. */
int caw_miscompare(struct caw_state *s, uint32_t unknown_before,
		   const unsigned char *blk, uint32_t bs, const char **why);
/* The block at the end: 0 if it holds cur (or cur + 1 while unknown). */
int caw_final(const struct caw_state *s, const unsigned char *blk, uint32_t bs,
	      const char **why);

/* State file: one line "lba cur unknown inflight". 0 or -errno. */
int caw_state_load(const char *path, struct caw_state *s);
int caw_state_save(const char *path, const struct caw_state *s);

#endif
