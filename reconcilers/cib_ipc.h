/*
 * cib_ipc.h - the messages of Pacemaker's CIB manager protocol, as data:
 * what bollard-cib (reconcilers/tools/bollard_cib.c) sends to
 * pacemaker-based over its "cib_rw" IPC service and how it reads the
 * answers. No I/O here (libqb does that in the tool), so the unit tests
 * pin every byte.
 *
 * Why bollard speaks this protocol at all: DRBD's fence-peer handler
 * (deploy/drbd/bollard-fence-peer) sits on a failover's critical path and
 * needs one CIB query and one CIB create. cibadmin links 43 shared
 * libraries; in the emulated (TCG) guests of tests/ha each run costs over
 * a second, nearly all of it dynamic linking and library start-up, while
 * pacemaker-based answers in ~20 ms. bollard-cib links libc, libqb and
 * libbz2 and sends the same two requests cibadmin would.
 *
 * The protocol, as Pacemaker 2.1 speaks it (Debian 12 ships 2.1.5):
 *   - a libqb IPC connection to the service "cib_rw" (shared-memory rings,
 *     a UNIX socket for set-up and credentials);
 *   - every message, either way, is a fixed header followed by one
 *     NUL-terminated XML document: the header is libqb's
 *     qb_ipc_response_header (id, size, error) then three uint32 (size of
 *     the uncompressed XML including its NUL, size of the bzip2 payload
 *     when compressed, flags) and a uint8 version (1). A sender
 *     compresses a message that would not fit the receiver's buffer
 *     (flag 0x1) and asks for a reply with flag 0x200; the reply carries
 *     the request's id;
 *   - the client first registers: <cib_command t="cib" cib_op="register"
 *     cib_clientname=NAME cib_callopt=SYNC/>; the answer carries the
 *     token (cib_clientid) that every later request quotes as
 *     cib_async_id;
 *   - a request is <cib_command t="cib" cib_op=OP cib_section=SECTION
 *     cib_callid=N cib_callopt=FLAGS ...> with the operation's input, if
 *     any, inside <cib_calldata>; with the sync-call option the answer is
 *     <cib-reply ... cib_callid=N cib_rc=RC> with the output inside
 *     <cib_calldata>. RC is 0 or Pacemaker's "legacy" code: -errno, or
 *     -(200+k) for its own errors.
 *
 * Every function returns 0 or a negative code (bl_err.h): -EINVAL for
 * arguments that cannot make a message, -ENOMEM, BL_E_PROTO for an answer
 * this code does not understand (the tool then hands the call to
 * cibadmin).
 */
#ifndef BL_CIB_IPC_H
#define BL_CIB_IPC_H

#include <stddef.h>
#include <stdint.h>

/* enum cib_call_options values used here (Pacemaker's cib_types.h). */
#define BL_CIB_SCOPE_LOCAL  0x00000100u  /* answer from this node's copy */
#define BL_CIB_SYNC_CALL    0x00001000u  /* reply on the request's id    */
/* enum crm_ipc_flags values carried in the header. */
#define BL_CIB_IPC_COMPRESSED     0x00000001u
#define BL_CIB_IPC_WANT_RESPONSE  0x00000200u
#define BL_CIB_IPC_VERSION        1

/* The header before every message: Pacemaker's pcmk__ipc_header_t
 * (lib/common/crmcommon_private.h), whose first part is libqb's struct
 * qb_ipc_response_header; laid out the same here (bollard_cib.c checks
 * that against libqb's own struct at compile time). */
struct bl_cib_qb_hdr {
	int32_t id __attribute__((aligned(8)));    /* request id; a reply's */
	int32_t size __attribute__((aligned(8)));  /* header + payload      */
	int32_t error __attribute__((aligned(8)));
} __attribute__((aligned(8)));
struct bl_cib_ipc_hdr {
	struct bl_cib_qb_hdr qb;
	uint32_t size_uncompressed;  /* the XML with its NUL                 */
	uint32_t size_compressed;    /* the bzip2 payload, when compressed   */
	uint32_t flags;              /* BL_CIB_IPC_*                         */
	uint8_t version;             /* BL_CIB_IPC_VERSION                   */
};

/* Build the registration request for client NAME (no '"', '<', '&'). A
 * malloc'd, NUL-terminated string in *out. */
int bl_cib_register_msg(const char *name, char **out);

/*
 * Build an operation request: OP ("cib_query", "cib_create",
 * "cib_delete"), SECTION (NULL: the whole CIB), CALLID (> 0), TOKEN (from
 * the registration), OPTS (BL_CIB_* call options), DATA (the input
 * element's XML, or NULL). DATA is placed as given: it must be one
 * well-formed element (the server parses the whole message and refuses it
 * otherwise); this function checks only that it starts with '<'.
 */
int bl_cib_op_msg(const char *op, const char *section, int callid,
		  const char *token, unsigned opts, const char *data,
		  char **out);

/* What an answer says. The string pointers point into the buffer given to
 * bl_cib_reply_parse(), which decodes attribute values in place. */
struct bl_cib_reply {
	const char *op;         /* cib_op, NULL if absent             */
	const char *clientid;   /* cib_clientid (registration answer) */
	int have_callid, callid;
	int have_rc, rc;        /* cib_rc: 0 or a legacy code (< 0)   */
	const char *data;       /* inside <cib_calldata>, NULL if none */
	size_t data_len;
};

/* Parse answer XML (NUL-terminated, LEN bytes before the NUL; modified in
 * place). BL_E_PROTO when it is not one element with attributes or its
 * <cib_calldata> is not closed. */
int bl_cib_reply_parse(char *xml, size_t len, struct bl_cib_reply *r);

/* Text for a CIB legacy return code (0, -errno, -(200+k)). Never NULL. */
const char *bl_cib_rc_str(int rc);

#endif
