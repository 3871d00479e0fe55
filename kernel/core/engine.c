/*
 * engine.c - the engine's object model: targets, portals, LUN maps, ACLs,
 * CHAP, attributes, and the engine's lifetime (bt_engine.h).
 *
 * Data structures, and why:
 *   - targets: an array of pointers sorted by IQN. Lookup (every login and
 *     every management call) is a binary search; iteration is in name order,
 *     which is what dumps and SendTargets want. Targets are few; inserts are
 *     a memmove.
 *   - LUN map: per target, an array of {lun, lu, recorded config} sorted by
 *     LUN number. The config (path, uid, block size, readonly, features) is
 *     kept for every LUN; lu is the opened LU and is NULL while the LUN is
 *     not attached. Backings are attached only while the target is enabled
 *     (or explicitly attached, bt_target_attach): in an HA pair every node
 *     stages every target, but a passive node's backing is a Secondary DRBD
 *     device that cannot be opened, and a failing-over primary must close
 *     its devices before DRBD can demote. Invariant: t->attached is false
 *     => every slot's lu is NULL.
 *     bt_target_lu() runs for every SCSI command, so it must not be linear:
 *     it first tries slot [lun] (the usual dense 0..n-1 map hits at once,
 *     O(1)), else binary search, O(log n) (14 probes at 10,000 LUNs). Adding
 *     one LUN to a 10,000-LUN target is one memmove of at most 10,000
 *     entries, and the dump walks the array in order. Iteration resumes by
 *     LUN number, not by pointer, so a LUN removed between two steps of a
 *     walk never leaves a dangling cursor.
 *   - ACLs, portals: small arrays, linear.
 * None of this is thread-safe: the host serialises calls (bt_os.h).
 */
#include "bt_engine.h"
#include "bt_iscsi.h"
#include "bt_scsi.h"
#include "engine_int.h"
#include "bt_mgmt.h"
#include "scsi_alua.h"
#include "chap_digest.h"

/*
 * A weak reference, so test programs whose fake SCSI layer predates this
 * hook (tests/unit/test_iscsi_conn) still link; the real scsi_core.c always
 * defines it.
 */
#pragma weak bt_scsi_target_gone
#pragma weak bt_scsi_alua_changed

#define BT_LUN_MAX        16383   /* flat space addressing (SAM-5)        */
#define BT_TA_COUNT       (BT_TA_ALUA_PEER_STATE + 1)

struct bt_lun_slot {
	u64 lun;
	struct bt_lu *lu;             /* NULL: recorded, not attached         */
	char *path;
	char *uid;                    /* NULL: derived from IQN + LUN number  */
	u32 block_size;               /* as given (0: the LU's default)       */
	bool readonly;
	u32 features;
};

/*
 * A CHAP credential: user and secret, and the digest of the secret that
 * dumps show instead of it (chap_digest.h), made when it is set.
 */
struct bt_cred {
	char *user;                   /* NULL: none                          */
	char *secret;
	char *digest;
};

struct bt_acl {
	char *initiator;
	struct bt_cred chap;          /* no user: the target's CHAP applies  */
};

struct bt_target {
	struct bt_engine *e;
	char *iqn;
	bool enabled;
	bool attached;                /* LUN backings open (see top)         */
	u64 attrs[BT_TA_COUNT];
	char **portals;
	unsigned nportals;
	struct bt_lun_slot *luns;     /* sorted by lun                       */
	u32 nluns, luns_cap;
	struct bt_acl *acls;
	unsigned nacls;
	struct bt_cred chap, mutual;
	void *iscsi_slot;
	void *scsi_slot;
};

struct bt_engine {
	const struct bt_host_ops *ops;
	void *host;
	struct bt_target **targets;   /* sorted by iqn                       */
	unsigned ntargets, targets_cap;
	void *iscsi_slot;
};

/* ---- small helpers ------------------------------------------------------ */

static char *str_dup(const char *s)
{
	bt_size_t n = bt_strlen(s) + 1;
	char *d = bt_alloc(n);

	if (d)
		bt_memcpy(d, s, n);
	return d;
}

/* Free a string that may hold a secret: wipe it first. */
static void str_free_secret(char *s)
{
	if (!s)
		return;
	bt_memset(s, 0, bt_strlen(s));
	/* keep the compiler from dropping the wipe */
	__asm__ __volatile__("" : : "r"(s) : "memory");
	bt_free(s);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * RFC 7143 section 4.2.7 (names) with RFC 3722 normalisation assumed done by
 * the sender: iqn.YYYY-MM.reversed.domain[:anything], lower case only;
 * eui. + 16 hex digits; naa. + 16 or 32 hex digits.
 */
bool bt_name_valid(const char *s)
{
	bt_size_t n, i;

	if (!s)
		return false;
	n = bt_strlen(s);
	if (n == 0 || n > 223)
		return false;
	if (!bt_strncmp(s, "iqn.", 4)) {
		if (n < 13)
			return false;
		for (i = 4; i < 8; i++)
			if (!is_digit(s[i]))
				return false;
		if (s[8] != '-' || !is_digit(s[9]) || !is_digit(s[10]) ||
		    s[11] != '.')
			return false;
		if ((s[9] - '0') * 10 + (s[10] - '0') < 1 ||
		    (s[9] - '0') * 10 + (s[10] - '0') > 12)
			return false;
		if (s[12] == '.' || s[12] == ':' || s[12] == '-')
			return false;
		for (i = 12; i < n; i++) {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || is_digit(c) ||
			      c == '-' || c == '.' || c == ':'))
				return false;
		}
		return true;
	}
	if (!bt_strncmp(s, "eui.", 4)) {
		if (n != 20)
			return false;
		for (i = 4; i < n; i++)
			if (!is_hex(s[i]))
				return false;
		return true;
	}
	if (!bt_strncmp(s, "naa.", 4)) {
		if (n != 20 && n != 36)
			return false;
		for (i = 4; i < n; i++)
			if (!is_hex(s[i]))
				return false;
		return true;
	}
	return false;
}

/* "ip:port" or "[v6]:port", port 1..65535, printable, no spaces. */
static bool portal_valid(const char *p)
{
	bt_size_t n = bt_strlen(p), i, colon;
	u32 port = 0;

	if (n < 3 || n > 255)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~' || p[i] == ',')
			return false;
	colon = n;
	while (colon > 0 && p[colon - 1] != ':')
		colon--;
	if (colon < 2 || colon == n || n - colon > 5)
		return false;
	for (i = colon; i < n; i++) {
		if (!is_digit(p[i]))
			return false;
		port = port * 10 + (u32)(p[i] - '0');
	}
	if (port == 0 || port > 65535)
		return false;
	if (p[0] == '[')
		return p[colon - 2] == ']' && colon > 3;
	/* IPv4 or host name: no more colons before the port. */
	for (i = 0; i + 1 < colon; i++)
		if (p[i] == ':' || p[i] == '[' || p[i] == ']')
			return false;
	return true;
}

static bool chap_str_valid(const char *s)
{
	bt_size_t n, i;

	if (!s)
		return false;
	n = bt_strlen(s);
	if (n == 0 || n > 255)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
			return false;
	return true;
}

/* CHAP given: user and secret both valid; or absent (NULL / NULL user). */
static int chap_check(const struct bt_chap *c)
{
	if (!c || (!c->user && !c->secret))
		return 0;
	if (!chap_str_valid(c->user) || !chap_str_valid(c->secret))
		return BT_E_BAD_ATTR;
	return 0;
}

static void cred_free(struct bt_cred *c)
{
	bt_free(c->user);
	str_free_secret(c->secret);
	bt_free(c->digest);
	c->user = c->secret = c->digest = NULL;
}

/* Replace *cred with a copy of c (or nothing), with a fresh digest. */
static int chap_store(const struct bt_chap *c, struct bt_cred *cred)
{
	struct bt_cred n = { NULL, NULL, NULL };
	u8 salt[BT_CHAP_DIGEST_SALT];

	if (c && c->user) {
		n.user = str_dup(c->user);
		n.secret = str_dup(c->secret);
		n.digest = bt_alloc(BT_CHAP_DIGEST_MAX);
		if (!n.user || !n.secret || !n.digest) {
			cred_free(&n);
			return -BT_ENOMEM;
		}
		bt_random(salt, sizeof(salt));
		bt_chap_digest(n.secret, salt, n.digest);
	}
	cred_free(cred);
	*cred = n;
	return 0;
}

static void emit_event(struct bt_engine *e, enum bt_event_type type,
		       const char *target, u64 lun)
{
	struct bt_event ev = { .type = type, .target = target, .lun = lun };

	if (e->ops && e->ops->event)
		e->ops->event(e->host, &ev);
}

/* ---- engine lifetime ---------------------------------------------------- */

struct bt_engine *bt_engine_new(const struct bt_host_ops *ops, void *host)
{
	struct bt_engine *e = bt_zalloc(sizeof(*e));

	if (!e)
		return NULL;
	e->ops = ops;
	e->host = host;
	if (bt_iscsi_engine_init(e) < 0) {
		bt_free(e);
		return NULL;
	}
	return e;
}

static void target_free(struct bt_target *t);

void bt_engine_free(struct bt_engine *e)
{
	unsigned i;

	if (!e)
		return;
	for (i = 0; i < e->ntargets; i++) {
		bt_iscsi_target_gone(e->targets[i]);
		target_free(e->targets[i]);
	}
	bt_free(e->targets);
	bt_iscsi_engine_fini(e);
	bt_free(e);
}

void bt_engine_tick(struct bt_engine *e, u64 now_ms)
{
	bt_iscsi_tick(e, now_ms);
}

void bt_engine_shutdown(struct bt_engine *e)
{
	/* The iSCSI layer refuses new logins from now on and asks every live
	 * session to log out; targets keep their configured state. */
	bt_iscsi_shutdown(e);
}

const struct bt_host_ops *bt_engine_ops(struct bt_engine *e)
{
	return e->ops;
}

void *bt_engine_host(struct bt_engine *e)
{
	return e->host;
}

void **bt_engine_iscsi_slot(struct bt_engine *e)
{
	return &e->iscsi_slot;
}

void **bt_target_iscsi_slot(struct bt_target *t)
{
	return &t->iscsi_slot;
}

void **bt_target_scsi_slot(struct bt_target *t)
{
	return &t->scsi_slot;
}

struct bt_engine *bt_target_engine(struct bt_target *t)
{
	return t->e;
}

/* ---- targets ------------------------------------------------------------ */

/* Index of iqn in e->targets, or (with *found false) where it would go. */
static unsigned target_index(const struct bt_engine *e, const char *iqn,
			     bool *found)
{
	unsigned lo = 0, hi = e->ntargets;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = bt_strcmp(e->targets[mid]->iqn, iqn);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct bt_target *bt_target_find(struct bt_engine *e, const char *iqn)
{
	bool found;
	unsigned i;

	if (!iqn)
		return NULL;
	i = target_index(e, iqn, &found);
	return found ? e->targets[i] : NULL;
}

static void slot_free(struct bt_lun_slot *s);

static void target_free(struct bt_target *t)
{
	unsigned i;

	for (i = 0; i < t->nluns; i++)
		slot_free(&t->luns[i]);
	bt_free(t->luns);
	for (i = 0; i < t->nportals; i++)
		bt_free(t->portals[i]);
	bt_free(t->portals);
	for (i = 0; i < t->nacls; i++) {
		bt_free(t->acls[i].initiator);
		cred_free(&t->acls[i].chap);
	}
	bt_free(t->acls);
	cred_free(&t->chap);
	cred_free(&t->mutual);
	if (bt_scsi_target_gone)
		bt_scsi_target_gone(t);
	bt_free(t->iqn);
	bt_free(t);
}

int bt_target_add(struct bt_engine *e, const char *iqn)
{
	struct bt_target *t;
	bool found;
	unsigned i;

	if (!bt_name_valid(iqn))
		return BT_E_BAD_NAME;
	i = target_index(e, iqn, &found);
	if (found)
		return BT_E_EXISTS;
	if (e->ntargets == e->targets_cap) {
		unsigned cap = e->targets_cap ? e->targets_cap * 2 : 8;
		struct bt_target **n = bt_realloc(e->targets, cap * sizeof(*n));

		if (!n)
			return -BT_ENOMEM;
		e->targets = n;
		e->targets_cap = cap;
	}
	t = bt_zalloc(sizeof(*t));
	if (!t)
		return -BT_ENOMEM;
	t->iqn = str_dup(iqn);
	if (!t->iqn) {
		bt_free(t);
		return -BT_ENOMEM;
	}
	t->e = e;
	t->attrs[BT_TA_MAX_SESSIONS_PER_INITIATOR] = 2;
	t->attrs[BT_TA_MAX_SESSIONS] = 64;
	t->attrs[BT_TA_NOP_INTERVAL_MS] = 5000;
	t->attrs[BT_TA_NOP_TIMEOUT_MS] = 15000;
	t->attrs[BT_TA_DEMO_MODE] = 0;
	t->attrs[BT_TA_ALUA_GROUP] = 1;
	t->attrs[BT_TA_ALUA_STATE] = BT_ALUA_ACTIVE_OPTIMIZED;
	t->attrs[BT_TA_ALUA_PEER_GROUP] = 0;
	t->attrs[BT_TA_ALUA_PEER_STATE] = BT_ALUA_STANDBY;
	bt_memmove(&e->targets[i + 1], &e->targets[i],
		   (e->ntargets - i) * sizeof(e->targets[0]));
	e->targets[i] = t;
	e->ntargets++;
	return 0;
}

int bt_target_del(struct bt_engine *e, const char *iqn, bool force)
{
	struct bt_target *t;
	bool found;
	unsigned i;

	if (!iqn)
		return BT_E_NOT_FOUND;
	i = target_index(e, iqn, &found);
	if (!found)
		return BT_E_NOT_FOUND;
	t = e->targets[i];
	if (!force && bt_iscsi_target_nsessions(t) > 0)
		return BT_E_IN_USE;
	t->enabled = false;
	/* Drops the sessions (and with them every reference to t's LUs) and
	 * frees the iSCSI slot: only then may the LUs go. */
	bt_iscsi_target_gone(t);
	bt_memmove(&e->targets[i], &e->targets[i + 1],
		   (e->ntargets - i - 1) * sizeof(e->targets[0]));
	e->ntargets--;
	target_free(t);
	return 0;
}

static int luns_attach(struct bt_target *t, struct bt_lun_fail *why);
static void luns_detach(struct bt_target *t);

int bt_target_enable_why(struct bt_engine *e, const char *iqn, bool on,
			 struct bt_lun_fail *why)
{
	struct bt_target *t = bt_target_find(e, iqn);
	int rc;

	if (!t)
		return BT_E_NOT_FOUND;
	if (on) {
		if (t->enabled)
			return 0;
		rc = luns_attach(t, why);
		if (rc < 0)
			return rc;
		t->enabled = true;
		return 0;
	}
	if (t->enabled) {
		t->enabled = false;
		/* Sessions first: they hold the only references to the LUs
		 * from the I/O path. */
		bt_iscsi_target_gone(t);
	}
	luns_detach(t);
	return 0;
}

int bt_target_enable(struct bt_engine *e, const char *iqn, bool on)
{
	return bt_target_enable_why(e, iqn, on, NULL);
}

int bt_target_attach(struct bt_engine *e, const char *iqn)
{
	struct bt_target *t = bt_target_find(e, iqn);

	if (!t)
		return BT_E_NOT_FOUND;
	return luns_attach(t, NULL);
}

static bool alua_state_valid(u64 v)
{
	return v == BT_ALUA_ACTIVE_OPTIMIZED || v == BT_ALUA_ACTIVE_NONOPTIMIZED ||
	       v == BT_ALUA_STANDBY || v == BT_ALUA_UNAVAILABLE ||
	       v == BT_ALUA_TRANSITIONING;
}

int bt_target_set_attr(struct bt_engine *e, const char *iqn,
		       enum bt_target_attr a, u64 v)
{
	struct bt_target *t = bt_target_find(e, iqn);

	if (!t)
		return BT_E_NOT_FOUND;
	switch (a) {
	case BT_TA_MAX_SESSIONS_PER_INITIATOR:
	case BT_TA_MAX_SESSIONS:
		if (v < 1 || v > 65535)
			return BT_E_BAD_ATTR;
		break;
	case BT_TA_NOP_INTERVAL_MS:
		if (v > 3600 * 1000)
			return BT_E_BAD_ATTR;
		break;
	case BT_TA_NOP_TIMEOUT_MS:
		if (v < 1000 || v > 3600 * 1000)
			return BT_E_BAD_ATTR;
		break;
	case BT_TA_DEMO_MODE:
		if (v > 1)
			return BT_E_BAD_ATTR;
		break;
	case BT_TA_OWNER:
		break;
	case BT_TA_ALUA_GROUP:
		if (v < 1 || v > 65535 || v == t->attrs[BT_TA_ALUA_PEER_GROUP])
			return BT_E_BAD_ATTR;
		break;
	case BT_TA_ALUA_PEER_GROUP:
		if (v > 65535 || (v && v == t->attrs[BT_TA_ALUA_GROUP]))
			return BT_E_BAD_ATTR;
		break;
	case BT_TA_ALUA_STATE:
	case BT_TA_ALUA_PEER_STATE:
		if (!alua_state_valid(v))
			return BT_E_BAD_ATTR;
		break;
	default:
		return BT_E_BAD_ATTR;
	}
	if (t->attrs[a] == v)
		return 0;
	t->attrs[a] = v;
	/* what RTPG reports changed: tell every I_T_L nexus (SPC-4 5.16.2.5) */
	if (a >= BT_TA_ALUA_GROUP && bt_scsi_alua_changed)
		bt_scsi_alua_changed(t);
	return 0;
}

const char *bt_target_iqn(const struct bt_target *t)
{
	return t->iqn;
}

bool bt_target_enabled(const struct bt_target *t)
{
	return t->enabled;
}

u64 bt_target_attr(const struct bt_target *t, enum bt_target_attr a)
{
	if ((unsigned)a >= BT_TA_COUNT)
		return 0;
	return t->attrs[a];
}

struct bt_target *bt_target_next(struct bt_engine *e, struct bt_target *prev)
{
	bool found;
	unsigned i;

	if (!prev)
		return e->ntargets ? e->targets[0] : NULL;
	i = target_index(e, prev->iqn, &found);
	if (found)
		i++;
	return i < e->ntargets ? e->targets[i] : NULL;
}

/* ---- portals ------------------------------------------------------------ */

static int portal_index(const struct bt_target *t, const char *p)
{
	unsigned i;

	for (i = 0; i < t->nportals; i++)
		if (!bt_strcmp(t->portals[i], p))
			return (int)i;
	return -1;
}

int bt_portal_add(struct bt_engine *e, const char *iqn, const char *portal)
{
	struct bt_target *t = bt_target_find(e, iqn);
	char **n, *p;

	if (!t)
		return BT_E_NOT_FOUND;
	if (!portal || !portal_valid(portal))
		return BT_E_BAD_ATTR;
	if (portal_index(t, portal) >= 0)
		return BT_E_EXISTS;
	if (t->nportals >= 64)
		return BT_E_LIMIT;
	p = str_dup(portal);
	if (!p)
		return -BT_ENOMEM;
	n = bt_realloc(t->portals, (t->nportals + 1) * sizeof(*n));
	if (!n) {
		bt_free(p);
		return -BT_ENOMEM;
	}
	n[t->nportals++] = p;
	t->portals = n;
	return 0;
}

int bt_portal_del(struct bt_engine *e, const char *iqn, const char *portal)
{
	struct bt_target *t = bt_target_find(e, iqn);
	int i;

	if (!t)
		return BT_E_NOT_FOUND;
	i = portal ? portal_index(t, portal) : -1;
	if (i < 0)
		return BT_E_NOT_FOUND;
	bt_free(t->portals[i]);
	bt_memmove(&t->portals[i], &t->portals[i + 1],
		   (t->nportals - (unsigned)i - 1) * sizeof(t->portals[0]));
	t->nportals--;
	return 0;
}

const char *bt_target_portal(const struct bt_target *t, unsigned i)
{
	return i < t->nportals ? t->portals[i] : NULL;
}

/* ---- LUN map ------------------------------------------------------------ */

u32 bt_target_lu_index(const struct bt_target *t, u64 lun)
{
	u32 lo = 0, hi = t->nluns;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (t->luns[mid].lun < lun)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct bt_lu *bt_target_lu(struct bt_target *t, u64 lun)
{
	u32 i;

	/* Dense maps (LUN i at index i) hit here without a search. */
	if (lun < t->nluns && t->luns[lun].lun == lun)
		return t->luns[lun].lu;
	i = bt_target_lu_index(t, lun);
	return i < t->nluns && t->luns[i].lun == lun ? t->luns[i].lu : NULL;
}

struct bt_lu *bt_target_lu_next(struct bt_target *t, struct bt_lu *prev,
				u64 *lun)
{
	u32 i;

	if (!prev) {
		i = 0;
	} else {
		if (*lun == ~(u64)0)
			return NULL;
		i = bt_target_lu_index(t, *lun + 1);
	}
	/* Recorded but unattached LUNs do not exist for the I/O path. */
	while (i < t->nluns && !t->luns[i].lu)
		i++;
	if (i >= t->nluns)
		return NULL;
	*lun = t->luns[i].lun;
	return t->luns[i].lu;
}

u32 bt_target_nluns(const struct bt_target *t)
{
	return t->nluns;
}

struct bt_lu *bt_target_lu_at(const struct bt_target *t, u32 i, u64 *lun)
{
	if (i >= t->nluns)
		return NULL;
	*lun = t->luns[i].lun;
	return t->luns[i].lu;
}

bool bt_target_lun_view(const struct bt_target *t, u32 i,
			struct bt_lun_view *v)
{
	const struct bt_lun_slot *s;

	if (i >= t->nluns)
		return false;
	s = &t->luns[i];
	v->lun = s->lun;
	v->lu = s->lu;
	v->path = s->path;
	v->uid = s->uid;
	v->block_size = s->block_size;
	v->readonly = s->readonly;
	v->features = s->features;
	return true;
}

static void slot_free(struct bt_lun_slot *s)
{
	if (s->lu)
		bt_lu_destroy(s->lu);
	s->lu = NULL;
	bt_free(s->path);
	bt_free(s->uid);
}

/*
 * Open one recorded LUN's backing (bt_lu_create). Errors: typed codes and
 * ENOMEM kept, EINVAL -> BT_E_BAD_ATTR, any other errno -> BT_E_BACKEND
 * (the backing store could not be opened or used); *err gets the raw code.
 */
static int slot_attach(struct bt_target *t, struct bt_lun_slot *s, int *err)
{
	struct bt_lun_cfg cfg = {
		.path = s->path, .uid = s->uid, .block_size = s->block_size,
		.readonly = s->readonly, .features = s->features,
	};
	char fallback[256];
	int rc;

	bt_snprintf(fallback, sizeof(fallback), "%s:%llu", t->iqn,
		    (unsigned long long)s->lun);
	rc = bt_lu_create(t->e, &cfg, fallback, &s->lu);
	if (err)
		*err = rc;
	if (rc >= 0)
		return 0;
	s->lu = NULL;
	if (rc > BT_E_BASE && rc != -BT_ENOMEM && rc != -BT_EINVAL) {
		bt_warn("%s: lun %llu: %s: error %d", t->iqn,
			(unsigned long long)s->lun, s->path, rc);
		rc = BT_E_BACKEND;
	} else if (rc == -BT_EINVAL) {
		rc = BT_E_BAD_ATTR;
	}
	return rc;
}

/*
 * Attach every recorded LUN, all or nothing: when one fails, every LU this
 * call opened is destroyed again (by the invariant, that is every LU of t)
 * and the failing LUN is reported in *why.
 */
static int luns_attach(struct bt_target *t, struct bt_lun_fail *why)
{
	u32 i, j;
	int rc, err = 0;

	if (t->attached)
		return 0;
	for (i = 0; i < t->nluns; i++) {
		rc = slot_attach(t, &t->luns[i], &err);
		if (rc < 0)
			goto undo_opened;
	}
	t->attached = true;
	return 0;

undo_opened:
	if (why) {
		why->lun = t->luns[i].lun;
		why->path = t->luns[i].path;
		why->err = err;
	}
	for (j = 0; j < i; j++) {
		bt_lu_destroy(t->luns[j].lu);
		t->luns[j].lu = NULL;
	}
	return rc;
}

/* Close every backing; the maps stay. Callers have dropped the sessions
 * first; bt_lu_destroy copes with what is still in flight. */
static void luns_detach(struct bt_target *t)
{
	u32 i;

	for (i = 0; i < t->nluns; i++) {
		if (t->luns[i].lu)
			bt_lu_destroy(t->luns[i].lu);
		t->luns[i].lu = NULL;
	}
	t->attached = false;
}

bool bt_target_attached(const struct bt_target *t)
{
	return t->attached;
}

int bt_lun_add(struct bt_engine *e, const char *iqn, u64 lun,
	       const struct bt_lun_cfg *cfg)
{
	struct bt_target *t = bt_target_find(e, iqn);
	struct bt_lun_slot s = { 0 };
	u32 i;
	int rc;

	if (!t)
		return BT_E_NOT_FOUND;
	if (lun > BT_LUN_MAX || !cfg || !cfg->path || !cfg->path[0])
		return BT_E_BAD_ATTR;
	if (cfg->block_size && (cfg->block_size < 512 ||
				cfg->block_size > 65536 ||
				(cfg->block_size & (cfg->block_size - 1))))
		return BT_E_BAD_ATTR;
	if (cfg->uid && (!cfg->uid[0] || bt_strlen(cfg->uid) > 255))
		return BT_E_BAD_ATTR;
	i = bt_target_lu_index(t, lun);
	if (i < t->nluns && t->luns[i].lun == lun)
		return BT_E_EXISTS;
	if (t->nluns == t->luns_cap) {
		u32 cap = t->luns_cap ? t->luns_cap * 2 : 16;
		struct bt_lun_slot *n = bt_realloc(t->luns, cap * sizeof(*n));

		if (!n)
			return -BT_ENOMEM;
		t->luns = n;
		t->luns_cap = cap;
	}
	s.lun = lun;
	s.path = str_dup(cfg->path);
	s.uid = cfg->uid ? str_dup(cfg->uid) : NULL;
	s.block_size = cfg->block_size;
	s.readonly = cfg->readonly;
	s.features = cfg->features ? cfg->features : BT_FEAT_DEFAULT;
	if (!s.path || (cfg->uid && !s.uid)) {
		rc = -BT_ENOMEM;
		goto free_slot;
	}
	/* A staged (unattached) target only records the map. */
	if (t->attached) {
		rc = slot_attach(t, &s, NULL);
		if (rc < 0)
			goto free_slot;
	}
	bt_memmove(&t->luns[i + 1], &t->luns[i],
		   (t->nluns - i) * sizeof(t->luns[0]));
	t->luns[i] = s;
	t->nluns++;
	if (t->enabled)
		bt_scsi_luns_changed(t);
	emit_event(e, BT_EV_LUN_CHANGE, t->iqn, lun);
	return 0;

free_slot:
	slot_free(&s);
	return rc;
}

int bt_lun_del(struct bt_engine *e, const char *iqn, u64 lun, bool force)
{
	struct bt_target *t = bt_target_find(e, iqn);
	struct bt_lun_slot s;
	u32 i;

	if (!t)
		return BT_E_NOT_FOUND;
	i = bt_target_lu_index(t, lun);
	if (i >= t->nluns || t->luns[i].lun != lun)
		return BT_E_NOT_FOUND;
	if (!force && bt_iscsi_target_nsessions(t) > 0)
		return BT_E_IN_USE;
	s = t->luns[i];
	bt_memmove(&t->luns[i], &t->luns[i + 1],
		   (t->nluns - i - 1) * sizeof(t->luns[0]));
	t->nluns--;
	/* Unmapped first, so new commands see LOGICAL UNIT NOT SUPPORTED;
	 * bt_lu_destroy waits out (or aborts) what is in flight. */
	slot_free(&s);
	if (t->enabled)
		bt_scsi_luns_changed(t);
	emit_event(e, BT_EV_LUN_CHANGE, t->iqn, lun);
	return 0;
}

/* ---- ACLs and CHAP ------------------------------------------------------ */

static int acl_index(const struct bt_target *t, const char *initiator)
{
	unsigned i;

	for (i = 0; i < t->nacls; i++)
		if (!bt_strcmp(t->acls[i].initiator, initiator))
			return (int)i;
	return -1;
}

int bt_acl_add(struct bt_engine *e, const char *iqn, const char *initiator,
	       const struct bt_chap *chap)
{
	struct bt_target *t = bt_target_find(e, iqn);
	struct bt_acl *n, a = { 0 };
	int rc;

	if (!t)
		return BT_E_NOT_FOUND;
	if (!initiator || (bt_strcmp(initiator, "*") && !bt_name_valid(initiator)))
		return BT_E_BAD_NAME;
	rc = chap_check(chap);
	if (rc < 0)
		return rc;
	if (acl_index(t, initiator) >= 0)
		return BT_E_EXISTS;
	if (t->nacls >= 4096)
		return BT_E_LIMIT;
	a.initiator = str_dup(initiator);
	if (!a.initiator)
		return -BT_ENOMEM;
	rc = chap_store(chap, &a.chap);
	if (rc < 0)
		goto out_free_initiator;
	n = bt_realloc(t->acls, (t->nacls + 1) * sizeof(*n));
	if (!n) {
		rc = -BT_ENOMEM;
		goto out_free_chap;
	}
	n[t->nacls++] = a;
	t->acls = n;
	return 0;

out_free_chap:
	cred_free(&a.chap);
out_free_initiator:
	bt_free(a.initiator);
	return rc;
}

int bt_acl_del(struct bt_engine *e, const char *iqn, const char *initiator)
{
	struct bt_target *t = bt_target_find(e, iqn);
	int i;

	if (!t)
		return BT_E_NOT_FOUND;
	i = initiator ? acl_index(t, initiator) : -1;
	if (i < 0)
		return BT_E_NOT_FOUND;
	bt_free(t->acls[i].initiator);
	cred_free(&t->acls[i].chap);
	bt_memmove(&t->acls[i], &t->acls[i + 1],
		   (t->nacls - (unsigned)i - 1) * sizeof(t->acls[0]));
	t->nacls--;
	/* Sessions already logged in stay: disable the target to drop them. */
	return 0;
}

int bt_auth_set(struct bt_engine *e, const char *iqn,
		const struct bt_chap *chap, const struct bt_chap *mutual)
{
	struct bt_target *t = bt_target_find(e, iqn);
	struct bt_cred c = { NULL, NULL, NULL };
	int rc;

	if (!t)
		return BT_E_NOT_FOUND;
	rc = chap_check(chap);
	if (rc == 0)
		rc = chap_check(mutual);
	if (rc < 0)
		return rc;
	/* Both or nothing: store into a temporary first. */
	rc = chap_store(chap, &c);
	if (rc < 0)
		return rc;
	rc = chap_store(mutual, &t->mutual);
	if (rc < 0) {
		cred_free(&c);
		return rc;
	}
	cred_free(&t->chap);
	t->chap = c;
	return 0;
}

int bt_target_admit(struct bt_target *t, const char *initiator,
		    struct bt_chap *chap, struct bt_chap *mutual)
{
	int i = -1;

	chap->user = chap->secret = NULL;
	mutual->user = mutual->secret = NULL;
	if (!initiator)
		return -BT_EACCES;
	i = acl_index(t, initiator);
	if (i < 0)
		i = acl_index(t, "*");
	if (i < 0 && !t->attrs[BT_TA_DEMO_MODE])
		return -BT_EACCES;
	if (i >= 0 && t->acls[i].chap.user) {
		chap->user = t->acls[i].chap.user;
		chap->secret = t->acls[i].chap.secret;
	} else {
		chap->user = t->chap.user;
		chap->secret = t->chap.secret;
	}
	mutual->user = t->mutual.user;
	mutual->secret = t->mutual.secret;
	return 0;
}

unsigned bt_target_nacls(const struct bt_target *t)
{
	return t->nacls;
}

bool bt_target_acl(const struct bt_target *t, unsigned i,
		   const char **initiator, const char **chap_user)
{
	if (i >= t->nacls)
		return false;
	*initiator = t->acls[i].initiator;
	*chap_user = t->acls[i].chap.user;
	return true;
}

const char *bt_target_acl_digest(const struct bt_target *t, unsigned i)
{
	return i < t->nacls ? t->acls[i].chap.digest : NULL;
}

void bt_target_auth_digests(const struct bt_target *t, const char **chap,
			    const char **mutual)
{
	*chap = t->chap.digest;
	*mutual = t->mutual.digest;
}

void bt_target_auth_users(const struct bt_target *t, const char **chap_user,
			  const char **mutual_user)
{
	*chap_user = t->chap.user;
	*mutual_user = t->mutual.user;
}
