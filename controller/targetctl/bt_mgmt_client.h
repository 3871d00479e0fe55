/*
 * bt_mgmt_client.h - userspace client of the target engine's management API
 * (kernel/core/bt_mgmt.h): typed calls, and a dump parsed into plain C
 * structs. Used by `bollard target` and by bollardd's target reconciler,
 * which takes struct btc_state as its "observed" state.
 *
 * Transport: the same netlink-format messages go over a unix SOCK_SEQPACKET
 * socket (bollard-target --socket PATH) or generic netlink (the kernel
 * module, family BT_MGMT_GENL_NAME). struct btc_transport abstracts the two
 * so tests can plug in their own (e.g. a loopback straight into an engine).
 *
 * Errors: every call returns 0 or a negative code: -errno (transport) or a
 * BT_E_* / -BT_E* engine code (bt_err.h); bl_strerror()/bt_strerror() give
 * the short text, btc_errmsg() the engine's full sentence for the last
 * failed call ("iqn...: lun 3: already exists").
 *
 * A struct btc is not thread-safe; use one per thread.
 */
#ifndef BT_MGMT_CLIENT_H
#define BT_MGMT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct btc;

struct btc_transport {
	/* Send one complete message. 0 or -errno. */
	int (*send)(void *ctx, const void *msg, size_t len);
	/* Receive into buf: one or more whole messages. Returns the byte
	 * count, 0 on orderly close, or -errno. timeout_ms < 0: wait forever. */
	ssize_t (*recv)(void *ctx, void *buf, size_t cap, int timeout_ms);
	void (*close)(void *ctx);
	void *ctx;
	uint16_t msg_type;            /* nlmsg_type of requests               */
	uint32_t pid;                 /* nlmsg_pid of requests (genl: port)   */
	/* Optional: start receiving events on this transport (generic
	 * netlink: join the family's "events" multicast group). Called by
	 * btc_subscribe before the SUBSCRIBE request. 0 or -errno. */
	int (*join_events)(void *ctx);
};

/* ---- connecting ---------------------------------------------------------- */

/* Wrap a transport (taken over: its close runs in btc_free). NULL: ENOMEM. */
struct btc *btc_new(const struct btc_transport *t);
/* Connect to bollard-target's unix socket. 0 or -errno. */
int btc_connect_unix(const char *path, struct btc **out);
/* Connect to the kernel module over generic netlink. -ENOENT: the family
 * is not registered (module not loaded). The family's "events" multicast
 * group (BT_MGMT_GENL_MCGRP) is looked up here and joined by
 * btc_subscribe. */
int btc_connect_genl(struct btc **out);
/*
 * path given: that unix socket only. path NULL: BT_MGMT_SOCK_DEFAULT, then
 * generic netlink. On failure err (if not NULL) gets a sentence for the user.
 */
int btc_connect(const char *path, struct btc **out, char *err, size_t errlen);
void btc_free(struct btc *c);

/* The engine's message for the last failed call ("" if none). */
const char *btc_errmsg(const struct btc *c);
/* Reply timeout for ordinary calls (default 30000 ms). */
void btc_set_timeout(struct btc *c, int timeout_ms);

/* ---- typed calls ----------------------------------------------------------- */

int btc_target_add(struct btc *c, const char *iqn);
/* Add with attributes (enum bt_target_attr) set in the same message: either
 * the target exists afterwards with all of them, or not at all. */
int btc_target_add_attrs(struct btc *c, const char *iqn, const unsigned *attrs,
			 const uint64_t *vals, size_t n);
int btc_target_del(struct btc *c, const char *iqn, bool force);
int btc_target_enable(struct btc *c, const char *iqn, bool on);
/* attr: enum bt_target_attr (BT_TA_*). */
int btc_set_attr(struct btc *c, const char *iqn, unsigned attr, uint64_t v);
/*
 * "ATTR=VALUE" as `bollard target create/set` take it: ATTR one of
 * maxSessionsPerInitiator (maxPerInitiator), maxSessions, nopIntervalMs,
 * nopTimeoutMs, demoMode, owner, aluaGroup, aluaState, aluaPeerGroup,
 * aluaPeerState (and their kebab-case forms); VALUE a number, true/false
 * for demoMode, a state name for the ALUA states. Returns 0, -EINVAL (no
 * '=', or a bad number), -ENOENT (unknown attribute), -ERANGE (unknown
 * ALUA state).
 */
int btc_attr_parse(const char *kv, unsigned *attr, uint64_t *v);
/* A number as the CLI takes them: decimal, 0x hex or 0 octal, no sign.
 * 0 or -EINVAL. */
int btc_parse_u64(const char *s, uint64_t *v);
int btc_portal_add(struct btc *c, const char *iqn, const char *portal);
int btc_portal_del(struct btc *c, const char *iqn, const char *portal);

struct btc_lun_spec {
	const char *path;             /* required                             */
	const char *uid;              /* NULL: derived from IQN + LUN         */
	uint32_t block_size;          /* 0: 512                               */
	bool readonly;
	uint32_t features;            /* BT_FEAT_*, 0: defaults               */
};
/*
 * Parse a LUN feature list: comma-separated caw, xcopy, unmap, writesame,
 * prstore, or "none" (no feature at all), or "default" (the engine's
 * defaults). Sets *out to BT_FEAT_* bits, with BT_FEAT_EXPLICIT for a list
 * so that "none" reaches the engine as "nothing" rather than "defaults".
 * Returns 0, or -EINVAL on an unknown name or an empty element.
 */
int btc_features_parse(const char *s, uint32_t *out);
int btc_lun_add(struct btc *c, const char *iqn, uint64_t lun,
		const struct btc_lun_spec *spec);
int btc_lun_del(struct btc *c, const char *iqn, uint64_t lun, bool force);
/* initiator "*" admits any initiator. chap_user NULL: no per-ACL CHAP. */
int btc_acl_add(struct btc *c, const char *iqn, const char *initiator,
		const char *chap_user, const char *chap_secret);
int btc_acl_del(struct btc *c, const char *iqn, const char *initiator);
/* A NULL user clears that direction. */
int btc_auth_set(struct btc *c, const char *iqn, const char *chap_user,
		 const char *chap_secret, const char *mutual_user,
		 const char *mutual_secret);

/* ---- observed state (dump) -------------------------------------------------
 * Plain data, owned by the struct btc_state, in the engine's order: targets
 * by IQN, LUNs by number (so btc_target_lun can bisect). Secrets are never
 * part of it: only CHAP user names and salted digests of the secrets.
 */
struct btc_attrs {
	uint64_t max_sessions_per_initiator;
	uint64_t max_sessions;
	uint64_t nop_interval_ms;
	uint64_t nop_timeout_ms;
	bool demo_mode;
	uint64_t owner;               /* BT_TA_OWNER: 0 none, BT_OWNER_BOLLARD */
	/* ALUA (BT_TA_ALUA_*); states are BT_ALUA_* codes. An engine that
	 * predates ALUA reports none of them: then all four read 0. */
	uint64_t alua_group;
	uint64_t alua_state;
	uint64_t alua_peer_group;     /* 0: no peer group                     */
	uint64_t alua_peer_state;
};

/* "activeOptimized", "activeNonOptimized", "standby", "unavailable",
 * "transitioning" for a BT_ALUA_* code; NULL for any other value. */
const char *btc_alua_state_name(uint64_t state);
/* The inverse (also accepts the numeric code). 0 or -EINVAL. */
int btc_alua_state_parse(const char *s, uint64_t *state);

struct btc_lun {
	uint64_t lun;
	char *path;
	char *uid;
	char *naa;                    /* 32 hex digits                        */
	char *serial;
	uint64_t blocks;
	uint32_t block_size;
	bool readonly;
	uint32_t features;
	bool attached;                /* backing open (target enabled); when
	                               * false: blocks 0, naa/serial NULL     */
};

struct btc_acl {
	char *initiator;              /* "*" for any                          */
	char *chap_user;              /* NULL: none                           */
	char *chap_digest;            /* of the secret (chap_digest.h); NULL:
	                               * none, or an engine without digests  */
};

struct btc_auth {
	char *chap_user;              /* NULL: none                           */
	char *mutual_user;
	char *chap_digest, *mutual_digest;   /* as in struct btc_acl          */
};

struct btc_target {
	char *iqn;
	bool enabled;
	unsigned nsessions;
	struct btc_attrs attrs;
	char **portals;
	size_t nportals;
	struct btc_lun *luns;
	size_t nluns;
	struct btc_acl *acls;
	size_t nacls;
	struct btc_auth auth;
	bool more_luns;               /* a page (btc_dump_page) stopped short: */
	uint64_t next_lun;            /* the rest starts at this LUN number   */
};

struct btc_state {
	struct btc_target *targets;
	size_t ntargets;
};

/* Fill *out (zeroed first) with every target, or only iqn's. On error *out
 * is left empty. Free with btc_state_free. */
int btc_dump(struct btc *c, const char *iqn, struct btc_state *out);
/*
 * The same with each target's LUNs limited to a page: those numbered >=
 * lun_from, at most lun_max of them (0: none, the rest of the target
 * only). A target with more sets more_luns and next_lun, where the next
 * page starts. An engine without paging lists every LUN (more_luns false).
 */
int btc_dump_page(struct btc *c, const char *iqn, uint64_t lun_from,
		  uint32_t lun_max, struct btc_state *out);
void btc_state_free(struct btc_state *s);
const struct btc_target *btc_state_target(const struct btc_state *s,
					  const char *iqn);
const struct btc_lun *btc_target_lun(const struct btc_target *t, uint64_t lun);

/* ---- sessions and events ---------------------------------------------------- */

struct btc_session {
	char *target;
	char *initiator;
	uint8_t isid[6];
	uint16_t tsih;
	uint64_t id;
	uint32_t nconns;
	char *peer;
	char *local;
	uint64_t cmds;
};

int btc_sessions(struct btc *c, const char *iqn, struct btc_session **out,
		 size_t *n);
void btc_sessions_free(struct btc_session *s, size_t n);

struct btc_event {
	int type;                     /* enum bt_event_type                   */
	char target[256];             /* "" if none                           */
	char initiator[256];
	uint64_t lun;
	uint64_t session_id;
};

/* Subscribe this connection to events; use it for nothing else after. */
int btc_subscribe(struct btc *c);
/* Wait for the next event. 0, -ETIMEDOUT, -ECONNRESET (server gone) ... */
int btc_next_event(struct btc *c, struct btc_event *ev, int timeout_ms);

const char *btc_event_name(int type);

#endif
