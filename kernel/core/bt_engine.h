/*
 * bt_engine.h - the target engine's public contract with its hosts.
 *
 * One struct bt_engine holds everything (targets, LUs, sessions); there are no
 * globals, so a test may run several engines side by side. The host (userspace
 * bollard-target, or the kernel module) owns sockets, timers and block I/O and
 * serialises every call into the engine (see bt_os.h).
 *
 *   host -> engine                       engine -> host (struct bt_host_ops)
 *   bt_conn_new / bt_conn_rx             conn_send, conn_close
 *   bt_conn_closed                       bdev_open / bdev_submit / bdev_close
 *   bt_engine_tick (timers)              event (login, logout, PR change)
 *   bt_mgmt_* (bt_mgmt.h)
 *
 * Data flow: bytes in -> iSCSI PDUs (iscsi_*.c) -> struct bt_cmd -> SCSI layer
 * (scsi_*.c, bt_scsi.h) -> struct bt_io to the host -> completion ->
 * bt_cmd done -> PDUs out via conn_send.
 */
#ifndef BT_ENGINE_H
#define BT_ENGINE_H

#include "bt_os.h"
#include "bt_err.h"

struct bt_engine;
struct bt_target;
struct bt_lu;
struct bt_conn;
struct bt_session;
struct bt_bdev;                   /* host-owned backing device handle */

/* ---- block I/O, submitted by the engine, executed by the host ---------- */

enum bt_io_op {
	BT_IO_READ = 0,
	BT_IO_WRITE,
	BT_IO_FLUSH,                  /* make all completed writes stable     */
	BT_IO_DISCARD,                /* punch a hole; reads then give zeroes */
	BT_IO_WRITE_ZEROES,
};

#define BT_IO_FUA      0x1        /* WRITE: stable before completion      */
#define BT_IO_PRIO     0x2        /* priority lane (CAW, PR): never queue
                                   * behind bulk I/O                       */

struct bt_io {
	enum bt_io_op op;
	u32 flags;                    /* BT_IO_*                               */
	u64 offset;                   /* bytes                                 */
	u64 len;                      /* bytes                                 */
	void *buf;                    /* READ/WRITE: len contiguous bytes      */
	int result;                   /* set by the host: 0 or -BT_E* errno    */
	void (*done)(struct bt_io *io); /* engine's completion callback        */
	void *priv;                   /* engine's                              */
	void *host_priv;              /* host's                                */
};

struct bt_iov {
	const void *base;
	bt_size_t len;
};

/* Events for the management multicast group / socket subscribers. */
enum bt_event_type {
	BT_EV_LOGIN = 1,
	BT_EV_LOGOUT,
	BT_EV_PR_CHANGE,
	BT_EV_LUN_CHANGE,
	BT_EV_CONN_DEAD,
};

struct bt_event {
	enum bt_event_type type;
	const char *target;           /* IQN, may be NULL                     */
	const char *initiator;        /* IQN, may be NULL                     */
	u64 lun;
	u64 session_id;
};

#define BT_BDEV_RO 0x1

struct bt_host_ops {
	/*
	 * Open a backing file or block device. On success *size is its size in
	 * bytes. Returns 0 or -errno.
	 */
	int  (*bdev_open)(void *host, const char *path, u32 flags,
			  struct bt_bdev **out, u64 *size);
	void (*bdev_close)(void *host, struct bt_bdev *b);
	/*
	 * Start io. The host later sets io->result and calls io->done(io), in
	 * the engine's serialisation context; it may do so before returning.
	 */
	void (*bdev_submit)(void *host, struct bt_bdev *b, struct bt_io *io);

	/*
	 * Queue bytes on a connection, in order, all or nothing. The host copies
	 * or keeps them until sent. Returns 0 or -errno (connection broken).
	 */
	int  (*conn_send)(void *host, void *host_conn,
			  const struct bt_iov *iov, unsigned n);
	/*
	 * The engine wants this connection gone (logout done, protocol error,
	 * NOP timeout). The host shuts the socket and later calls
	 * bt_conn_closed(); the engine never frees a conn by itself.
	 */
	void (*conn_close)(void *host, void *host_conn);

	/* Optional: an event for management subscribers. */
	void (*event)(void *host, const struct bt_event *ev);

	/*
	 * Optional (NULL: every block counts as mapped). Provisioning status
	 * of the backing from byte `offset`: returns 1 if the bytes there
	 * hold data (mapped) or 0 if they are deallocated (a hole: reads give
	 * zeroes), and sets *len to the length of the run from offset with
	 * that same status, 1..max bytes (the host may stop a run early; the
	 * engine asks again). Or -errno. Synchronous, in the engine's
	 * serialisation context, so it must be cheap (SEEK_DATA/SEEK_HOLE; a
	 * block device answers "mapped", max).
	 */
	int  (*bdev_map_status)(void *host, struct bt_bdev *b, u64 offset,
				u64 max, u64 *len);
	/*
	 * Optional (NULL: 0). The backing's physical block size in bytes, a
	 * power of two, or 0 if it has none to report. A LU whose logical
	 * block is smaller reports the ratio in READ CAPACITY(16) (LOGICAL
	 * BLOCKS PER PHYSICAL BLOCK EXPONENT) and aligns its granularities to
	 * it. Must not change while the backing is open.
	 */
	u32  (*bdev_phys_block)(void *host, struct bt_bdev *b);
};

/* ---- engine lifetime ---------------------------------------------------- */

struct bt_engine *bt_engine_new(const struct bt_host_ops *ops, void *host);
/* Frees everything; the host must have closed all connections first. */
void bt_engine_free(struct bt_engine *e);
/* Timers: NOP-In pings, login timeouts. Call at least every 250 ms. */
void bt_engine_tick(struct bt_engine *e, u64 now_ms);
/*
 * Orderly shutdown: send an Async Message (logout request) on every full
 * feature connection. The host then waits for the connections to close or a
 * deadline and calls bt_engine_free().
 */
void bt_engine_shutdown(struct bt_engine *e);

/* ---- connections (iscsi_conn.c) ----------------------------------------- */

/*
 * A TCP connection was accepted. local/peer are "ip:port" strings (IPv6 as
 * "[addr]:port"), copied. Returns NULL on allocation failure.
 */
struct bt_conn *bt_conn_new(struct bt_engine *e, void *host_conn,
			    const char *local, const char *peer);
/*
 * Bytes arrived. Returns 0, or -errno when the connection must be dropped
 * (the engine has then already called ops->conn_close).
 */
int  bt_conn_rx(struct bt_conn *c, const void *buf, bt_size_t len);
/* The socket is gone. The engine aborts the connection's tasks and frees it
 * once no backend I/O refers to it. host_conn is not used after this. */
void bt_conn_closed(struct bt_conn *c);

/* ---- object model (engine.c) ---------------------------------------------
 * The management API (bt_mgmt.h) is a TLV front end over these calls. All
 * return 0 or a negative code: BT_E_EXISTS, BT_E_NOT_FOUND, BT_E_IN_USE ...
 *
 * LUN maps and backings. A LUN map entry (path, uid, block size, readonly,
 * features) is recorded for the target's whole life; its backing (the LU,
 * with the backing file or device open) is attached only while the target
 * is enabled. In an HA pair every node stages every target, but only the
 * node the cluster manager picks enables it: a passive node's backing is a
 * Secondary DRBD device that cannot be opened, and the old primary must
 * close its devices on failover so DRBD can demote.
 *   - bt_lun_add on a disabled target records the map only: it checks what
 *     it can without opening (non-empty path, LUN range, block size, uid,
 *     duplicates -> BT_E_EXISTS) and does not touch the backing.
 *   - bt_target_enable(on=true) opens every recorded LUN's backing. If one
 *     fails, every LU opened by that call is destroyed again, the target
 *     stays disabled, and the call returns BT_E_BACKEND (BT_E_BAD_ATTR for
 *     a backing whose size does not suit the block size, -BT_ENOMEM).
 *   - bt_target_enable(on=false) drops the sessions, then destroys every LU
 *     (closing the backings; commands in flight keep theirs until they
 *     finish), keeping the recorded maps.
 *   - bt_lun_add on an enabled target opens at once; if that fails
 *     (BT_E_BACKEND ...) nothing is recorded. bt_lun_del works either way.
 *   - Unattached LUNs are invisible to the I/O path: bt_target_lu() returns
 *     NULL and bt_target_lu_next() skips them (so REPORT LUNS lists only
 *     attached LUNs). Dumps list every recorded LUN with an attached flag.
 */

struct bt_chap {
	const char *user;             /* NULL: no CHAP                        */
	const char *secret;           /* 12..16 bytes recommended (RFC 7143)  */
};

struct bt_lun_cfg {
	const char *path;             /* backing file or block device         */
	const char *uid;              /* identity seed; NULL: derived from
	                               * target IQN + LUN number               */
	u32 block_size;               /* 0: 512                               */
	bool readonly;
	u32 features;                 /* BT_FEAT_*; 0 means the defaults      */
};

#define BT_FEAT_CAW        0x1
#define BT_FEAT_XCOPY      0x2
#define BT_FEAT_UNMAP      0x4
#define BT_FEAT_WRITE_SAME 0x8
/* Persistent reservations are stored in a reserved region at the end of the
 * backing (scsi_pr_store.c), so they survive restart and failover; the
 * capacity shrinks by that region. Opt-in: not in BT_FEAT_DEFAULT. */
#define BT_FEAT_PR_STORE   0x10
#define BT_FEAT_DEFAULT    (BT_FEAT_CAW | BT_FEAT_XCOPY | BT_FEAT_UNMAP | BT_FEAT_WRITE_SAME)
/* Set by callers that mean the other bits exactly, so "no feature at all"
 * can be said (a plain 0 means the defaults). */
#define BT_FEAT_EXPLICIT   0x80000000u

/* Target attributes settable with bt_target_set_attr(). */
enum bt_target_attr {
	BT_TA_MAX_SESSIONS_PER_INITIATOR = 1, /* default 2                    */
	BT_TA_MAX_SESSIONS,                   /* default 64                   */
	BT_TA_NOP_INTERVAL_MS,                /* default 5000, 0 = off        */
	BT_TA_NOP_TIMEOUT_MS,                 /* default 15000                */
	BT_TA_DEMO_MODE,                      /* any initiator admitted       */
	BT_TA_OWNER,                          /* owner tag, 0 = none: bollardd
	                                       * marks what it creates and
	                                       * never touches other targets */
	/*
	 * ALUA (SPC-4 5.16, scsi_alua.c). Each node of an HA pair presents the
	 * target as one target port group with one target port, whose
	 * relative target port id equals the group id. States are the SPC-4
	 * asymmetric access state codes, BT_ALUA_* in bt_mgmt.h. A change of
	 * any of these four queues ASYMMETRIC ACCESS STATE CHANGED on every
	 * I_T_L nexus. Set the group ids before the states; the peer group
	 * must differ from the local one.
	 */
	BT_TA_ALUA_GROUP,                     /* this node's target port group
	                                       * id, 1..65535, default 1      */
	BT_TA_ALUA_STATE,                     /* its state, default 0
	                                       * (active/optimized)           */
	BT_TA_ALUA_PEER_GROUP,                /* the peer node's group id as
	                                       * RTPG reports it; 0 = no peer
	                                       * (default)                    */
	BT_TA_ALUA_PEER_STATE,                /* the peer's state, default 2
	                                       * (standby)                    */
};

/* The owner tag bollardd puts on the targets it creates ("bollard"). */
#define BT_OWNER_BOLLARD 0x626f6c6c617264ULL

int bt_target_add(struct bt_engine *e, const char *iqn);
/* BT_E_IN_USE while it has sessions, unless force (then they are dropped). */
int bt_target_del(struct bt_engine *e, const char *iqn, bool force);
/* Attaches / detaches the LUN backings: see "LUN maps and backings" above. */
int bt_target_enable(struct bt_engine *e, const char *iqn, bool on);
/*
 * Attach a disabled target's LUN backings without enabling it (same
 * all-or-nothing rule as enable); later bt_lun_add calls open at once.
 * For hosts that drive the SCSI layer without a transport (test harnesses)
 * and want LUs before any session can exist. bt_target_enable(on=false)
 * detaches again. 0 when already attached.
 */
int bt_target_attach(struct bt_engine *e, const char *iqn);
int bt_target_set_attr(struct bt_engine *e, const char *iqn,
		       enum bt_target_attr a, u64 v);
/* Portal "ip:port" advertised by SendTargets for this target. */
int bt_portal_add(struct bt_engine *e, const char *iqn, const char *portal);
int bt_portal_del(struct bt_engine *e, const char *iqn, const char *portal);
int bt_lun_add(struct bt_engine *e, const char *iqn, u64 lun,
	       const struct bt_lun_cfg *cfg);
/* BT_E_IN_USE while sessions are logged in to the target, unless force. */
int bt_lun_del(struct bt_engine *e, const char *iqn, u64 lun, bool force);
/* initiator "*" admits any initiator. chap may be NULL. */
int bt_acl_add(struct bt_engine *e, const char *iqn, const char *initiator,
	       const struct bt_chap *chap);
int bt_acl_del(struct bt_engine *e, const char *iqn, const char *initiator);
/* Target-wide CHAP (initiator authenticates) and mutual CHAP (target
 * authenticates to the initiator). Either may be NULL to clear. */
int bt_auth_set(struct bt_engine *e, const char *iqn,
		const struct bt_chap *chap, const struct bt_chap *mutual);

/* Lookups used by the iSCSI layer. */
struct bt_target *bt_target_find(struct bt_engine *e, const char *iqn);
const char *bt_target_iqn(const struct bt_target *t);
bool bt_target_enabled(const struct bt_target *t);
/* Are its LUN backings open (enabled, or bt_target_attach)? */
bool bt_target_attached(const struct bt_target *t);
u64  bt_target_attr(const struct bt_target *t, enum bt_target_attr a);
/* The LU behind a LUN; NULL if unmapped or not attached. */
struct bt_lu *bt_target_lu(struct bt_target *t, u64 lun);
/*
 * May this initiator log in? 0 if admitted; -BT_EACCES if not. *chap is set
 * to the CHAP credentials the initiator must prove (ACL's own, else the
 * target's, else {NULL,NULL}); *mutual to the target's mutual CHAP or NULLs.
 */
int bt_target_admit(struct bt_target *t, const char *initiator,
		    struct bt_chap *chap, struct bt_chap *mutual);
/* Iteration, for SendTargets and dumps. NULL ends. */
struct bt_target *bt_target_next(struct bt_engine *e, struct bt_target *prev);
const char *bt_target_portal(const struct bt_target *t, unsigned i); /* NULL ends */
/*
 * LU iteration in LUN order: prev NULL starts; otherwise the walk resumes
 * after the LUN number left in *lun (not after prev's position), so it
 * survives LUNs being removed between calls. *lun gets the returned LU's
 * number. Unattached LUNs are skipped. NULL ends.
 */
struct bt_lu *bt_target_lu_next(struct bt_target *t, struct bt_lu *prev, u64 *lun);

const struct bt_host_ops *bt_engine_ops(struct bt_engine *e);
void *bt_engine_host(struct bt_engine *e);

/*
 * Private slots for the layers. engine.c owns struct bt_engine/bt_target and
 * never looks inside these; the iSCSI layer keeps its per-engine and
 * per-target state (sessions, TSIH allocator) in *_iscsi_slot, the SCSI layer
 * its per-target state (PR, UAs ...) in *_scsi_slot.
 */
void **bt_engine_iscsi_slot(struct bt_engine *e);
void **bt_target_iscsi_slot(struct bt_target *t);
void **bt_target_scsi_slot(struct bt_target *t);
struct bt_engine *bt_target_engine(struct bt_target *t);

#endif
