/*
 * iscsi_int.h - internals of the iSCSI transport (RFC 7143), shared by the
 * iscsi_*.c files only. Nothing outside kernel/core/iscsi_*.c and the iSCSI
 * unit tests and fuzzers includes this.
 *
 * Layout of the transport:
 *   iscsi_pdu.c      wire constants, PDU send helper, digests, rx framing
 *   iscsi_text.c     key=value text: parse, build, value helpers
 *   iscsi_neg.c      operational key negotiation (pure, unit tested)
 *   iscsi_chap.c     CHAP (MD5) challenge / response (pure, unit tested)
 *   iscsi_login.c    the login state machine (stages, auth, session start)
 *   iscsi_conn.c     bt_conn_* entry points, full feature dispatch, NOP,
 *                    Text, Logout, TMF, Reject
 *   iscsi_cmd.c      SCSI Command, Data-Out, R2T, Data-In, SCSI Response
 *   iscsi_session.c  sessions, TSIH, reinstatement, the bt_iscsi_* hooks,
 *                    timers and shutdown
 *
 * Object lifetimes. A struct bt_conn lives from bt_conn_new until the host
 * calls bt_conn_closed AND no task submitted to the SCSI layer still refers
 * to it. A session lives while it has a connection or a task in the SCSI
 * layer; its nexus is unregistered only when it is freed, so the SCSI layer
 * never sees a nexus vanish under a command it is executing. The engine
 * never frees a connection on its own (see bt_engine.h): on a fatal error it
 * calls ops->conn_close and keeps the conn as a dead husk that swallows
 * further input until the host reports the socket gone.
 */
#ifndef BT_ISCSI_INT_H
#define BT_ISCSI_INT_H

#include "bt_engine.h"
#include "bt_scsi.h"
#include "bt_iscsi.h"
#include "crc32c.h"

/* ---- wire constants ----------------------------------------------------- */

#define ISCSI_BHS_LEN        48
#define ISCSI_AHS_MAX        1020      /* TotalAHSLength is 8 bits of words */
#define ISCSI_HDR_MAX        (ISCSI_BHS_LEN + ISCSI_AHS_MAX + 4)
#define ISCSI_RSVD_TAG       0xffffffffu

/* initiator opcodes */
#define ISCSI_OP_NOP_OUT     0x00
#define ISCSI_OP_SCSI_CMD    0x01
#define ISCSI_OP_TMF_REQ     0x02
#define ISCSI_OP_LOGIN_REQ   0x03
#define ISCSI_OP_TEXT_REQ    0x04
#define ISCSI_OP_DATA_OUT    0x05
#define ISCSI_OP_LOGOUT_REQ  0x06
#define ISCSI_OP_SNACK       0x10
/* target opcodes */
#define ISCSI_OP_NOP_IN      0x20
#define ISCSI_OP_SCSI_RSP    0x21
#define ISCSI_OP_TMF_RSP     0x22
#define ISCSI_OP_LOGIN_RSP   0x23
#define ISCSI_OP_TEXT_RSP    0x24
#define ISCSI_OP_DATA_IN     0x25
#define ISCSI_OP_LOGOUT_RSP  0x26
#define ISCSI_OP_R2T         0x31
#define ISCSI_OP_ASYNC       0x32
#define ISCSI_OP_REJECT      0x3f

#define ISCSI_OPCODE_MASK    0x3f
#define ISCSI_IMMEDIATE      0x40
#define ISCSI_FLAG_FINAL     0x80

/* Reject reasons (RFC 7143 11.17.1) */
#define ISCSI_REJ_DATA_DIGEST   0x02
#define ISCSI_REJ_SNACK         0x03
#define ISCSI_REJ_PROTOCOL      0x04
#define ISCSI_REJ_CMD_NOT_SUPP  0x05
#define ISCSI_REJ_IMM_CMD       0x06
#define ISCSI_REJ_TASK_IN_PROG  0x07
#define ISCSI_REJ_INVALID_FIELD 0x09
#define ISCSI_REJ_LONG_OP       0x0a
#define ISCSI_REJ_WAIT_LOGOUT   0x0c

/* Login status (class << 8 | detail) */
#define ISCSI_LOGIN_OK               0x0000
#define ISCSI_LOGIN_INIT_ERR         0x0200
#define ISCSI_LOGIN_AUTH_FAILED      0x0201
#define ISCSI_LOGIN_NOT_AUTHORIZED   0x0202
#define ISCSI_LOGIN_NOT_FOUND        0x0203
#define ISCSI_LOGIN_TARGET_REMOVED   0x0204
#define ISCSI_LOGIN_BAD_VERSION      0x0205
#define ISCSI_LOGIN_TOO_MANY_CONNS   0x0206
#define ISCSI_LOGIN_MISSING_PARAM    0x0207
#define ISCSI_LOGIN_CANT_INCLUDE     0x0208
#define ISCSI_LOGIN_BAD_SESSION_TYPE 0x0209
#define ISCSI_LOGIN_NO_SESSION       0x020a
#define ISCSI_LOGIN_INVALID_REQ      0x020b
#define ISCSI_LOGIN_TARGET_ERR       0x0300
#define ISCSI_LOGIN_UNAVAILABLE      0x0301
#define ISCSI_LOGIN_NO_RESOURCES     0x0302

/* Login stages */
#define ISCSI_STAGE_SEC   0
#define ISCSI_STAGE_OP    1
#define ISCSI_STAGE_FFP   3

/* TMF response codes */
#define ISCSI_TMF_RSP_COMPLETE      0
#define ISCSI_TMF_RSP_NO_TASK       1
#define ISCSI_TMF_RSP_NO_LUN        2
#define ISCSI_TMF_RSP_REASSIGN_NS   4
#define ISCSI_TMF_RSP_NOT_SUPP      5
#define ISCSI_TMF_RSP_REJECTED      255

/* Our limits and defaults. */
#define ISCSI_OUR_MAX_RECV_DSL     262144u
#define ISCSI_LOGIN_MAX_DSL        8192u     /* RFC default during login  */
#define ISCSI_LOGIN_TEXT_MAX       65536u    /* accumulated over C PDUs   */
#define ISCSI_MAX_BURST_LIMIT      16776192u
#define ISCSI_MAX_R2T              8u
#define ISCSI_CMD_WINDOW           128u
#define ISCSI_MAX_EDTL             (64u << 20) /* largest write we buffer */
#define ISCSI_MAX_COLLECT          (256u << 20) /* write data buffered per
                                                 * connection, all tasks */
#define ISCSI_LOGIN_TIMEOUT_MS     15000u
#define ISCSI_NAME_MAX             224       /* 223 + NUL                 */
#define ISCSI_CHAP_CHALLENGE_LEN   16u
#define ISCSI_CHAP_MAX_BIN         1024u

/* Serial number arithmetic (RFC 1982, 32 bit). */
static inline bool sn_lt(u32 a, u32 b) { return (s32)(a - b) < 0; }
static inline bool sn_le(u32 a, u32 b) { return (s32)(a - b) <= 0; }

/* ---- negotiated parameters ---------------------------------------------- */

struct iscsi_params {
	u32 max_recv_dsl;             /* we accept (our declaration)          */
	u32 max_xmit_dsl;             /* we send (the initiator's declaration)*/
	u32 max_burst;
	u32 first_burst;
	u32 max_r2t;
	u32 time2wait;
	u32 time2retain;
	u32 max_conns;
	bool initial_r2t;
	bool immediate_data;
	bool hdigest;
	bool ddigest;
	bool data_pdu_in_order;
	bool data_seq_in_order;
};

/* RFC 7143 defaults (what holds when a key is never negotiated). */
void iscsi_params_default(struct iscsi_params *p);

/* ---- text (iscsi_text.c) ------------------------------------------------ */

#define ISCSI_KEY_MAX    63
#define ISCSI_VALUE_MAX  8192

/*
 * Walk "key=value\0key=value\0..." in buf[0..len). A missing final NUL is
 * tolerated. cb gets NUL-terminated copies (so buf is not modified); a
 * non-zero cb return stops the walk and is returned. Returns -BT_EINVAL for
 * a pair without '=', an empty or over-long key or value, or a key with
 * characters outside RFC 7143 6.1.
 */
int iscsi_text_parse(const u8 *buf, u32 len,
		     int (*cb)(void *arg, const char *key, const char *val),
		     void *arg);

struct iscsi_text_out {
	u8 *buf;
	u32 len;
	u32 cap;
	u32 limit;                    /* 0: ISCSI_LOGIN_TEXT_MAX              */
	bool overflow;                /* a pair did not fit: reply is broken */
};

/* A SendTargets answer may be long (it is sent in pieces, C bit). */
#define ISCSI_TEXT_RSP_MAX (4u << 20)

/* Append "key=value\0" (bt_alloc'd buffer grows up to limit bytes). */
void iscsi_text_add(struct iscsi_text_out *o, const char *key, const char *val);
void iscsi_text_addu(struct iscsi_text_out *o, const char *key, u64 v);
void iscsi_text_free(struct iscsi_text_out *o);

/* Value helpers. Return 0 or -BT_EINVAL. */
int iscsi_val_num(const char *v, u64 max, u64 *out);   /* decimal or 0x hex */
int iscsi_val_bool(const char *v, bool *out);          /* Yes / No          */
/* Decode a CHAP binary value "0x..." (hex) or "0b..." (base64). */
int iscsi_val_bin(const char *v, u8 *out, u32 cap, u32 *outlen);
/* Encode as "0x" + lower-case hex; out must hold 2 + 2 * len + 1 bytes. */
void iscsi_val_hex(const u8 *bin, u32 len, char *out);

/* ---- operational negotiation (iscsi_neg.c) ------------------------------ */

enum iscsi_neg_rc {
	ISCSI_NEG_OK = 0,             /* answered (or declarative: no answer) */
	ISCSI_NEG_UNKNOWN,            /* not an operational key               */
	ISCSI_NEG_FAIL,               /* malformed / unacceptable: login fails*/
};

struct iscsi_neg {
	struct iscsi_params p;        /* result                               */
	bool discovery;
	bool sent_mrdsl;              /* our MaxRecvDataSegmentLength declared*/
	u32 seen;                     /* bit per key: offered already         */
};

void iscsi_neg_init(struct iscsi_neg *n, bool discovery);
/*
 * Negotiate one operational key offered by the initiator and append our
 * answer to out. Offering the same key twice fails (RFC 7143 6.1).
 */
enum iscsi_neg_rc iscsi_neg_key(struct iscsi_neg *n, const char *key,
				const char *val, struct iscsi_text_out *out);
/* Finish: declare what the target must declare (MaxRecvDataSegmentLength)
 * and fix up dependent values (FirstBurstLength <= MaxBurstLength). */
void iscsi_neg_finish(struct iscsi_neg *n, struct iscsi_text_out *out);

/* ---- CHAP (iscsi_chap.c) ------------------------------------------------ */

/* MD5(id || secret || challenge) into out[16]. */
void iscsi_chap_response(u8 id, const char *secret, const u8 *chal,
			 u32 chal_len, u8 out[16]);
/* Constant-time check of an initiator's CHAP_R. */
bool iscsi_chap_verify(u8 id, const char *secret, const u8 *chal,
		       u32 chal_len, const u8 *resp, u32 resp_len);

/* ---- engine-wide state (slot of struct bt_engine) ----------------------- */

struct iscsi_session;
struct iscsi_task;

struct iscsi_engine {
	struct bt_engine *e;
	const struct bt_host_ops *ops;
	void *host;
	struct bt_crc32c crc;
	struct iscsi_session *sessions;  /* live sessions (not dropped)     */
	struct bt_conn *conns;           /* every conn the host knows        */
	u16 next_tsih;
	u64 next_sid;
	u64 now_ms;
	bool shutting_down;
	struct iscsi_task *task_free;     /* recycled task structs           */
	unsigned ntask_free;
};

struct iscsi_engine *iscsi_engine_of(struct bt_engine *e);

/* ---- sessions ------------------------------------------------------------ */

struct iscsi_session {
	struct iscsi_engine *ie;
	struct iscsi_session *next;       /* in ie->sessions                 */
	struct bt_target *target;         /* NULL: discovery session         */
	bool discovery;
	bool dropped;                     /* off ie->sessions, dying         */
	char initiator[ISCSI_NAME_MAX];
	u8 isid[6];
	u16 tsih;
	u64 id;
	struct bt_nexus nexus;
	bool nexus_added;
	struct iscsi_params params;
	u32 exp_cmdsn;
	struct bt_conn *conn;             /* MaxConnections=1: one at most   */
	unsigned refs;                    /* conn + tasks in the SCSI layer  */
	u64 cmds;
};

/* ---- connections ---------------------------------------------------------- */

enum iscsi_conn_state {
	ISCSI_CONN_LOGIN = 0,
	ISCSI_CONN_FFP,
	ISCSI_CONN_DEAD,                  /* conn_close requested            */
};

enum iscsi_rx_phase {
	ISCSI_RX_BHS = 0,
	ISCSI_RX_HDR_REST,                /* AHS + header digest             */
	ISCSI_RX_DATA,                    /* data + pad + data digest        */
};

struct iscsi_login;

struct bt_conn {
	struct iscsi_engine *ie;
	struct bt_conn *next;             /* in ie->conns                    */
	void *host_conn;
	bool host_gone;                   /* bt_conn_closed was called       */
	enum iscsi_conn_state state;
	char local[64];
	char peer[64];

	/* rx framing */
	enum iscsi_rx_phase rx_phase;
	u8 hdr[ISCSI_HDR_MAX];
	u32 hdr_have;
	u32 hdr_need;
	u32 ahs_len;
	u32 dsl;                          /* data segment length of this PDU */
	u8 *rx_data;
	u32 rx_data_cap;
	u32 rx_have;
	u32 rx_need;                      /* dsl + pad + digest              */

	/* parameters in effect on this connection */
	struct iscsi_params params;
	u32 stat_sn;                      /* next StatSN to send             */
	u16 cid;

	struct iscsi_login *login;        /* during login only               */
	struct iscsi_session *sess;       /* after login                     */

	/* tasks */
	struct iscsi_task *tasks;         /* all live tasks of this conn     */
	unsigned ntasks;                  /* length of that list             */
	unsigned ntasks_scsi;             /* in the SCSI layer, orphans too  */
	u64 collect_bytes;                /* write buffers still collecting  */
	u32 next_ttt;

	/* text request continuation */
	u8 *text_in;
	u32 text_in_len;
	u8 *text_out;
	u32 text_out_len, text_out_off;
	u32 text_ttt;

	/* NOP-In ping */
	u64 last_rx_ms;
	u64 ping_sent_ms;                 /* 0: none outstanding             */
	u64 login_start_ms;
	bool logout_sent;                 /* async logout request sent       */
};

/* ---- tasks ------------------------------------------------------------------ */

enum iscsi_task_state {
	ISCSI_TASK_COLLECT = 0,           /* receiving Data-Out              */
	ISCSI_TASK_SCSI,                  /* in the SCSI layer               */
};

struct iscsi_r2t {
	u32 ttt;
	u32 offset;
	u32 len;
	u32 got;
	u32 datasn;
	bool active;
};

struct iscsi_task {
	struct bt_cmd cmd;
	struct iscsi_task *next, *prev;   /* in conn->tasks                  */
	struct bt_conn *conn;             /* NULL once the conn is gone      */
	struct iscsi_session *sess;
	enum iscsi_task_state state;
	bool orphan;                      /* conn closed under it            */
	bool collect_counted;             /* edtl counted in collect_bytes   */
	u8 lun_raw[8];
	u32 itt;
	u32 cmdsn;
	u32 edtl;                         /* write: bytes to collect         */
	u32 got;                          /* write: bytes collected          */
	/* unsolicited Data-Out */
	bool unsol_wait;                  /* unsolicited sequence open       */
	u32 unsol_limit;                  /* offset where it must end        */
	u32 unsol_off;                    /* next expected offset            */
	u32 unsol_datasn;
	/* R2T */
	u32 r2t_next;                     /* next offset to ask for          */
	u32 r2tsn;
	unsigned r2t_active;
	struct iscsi_r2t r2t[ISCSI_MAX_R2T];
};

/* ---- iscsi_pdu.c ----------------------------------------------------------- */

/*
 * Send one PDU: bhs (48 bytes, DataSegmentLength filled in here), optional
 * data, padding and digests as negotiated on c. Returns 0 or -errno; on
 * error the conn is closed.
 */
int iscsi_send(struct bt_conn *c, u8 *bhs, const void *data, u32 len);
/* Fill StatSN (advancing it when adv), ExpCmdSN and MaxCmdSN at 24/28/32. */
void iscsi_fill_sn(struct bt_conn *c, u8 *bhs, bool adv);
int iscsi_send_reject(struct bt_conn *c, u8 reason, const u8 *bhs);
/*
 * Feed bytes through the framing state machine; every complete PDU goes to
 * iscsi_conn_pdu(). Returns 0 or -errno (conn must be dropped).
 */
int iscsi_rx(struct bt_conn *c, const u8 *buf, bt_size_t len);
/* Largest data segment this conn accepts right now. */
u32 iscsi_rx_limit(const struct bt_conn *c);

/* ---- iscsi_conn.c ----------------------------------------------------------- */

/* One complete PDU (header digest already checked; data digest checked,
 * data_ok false if it failed). Returns 0 or -errno to drop the conn. */
int iscsi_conn_pdu(struct bt_conn *c, const u8 *hdr, const u8 *data, u32 dlen,
		   bool data_ok);
/* Ask the host to close c (idempotent). */
void iscsi_conn_drop(struct bt_conn *c, const char *why);
u32 iscsi_max_cmdsn(const struct bt_conn *c);
u32 iscsi_exp_cmdsn(const struct bt_conn *c);

/* ---- iscsi_login.c ---------------------------------------------------------- */

int iscsi_login_pdu(struct bt_conn *c, const u8 *hdr, const u8 *data, u32 dlen);
void iscsi_login_free(struct bt_conn *c);
/* Target a login in progress has resolved (NULL if none yet). */
struct bt_target *iscsi_login_target(const struct bt_conn *c);
/* SendTargets answer (also used in full feature Text). */
void iscsi_sendtargets(struct bt_conn *c, const char *what,
		       struct iscsi_text_out *out);

/* ---- iscsi_cmd.c ------------------------------------------------------------ */

int iscsi_cmd_pdu(struct bt_conn *c, const u8 *hdr, const u8 *data, u32 dlen);
int iscsi_data_out_pdu(struct bt_conn *c, const u8 *hdr, const u8 *data,
		       u32 dlen);
/* Drop every task of c: collecting ones are freed, tasks in the SCSI layer
 * are orphaned (freed when they complete). */
void iscsi_tasks_abandon(struct bt_conn *c);
/* Drop collecting tasks of c for lun (all LUNs if all). */
void iscsi_tasks_abort_collecting(struct bt_conn *c, bool all, u64 lun);
struct iscsi_task *iscsi_task_find(struct bt_conn *c, u32 itt);
void iscsi_task_free(struct iscsi_task *t);
u64 iscsi_lun_decode(const u8 *l);

/* ---- iscsi_session.c -------------------------------------------------------- */

/*
 * Create a session for a completed leading login and bind c to it. Drops an
 * older session of the same initiator + ISID + target (reinstatement).
 * Returns 0 or a login status code.
 */
int iscsi_session_start(struct bt_conn *c, struct bt_target *t, bool discovery,
			const char *initiator, const u8 isid[6],
			const struct iscsi_params *p, u32 exp_cmdsn);
/* Count live normal sessions of t from initiator, excluding one ISID. */
unsigned iscsi_sessions_of(struct iscsi_engine *ie, struct bt_target *t,
			   const char *initiator, const u8 *except_isid);
unsigned iscsi_sessions_total(struct iscsi_engine *ie, struct bt_target *t);
/* Take the session off the live list and close its connection. */
void iscsi_session_drop(struct iscsi_session *s, const char *why);
void iscsi_session_put(struct iscsi_session *s);
void iscsi_conn_maybe_free(struct bt_conn *c);

#endif
