/*
 * iscsi_login.c - the login phase (RFC 7143 sections 6.3, 11.12, 11.13, 12).
 *
 * A login is a sequence of Login Request/Response exchanges on a new
 * connection. Each request names its current stage (CSG: 0 security, 1
 * operational) and, with the T bit, the stage it wants next (NSG). We answer
 * every key offered, agree to transit when the stage's work is done, and on
 * the transit to full feature phase (NSG 3) create or join the session.
 *
 * Security stage. bt_target_admit() decides whether the initiator may log
 * in at all and what CHAP it must prove. With CHAP the dialogue is:
 *   I: AuthMethod=CHAP,None      T: AuthMethod=CHAP
 *   I: CHAP_A=5                  T: CHAP_A=5 CHAP_I=<id> CHAP_C=0x<16 bytes>
 *   I: CHAP_N=<user> CHAP_R=0x<MD5(id||secret||challenge)>
 *      [CHAP_I=<id'> CHAP_C=0x<challenge'> for mutual CHAP]
 *   T: [CHAP_N=<mutual user> CHAP_R=0x<MD5(id'||mutual secret||challenge')>]
 * and only then may the initiator leave the security stage. An initiator that
 * skips the security stage (first CSG=1) while CHAP is required fails with
 * "authentication failure".
 *
 * Text keys may span several PDUs (C bit): the pieces are accumulated (up to
 * ISCSI_LOGIN_TEXT_MAX) and each piece is acknowledged with an empty
 * response, as the RFC requires.
 */
#include "iscsi_int.h"

enum chap_state {
	CHAP_IDLE = 0,                /* AuthMethod not agreed yet            */
	CHAP_WAIT_A,                  /* AuthMethod=CHAP agreed               */
	CHAP_WAIT_R,                  /* challenge sent                       */
	CHAP_DONE,
};

struct iscsi_login {
	bool started;
	u8 isid[6];
	u16 tsih;
	u16 cid;
	u32 cmdsn;
	int stage;
	char initiator[ISCSI_NAME_MAX];
	char target_name[ISCSI_NAME_MAX];
	bool discovery;
	struct bt_target *target;
	struct iscsi_session *join;   /* TSIH != 0: connection reinstatement */

	/* authentication */
	bool auth_needed;
	bool authenticated;
	enum chap_state chap;
	char chap_user[256];
	char chap_secret[256];
	char mut_user[256];
	char mut_secret[256];
	bool have_mutual;
	u8 chap_id;
	u8 chal[ISCSI_CHAP_CHALLENGE_LEN];

	/* keys of the current request */
	bool k_auth_method, offer_chap, offer_none, chap_a_md5;
	bool k_chap_n, k_chap_r, k_chap_i, k_chap_c;
	char chap_n[256];
	u8 chap_r[ISCSI_CHAP_MAX_BIN];
	u32 chap_r_len;
	u32 chap_i;
	u8 chap_c[ISCSI_CHAP_MAX_BIN];
	u32 chap_c_len;

	struct iscsi_neg neg;
	bool neg_started;
	bool tpgt_sent;
	u16 status;                   /* first failure while parsing keys     */

	u8 *rx;                       /* accumulated request text (C bit)    */
	u32 rxlen;
	struct iscsi_text_out out;
};

void iscsi_login_free(struct bt_conn *c)
{
	struct iscsi_login *l = c->login;

	if (!l)
		return;
	bt_free(l->rx);
	iscsi_text_free(&l->out);
	bt_memset(l->chap_secret, 0, sizeof(l->chap_secret));
	bt_memset(l->mut_secret, 0, sizeof(l->mut_secret));
	bt_free(l);
	c->login = NULL;
}

struct bt_target *iscsi_login_target(const struct bt_conn *c)
{
	return c->login ? c->login->target : NULL;
}

static void strcpy_cap(char *dst, bt_size_t cap, const char *src)
{
	bt_size_t n = bt_strlen(src);

	if (n >= cap)
		n = cap - 1;
	bt_memcpy(dst, src, n);
	dst[n] = 0;
}

/* Is word in the comma separated list? */
static bool list_has(const char *list, const char *word)
{
	bt_size_t wl = bt_strlen(word);
	const char *p = list;

	while (*p) {
		const char *e = p;

		while (*e && *e != ',')
			e++;
		if ((bt_size_t)(e - p) == wl && !bt_strncmp(p, word, wl))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static void login_fail(struct iscsi_login *l, u16 status)
{
	if (!l->status)
		l->status = status;
}

static int login_key(void *arg, const char *key, const char *val)
{
	struct iscsi_login *l = arg;
	u64 v;

	if (!bt_strcmp(key, "InitiatorName")) {
		if (bt_strlen(val) >= ISCSI_NAME_MAX || !*val) {
			login_fail(l, ISCSI_LOGIN_INIT_ERR);
			return 0;
		}
		if (l->initiator[0] && bt_strcmp(l->initiator, val))
			login_fail(l, ISCSI_LOGIN_INIT_ERR);
		strcpy_cap(l->initiator, sizeof(l->initiator), val);
	} else if (!bt_strcmp(key, "TargetName")) {
		if (bt_strlen(val) >= ISCSI_NAME_MAX || !*val) {
			login_fail(l, ISCSI_LOGIN_NOT_FOUND);
			return 0;
		}
		if (l->target_name[0] && bt_strcmp(l->target_name, val))
			login_fail(l, ISCSI_LOGIN_INIT_ERR);
		strcpy_cap(l->target_name, sizeof(l->target_name), val);
	} else if (!bt_strcmp(key, "SessionType")) {
		if (!bt_strcmp(val, "Discovery"))
			l->discovery = true;
		else if (!bt_strcmp(val, "Normal"))
			l->discovery = false;
		else
			login_fail(l, ISCSI_LOGIN_BAD_SESSION_TYPE);
	} else if (!bt_strcmp(key, "InitiatorAlias")) {
		/* informational */
	} else if (!bt_strcmp(key, "AuthMethod")) {
		l->k_auth_method = true;
		if (l->stage != ISCSI_STAGE_SEC) {
			login_fail(l, ISCSI_LOGIN_INIT_ERR);
			return 0;
		}
		/* Decided after the target is known: remember the offer. */
		l->offer_chap = list_has(val, "CHAP");
		l->offer_none = list_has(val, "None");
	} else if (!bt_strcmp(key, "CHAP_A")) {
		if (l->chap != CHAP_WAIT_A) {
			login_fail(l, ISCSI_LOGIN_AUTH_FAILED);
			return 0;
		}
		if (list_has(val, "5")) {
			l->chap_a_md5 = true;
		} else {
			iscsi_text_add(&l->out, "CHAP_A", "Reject");
			login_fail(l, ISCSI_LOGIN_AUTH_FAILED);
		}
	} else if (!bt_strcmp(key, "CHAP_N")) {
		l->k_chap_n = true;
		strcpy_cap(l->chap_n, sizeof(l->chap_n), val);
	} else if (!bt_strcmp(key, "CHAP_R")) {
		l->k_chap_r = true;
		if (iscsi_val_bin(val, l->chap_r, sizeof(l->chap_r), &l->chap_r_len))
			login_fail(l, ISCSI_LOGIN_AUTH_FAILED);
	} else if (!bt_strcmp(key, "CHAP_I")) {
		l->k_chap_i = true;
		if (iscsi_val_num(val, 255, &v))
			login_fail(l, ISCSI_LOGIN_AUTH_FAILED);
		else
			l->chap_i = (u32)v;
	} else if (!bt_strcmp(key, "CHAP_C")) {
		l->k_chap_c = true;
		if (iscsi_val_bin(val, l->chap_c, sizeof(l->chap_c), &l->chap_c_len) ||
		    l->chap_c_len == 0)
			login_fail(l, ISCSI_LOGIN_AUTH_FAILED);
	} else if (!bt_strcmp(key, "TargetAlias") || !bt_strcmp(key, "TargetAddress") ||
		   !bt_strcmp(key, "TargetPortalGroupTag")) {
		/* target-declared keys sent by an initiator: ignore */
	} else {
		enum iscsi_neg_rc rc;

		if (!l->neg_started) {
			iscsi_neg_init(&l->neg, l->discovery);
			l->neg_started = true;
		}
		l->neg.discovery = l->discovery;
		rc = iscsi_neg_key(&l->neg, key, val, &l->out);
		if (rc == ISCSI_NEG_UNKNOWN)
			iscsi_text_add(&l->out, key, "NotUnderstood");
		else if (rc == ISCSI_NEG_FAIL)
			login_fail(l, ISCSI_LOGIN_INIT_ERR);
	}
	return 0;
}

/* First request of the login: who is this and may they come in? */
static u16 login_admit(struct bt_conn *c, struct iscsi_login *l)
{
	struct iscsi_engine *ie = c->ie;
	struct bt_chap chap = { 0 }, mutual = { 0 };
	struct bt_target *t;
	u64 limit;

	if (!l->initiator[0])
		return ISCSI_LOGIN_MISSING_PARAM;
	if (ie->shutting_down)
		return ISCSI_LOGIN_UNAVAILABLE;
	if (l->discovery) {
		l->auth_needed = false;
		return 0;
	}
	if (!l->target_name[0])
		return ISCSI_LOGIN_MISSING_PARAM;
	t = bt_target_find(ie->e, l->target_name);
	if (!t || !bt_target_enabled(t))
		return ISCSI_LOGIN_NOT_FOUND;
	if (bt_target_admit(t, l->initiator, &chap, &mutual))
		return ISCSI_LOGIN_NOT_AUTHORIZED;
	l->target = t;
	if (chap.user && chap.secret) {
		l->auth_needed = true;
		strcpy_cap(l->chap_user, sizeof(l->chap_user), chap.user);
		strcpy_cap(l->chap_secret, sizeof(l->chap_secret), chap.secret);
	}
	if (mutual.user && mutual.secret) {
		l->have_mutual = true;
		strcpy_cap(l->mut_user, sizeof(l->mut_user), mutual.user);
		strcpy_cap(l->mut_secret, sizeof(l->mut_secret), mutual.secret);
	}
	if (l->tsih) {
		/* Connection reinstatement into an existing session. */
		struct iscsi_session *s;

		for (s = ie->sessions; s; s = s->next)
			if (s->tsih == l->tsih && !s->dropped)
				break;
		if (!s || s->target != t || bt_strcmp(s->initiator, l->initiator) ||
		    bt_memcmp(s->isid, l->isid, 6))
			return ISCSI_LOGIN_NO_SESSION;
		if (s->conn && s->conn->cid != l->cid)
			return ISCSI_LOGIN_TOO_MANY_CONNS;
		l->join = s;
		return 0;
	}
	/* Reinstatement (same ISID) does not count against the limits. */
	limit = bt_target_attr(t, BT_TA_MAX_SESSIONS_PER_INITIATOR);
	if (limit && iscsi_sessions_of(ie, t, l->initiator, l->isid) >= limit) {
		bt_info("iscsi %s: %s already has %llu sessions on %s\n", c->peer,
			l->initiator, (unsigned long long)limit, l->target_name);
		return ISCSI_LOGIN_NO_RESOURCES;
	}
	limit = bt_target_attr(t, BT_TA_MAX_SESSIONS);
	if (limit && iscsi_sessions_total(ie, t) >= limit &&
	    !iscsi_sessions_of(ie, t, l->initiator, NULL))
		return ISCSI_LOGIN_NO_RESOURCES;
	return 0;
}

/* Security stage work after the keys of a request were parsed. */
static void login_security(struct bt_conn *c, struct iscsi_login *l)
{
	bool chap_offered = l->offer_chap, none_offered = l->offer_none;

	if (l->k_auth_method) {
		if (l->auth_needed && chap_offered) {
			iscsi_text_add(&l->out, "AuthMethod", "CHAP");
			l->chap = CHAP_WAIT_A;
		} else if (!l->auth_needed && none_offered) {
			iscsi_text_add(&l->out, "AuthMethod", "None");
			l->authenticated = true;
		} else {
			iscsi_text_add(&l->out, "AuthMethod", "Reject");
			login_fail(l, ISCSI_LOGIN_AUTH_FAILED);
			return;
		}
	} else if (!l->auth_needed) {
		l->authenticated = true;
	}
	if (l->chap == CHAP_WAIT_A && l->chap_a_md5 && !l->k_chap_n) {
		char hex[2 + 2 * ISCSI_CHAP_CHALLENGE_LEN + 1];

		bt_random(&l->chap_id, 1);
		bt_random(l->chal, sizeof(l->chal));
		iscsi_text_add(&l->out, "CHAP_A", "5");
		iscsi_text_addu(&l->out, "CHAP_I", l->chap_id);
		iscsi_val_hex(l->chal, sizeof(l->chal), hex);
		iscsi_text_add(&l->out, "CHAP_C", hex);
		l->chap = CHAP_WAIT_R;
		return;
	}
	if (l->chap == CHAP_WAIT_R && (l->k_chap_n || l->k_chap_r)) {
		u8 id = l->chap_id;

		if (!l->k_chap_n || !l->k_chap_r ||
		    bt_strcmp(l->chap_n, l->chap_user) ||
		    !iscsi_chap_verify(id, l->chap_secret, l->chal, sizeof(l->chal),
				       l->chap_r, l->chap_r_len)) {
			bt_warn("iscsi %s: CHAP failed for %s\n", c->peer,
				l->initiator);
			login_fail(l, ISCSI_LOGIN_AUTH_FAILED);
			return;
		}
		if (l->k_chap_i || l->k_chap_c) {
			/* Mutual CHAP: the initiator challenges us. */
			u8 resp[16];
			char hex[2 + 32 + 1];

			if (!l->k_chap_i || !l->k_chap_c || !l->have_mutual ||
			    (l->chap_c_len == sizeof(l->chal) &&
			     !bt_memcmp(l->chap_c, l->chal, sizeof(l->chal)))) {
				login_fail(l, ISCSI_LOGIN_AUTH_FAILED);
				return;
			}
			iscsi_chap_response((u8)l->chap_i, l->mut_secret, l->chap_c,
					    l->chap_c_len, resp);
			iscsi_val_hex(resp, 16, hex);
			iscsi_text_add(&l->out, "CHAP_N", l->mut_user);
			iscsi_text_add(&l->out, "CHAP_R", hex);
		}
		l->chap = CHAP_DONE;
		l->authenticated = true;
	}
}

static int login_send(struct bt_conn *c, struct iscsi_login *l, const u8 *hdr,
		      u8 flags, u16 status, const u8 *data, u32 len)
{
	u8 r[ISCSI_BHS_LEN];

	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_LOGIN_RSP;
	r[1] = flags;
	r[2] = 0;                         /* version-max                      */
	r[3] = 0;                         /* version-active                   */
	bt_memcpy(r + 8, hdr + 8, 6);     /* ISID                             */
	bt_put_be16(r + 14, l->tsih);
	bt_put_be32(r + 16, bt_get_be32(hdr + 16));
	bt_put_be32(r + 24, c->stat_sn++);
	bt_put_be32(r + 28, l->cmdsn);
	bt_put_be32(r + 32, l->cmdsn + ISCSI_CMD_WINDOW - 1);
	r[36] = (u8)(status >> 8);
	r[37] = (u8)status;
	return iscsi_send(c, r, data, len);
}

static int login_reject(struct bt_conn *c, struct iscsi_login *l,
			const u8 *hdr, u16 status)
{
	bt_info("iscsi %s: login of %s to %s refused: status 0x%04x\n", c->peer,
		l->initiator[0] ? l->initiator : "?",
		l->target_name[0] ? l->target_name : (l->discovery ? "discovery" : "?"),
		status);
	l->tsih = 0;
	login_send(c, l, hdr, (u8)(hdr[1] & 0x0c), status, NULL, 0);
	return -BT_EPROTO;
}

/* Transit to full feature phase: start or join the session. */
static u16 login_complete(struct bt_conn *c, struct iscsi_login *l)
{
	struct iscsi_params p;
	int st;

	if (l->neg_started)
		p = l->neg.p;
	else
		iscsi_params_default(&p);
	p.max_recv_dsl = ISCSI_OUR_MAX_RECV_DSL;
	if (l->join) {
		struct iscsi_session *s = l->join;
		struct bt_conn *old = s->conn;

		if (old) {
			old->sess = NULL;
			iscsi_conn_drop(old, "connection reinstated");
			iscsi_tasks_abandon(old);
			s->conn = NULL;
			iscsi_session_put(s);
		}
		s->conn = c;
		s->refs++;
		c->sess = s;
		l->tsih = s->tsih;
		c->params = s->params;
		c->params.max_xmit_dsl = p.max_xmit_dsl;
		return 0;
	}
	st = iscsi_session_start(c, l->target, l->discovery, l->initiator,
				 l->isid, &p, l->cmdsn);
	if (st)
		return (u16)st;
	l->tsih = c->sess->tsih;
	return 0;
}

int iscsi_login_pdu(struct bt_conn *c, const u8 *hdr, const u8 *data, u32 dlen)
{
	struct iscsi_login *l = c->login;
	bool transit = hdr[1] & 0x80, cont = hdr[1] & 0x40;
	int csg = (hdr[1] >> 2) & 3, nsg = hdr[1] & 3;
	u8 rflags;
	int rc;

	if (!l) {
		l = bt_zalloc(sizeof(*l));
		if (!l)
			return -BT_ENOMEM;
		c->login = l;
	}
	if (!l->started) {
		l->started = true;
		bt_memcpy(l->isid, hdr + 8, 6);
		l->tsih = bt_get_be16(hdr + 14);
		l->cid = bt_get_be16(hdr + 20);
		l->cmdsn = bt_get_be32(hdr + 24);
		l->stage = csg;
		c->cid = l->cid;
		c->stat_sn = bt_get_be32(hdr + 28);
		if (hdr[3] > 0 || hdr[2] < hdr[3])
			return login_reject(c, l, hdr, ISCSI_LOGIN_BAD_VERSION);
	} else if (bt_memcmp(l->isid, hdr + 8, 6) ||
		   bt_get_be16(hdr + 14) != l->tsih ||
		   bt_get_be16(hdr + 20) != l->cid) {
		return login_reject(c, l, hdr, ISCSI_LOGIN_INIT_ERR);
	}
	if (csg != l->stage || csg == 2 || csg == ISCSI_STAGE_FFP ||
	    (transit && (nsg <= csg || nsg == 2)))
		return login_reject(c, l, hdr, ISCSI_LOGIN_INIT_ERR);

	/* Accumulate text across C-bit PDUs. */
	if (dlen) {
		u8 *nb;

		if (l->rxlen + dlen > ISCSI_LOGIN_TEXT_MAX)
			return login_reject(c, l, hdr, ISCSI_LOGIN_INIT_ERR);
		nb = bt_realloc(l->rx, l->rxlen + dlen);
		if (!nb)
			return login_reject(c, l, hdr, ISCSI_LOGIN_NO_RESOURCES);
		l->rx = nb;
		bt_memcpy(l->rx + l->rxlen, data, dlen);
		l->rxlen += dlen;
	}
	if (cont) {
		if (transit)
			return login_reject(c, l, hdr, ISCSI_LOGIN_INIT_ERR);
		return login_send(c, l, hdr, (u8)(csg << 2), 0, NULL, 0) ? -BT_EPROTO : 0;
	}

	/* Parse this request's keys. */
	l->k_auth_method = l->offer_chap = l->offer_none = l->chap_a_md5 = false;
	l->k_chap_n = l->k_chap_r = l->k_chap_i = l->k_chap_c = false;
	l->chap_i = 0;
	l->chap_r_len = l->chap_c_len = 0;
	iscsi_text_free(&l->out);
	rc = iscsi_text_parse(l->rx, l->rxlen, login_key, l);
	bt_free(l->rx);
	l->rx = NULL;
	l->rxlen = 0;
	if (rc)
		return login_reject(c, l, hdr, ISCSI_LOGIN_INIT_ERR);
	if (l->status)
		return login_reject(c, l, hdr, l->status);

	if (!l->target && !l->discovery) {
		u16 st = login_admit(c, l);

		if (st)
			return login_reject(c, l, hdr, st);
	} else if (l->discovery && !l->initiator[0]) {
		return login_reject(c, l, hdr, ISCSI_LOGIN_MISSING_PARAM);
	} else if (l->discovery && c->ie->shutting_down) {
		return login_reject(c, l, hdr, ISCSI_LOGIN_UNAVAILABLE);
	}

	if (csg == ISCSI_STAGE_SEC) {
		login_security(c, l);
		if (l->status)
			return login_reject(c, l, hdr, l->status);
	} else if (l->auth_needed && !l->authenticated) {
		return login_reject(c, l, hdr, ISCSI_LOGIN_AUTH_FAILED);
	} else {
		l->authenticated = true;
		if (!l->neg_started) {
			iscsi_neg_init(&l->neg, l->discovery);
			l->neg_started = true;
		}
		iscsi_neg_finish(&l->neg, &l->out);
	}
	if (!l->tpgt_sent && !l->discovery) {
		iscsi_text_add(&l->out, "TargetPortalGroupTag", "1");
		l->tpgt_sent = true;
	}
	if (l->out.overflow || l->out.len > ISCSI_LOGIN_MAX_DSL)
		return login_reject(c, l, hdr, ISCSI_LOGIN_TARGET_ERR);

	rflags = (u8)(csg << 2);
	if (transit && l->authenticated) {
		rflags |= 0x80 | (u8)nsg;
		if (nsg == ISCSI_STAGE_FFP) {
			u16 st = login_complete(c, l);

			if (st)
				return login_reject(c, l, hdr, st);
		}
	}
	rc = login_send(c, l, hdr, rflags, 0, l->out.buf, l->out.len);
	if (rc)
		return rc;
	if (!(rflags & 0x80))
		return 0;
	l->stage = nsg;
	if (nsg != ISCSI_STAGE_FFP)
		return 0;

	/* Full feature phase from the next PDU on: digests now apply. */
	c->state = ISCSI_CONN_FFP;
	if (!l->join)
		c->params = c->sess->params;
	bt_info("iscsi %s: %s session %u of %s%s%s logged in\n", c->peer,
		l->discovery ? "discovery" : "normal", l->tsih, l->initiator,
		l->discovery ? "" : " to ", l->discovery ? "" : l->target_name);
	if (!l->discovery && c->ie->ops->event) {
		struct bt_event ev = {
			.type = BT_EV_LOGIN,
			.target = l->target_name,
			.initiator = l->initiator,
			.session_id = c->sess->id,
		};
		c->ie->ops->event(c->ie->host, &ev);
	}
	iscsi_login_free(c);
	return 0;
}

void iscsi_sendtargets(struct bt_conn *c, const char *what,
		       struct iscsi_text_out *out)
{
	struct iscsi_session *s = c->sess;
	struct bt_target *t = NULL;
	bool all = !bt_strcmp(what, "All");

	if (!s)
		return;
	if (!s->discovery) {
		/* Normal session: only the session's own target. */
		if (!all && *what && bt_strcmp(what, bt_target_iqn(s->target)))
			return;
	} else if (!all && !*what) {
		return;
	}
	while ((t = bt_target_next(c->ie->e, t))) {
		struct bt_chap chap, mutual;
		const char *portal;
		unsigned i;
		char addr[96];

		if (!s->discovery && t != s->target)
			continue;
		if (!all && *what && bt_strcmp(what, bt_target_iqn(t)))
			continue;
		if (!bt_target_enabled(t) ||
		    bt_target_admit(t, s->initiator, &chap, &mutual))
			continue;
		iscsi_text_add(out, "TargetName", bt_target_iqn(t));
		for (i = 0; (portal = bt_target_portal(t, i)); i++) {
			bt_snprintf(addr, sizeof(addr), "%s,1", portal);
			iscsi_text_add(out, "TargetAddress", addr);
		}
		if (i == 0 && c->local[0]) {
			bt_snprintf(addr, sizeof(addr), "%s,1", c->local);
			iscsi_text_add(out, "TargetAddress", addr);
		}
	}
}
