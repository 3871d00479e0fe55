/*
 * iscsi_session.c - sessions and the iSCSI layer's hooks for the rest of the
 * engine (bt_iscsi.h): engine init/fini, target removal, session listing,
 * timers (NOP-In pings, login timeout) and orderly shutdown.
 *
 * Sessions per initiator. A target admits up to BT_TA_MAX_SESSIONS_PER_
 * INITIATOR normal sessions from one initiator name, each with its own
 * ISID (ESXi opens a second session per portal; LIO refuses it). A leading
 * login that reuses the ISID of a live session of the same initiator and
 * target is a session reinstatement (RFC 7143 6.3.5): the old session is
 * dropped, its tasks are abandoned, and the new one takes its place; it does
 * not count against the limit.
 */
#include "iscsi_int.h"

struct iscsi_engine *iscsi_engine_of(struct bt_engine *e)
{
	void **slot = bt_engine_iscsi_slot(e);

	return slot ? *slot : NULL;
}

int bt_iscsi_engine_init(struct bt_engine *e)
{
	struct iscsi_engine *ie = bt_zalloc(sizeof(*ie));
	u8 salt[2];

	if (!ie)
		return -BT_ENOMEM;
	ie->e = e;
	ie->ops = bt_engine_ops(e);
	ie->host = bt_engine_host(e);
	bt_crc32c_init(&ie->crc);
	bt_random(salt, sizeof(salt));
	ie->next_tsih = (u16)(salt[0] << 8 | salt[1]);
	ie->next_sid = 1;
	*bt_engine_iscsi_slot(e) = ie;
	return 0;
}

void bt_iscsi_engine_fini(struct bt_engine *e)
{
	struct iscsi_engine *ie = iscsi_engine_of(e);
	struct iscsi_task *t;

	if (!ie)
		return;
	/* The host closed every connection before bt_engine_free. */
	while ((t = ie->task_free)) {
		ie->task_free = t->next;
		bt_free(t);
	}
	while (ie->conns) {
		struct bt_conn *c = ie->conns;

		ie->conns = c->next;
		bt_free(c->rx_data);
		bt_free(c->text_in);
		bt_free(c->text_out);
		bt_free(c);
	}
	while (ie->sessions) {
		struct iscsi_session *s = ie->sessions;

		ie->sessions = s->next;
		if (s->nexus_added)
			bt_scsi_nexus_del(&s->nexus);
		bt_free(s);
	}
	bt_free(ie);
	*bt_engine_iscsi_slot(e) = NULL;
}

static bool tsih_in_use(struct iscsi_engine *ie, u16 tsih)
{
	struct iscsi_session *s;

	for (s = ie->sessions; s; s = s->next)
		if (s->tsih == tsih)
			return true;
	return false;
}

unsigned iscsi_sessions_of(struct iscsi_engine *ie, struct bt_target *t,
			   const char *initiator, const u8 *except_isid)
{
	struct iscsi_session *s;
	unsigned n = 0;

	for (s = ie->sessions; s; s = s->next)
		if (s->target == t && !s->discovery && !s->dropped &&
		    !bt_strcmp(s->initiator, initiator) &&
		    (!except_isid || bt_memcmp(s->isid, except_isid, 6)))
			n++;
	return n;
}

unsigned iscsi_sessions_total(struct iscsi_engine *ie, struct bt_target *t)
{
	struct iscsi_session *s;
	unsigned n = 0;

	for (s = ie->sessions; s; s = s->next)
		if (s->target == t && !s->discovery && !s->dropped)
			n++;
	return n;
}

void iscsi_session_put(struct iscsi_session *s)
{
	struct iscsi_session **pp;

	if (--s->refs)
		return;
	for (pp = &s->ie->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->nexus_added)
		bt_scsi_nexus_del(&s->nexus);
	bt_free(s);
}

/*
 * A dropped session stays on ie->sessions (flagged) until its connection and
 * tasks are gone, so bt_iscsi_target_gone still finds it; everything that
 * looks for live sessions skips it.
 */
void iscsi_session_drop(struct iscsi_session *s, const char *why)
{
	if (s->dropped)
		return;
	s->dropped = true;
	bt_info("iscsi: session %u of %s dropped: %s\n", s->tsih, s->initiator, why);
	if (s->conn)
		iscsi_conn_drop(s->conn, why);
}

int iscsi_session_start(struct bt_conn *c, struct bt_target *t, bool discovery,
			const char *initiator, const u8 isid[6],
			const struct iscsi_params *p, u32 exp_cmdsn)
{
	struct iscsi_engine *ie = c->ie;
	struct iscsi_session *s, *old;
	bt_size_t n;

	s = bt_zalloc(sizeof(*s));
	if (!s)
		return ISCSI_LOGIN_NO_RESOURCES;
	s->ie = ie;
	s->target = t;
	s->discovery = discovery;
	n = bt_strlen(initiator);
	if (n >= sizeof(s->initiator))
		n = sizeof(s->initiator) - 1;
	bt_memcpy(s->initiator, initiator, n);
	bt_memcpy(s->isid, isid, 6);
	do {
		s->tsih = ie->next_tsih++;
	} while (s->tsih == 0 || tsih_in_use(ie, s->tsih));
	s->id = ie->next_sid++;
	s->params = *p;
	s->exp_cmdsn = exp_cmdsn;

	if (!discovery) {
		/* Reinstatement: same initiator, ISID and target. */
		for (old = ie->sessions; old; old = old->next)
			if (old->target == t && !old->discovery && !old->dropped &&
			    !bt_strcmp(old->initiator, initiator) &&
			    !bt_memcmp(old->isid, isid, 6))
				break;
		if (old)
			iscsi_session_drop(old, "reinstated by a new login");
		s->nexus.initiator = s->initiator;
		bt_memcpy(s->nexus.isid, isid, 6);
		s->nexus.tsih = s->tsih;
		s->nexus.tpgt = 1;
		s->nexus.rel_port = 1;
		s->nexus.target = t;
		s->nexus.id = s->id;
		if (bt_scsi_nexus_add(&s->nexus)) {
			bt_free(s);
			return ISCSI_LOGIN_NO_RESOURCES;
		}
		s->nexus_added = true;
	}
	s->conn = c;
	s->refs = 1;                      /* the connection                   */
	c->sess = s;
	s->next = ie->sessions;
	ie->sessions = s;
	return 0;
}

void bt_iscsi_target_gone(struct bt_target *t)
{
	struct iscsi_engine *ie = iscsi_engine_of(bt_target_engine(t));
	struct iscsi_session *s, *nx;
	struct bt_conn *c;

	if (!ie)
		return;
	for (s = ie->sessions; s; s = nx) {
		nx = s->next;
		if (s->target != t)
			continue;
		iscsi_session_drop(s, "target removed");
		/* t is freed after this call: unregister the nexus now (it
		 * names t) and forget t; the husk only waits for its
		 * connection and tasks to finish. */
		if (s->nexus_added) {
			bt_scsi_nexus_del(&s->nexus);
			s->nexus_added = false;
		}
		s->target = NULL;
		s->nexus.target = NULL;
	}
	/*
	 * Logins in progress may hold t; fail them too. Dropped sessions keep
	 * their target pointer only until their connection and tasks are
	 * gone, and never dereference it after the drop.
	 */
	for (c = ie->conns; c; c = c->next)
		if (c->state == ISCSI_CONN_LOGIN && iscsi_login_target(c) == t)
			iscsi_conn_drop(c, "target removed during login");
	*bt_target_iscsi_slot(t) = NULL;
}

unsigned bt_iscsi_target_nsessions(const struct bt_target *t)
{
	struct bt_target *mt = (struct bt_target *)t;
	struct iscsi_engine *ie = iscsi_engine_of(bt_target_engine(mt));

	return ie ? iscsi_sessions_total(ie, mt) : 0;
}

void bt_iscsi_sessions(struct bt_target *t,
		       void (*cb)(void *arg, const struct bt_session_info *si),
		       void *arg)
{
	struct iscsi_engine *ie = iscsi_engine_of(bt_target_engine(t));
	struct iscsi_session *s;

	if (!ie)
		return;
	for (s = ie->sessions; s; s = s->next) {
		struct bt_session_info si;

		if (s->target != t || s->discovery || s->dropped)
			continue;
		bt_memset(&si, 0, sizeof(si));
		si.initiator = s->initiator;
		bt_memcpy(si.isid, s->isid, 6);
		si.tsih = s->tsih;
		si.id = s->id;
		si.nconns = s->conn ? 1 : 0;
		si.peer = s->conn ? s->conn->peer : "";
		si.local = s->conn ? s->conn->local : "";
		si.cmds = s->cmds;
		cb(arg, &si);
	}
}

static void send_ping(struct bt_conn *c, u64 now)
{
	u8 r[ISCSI_BHS_LEN];

	bt_memset(r, 0, sizeof(r));
	r[0] = ISCSI_OP_NOP_IN;
	r[1] = 0x80;
	bt_put_be32(r + 16, ISCSI_RSVD_TAG);
	bt_put_be32(r + 20, c->next_ttt++);
	if (bt_get_be32(r + 20) == ISCSI_RSVD_TAG)
		bt_put_be32(r + 20, c->next_ttt++);
	iscsi_fill_sn(c, r, false);
	c->ping_sent_ms = now;
	iscsi_send(c, r, NULL, 0);
}

void bt_iscsi_tick(struct bt_engine *e, u64 now_ms)
{
	struct iscsi_engine *ie = iscsi_engine_of(e);
	struct bt_conn *c;

	if (!ie)
		return;
	ie->now_ms = now_ms;
	for (c = ie->conns; c; c = c->next) {
		struct iscsi_session *s = c->sess;
		u64 interval, timeout;

		if (c->state == ISCSI_CONN_LOGIN) {
			if (now_ms - c->login_start_ms > ISCSI_LOGIN_TIMEOUT_MS)
				iscsi_conn_drop(c, "login timeout");
			continue;
		}
		if (c->state != ISCSI_CONN_FFP || !s || s->discovery || s->dropped)
			continue;
		interval = bt_target_attr(s->target, BT_TA_NOP_INTERVAL_MS);
		timeout = bt_target_attr(s->target, BT_TA_NOP_TIMEOUT_MS);
		if (!interval)
			continue;
		if (c->ping_sent_ms) {
			/* Any PDU from the initiator proves it alive. */
			if (c->last_rx_ms >= c->ping_sent_ms)
				c->ping_sent_ms = 0;
			else if (timeout && now_ms - c->ping_sent_ms >= timeout) {
				if (ie->ops->event) {
					struct bt_event ev = {
						.type = BT_EV_CONN_DEAD,
						.target = bt_target_iqn(s->target),
						.initiator = s->initiator,
						.session_id = s->id,
					};
					ie->ops->event(ie->host, &ev);
				}
				iscsi_session_drop(s, "NOP-In ping timeout");
				continue;
			}
		}
		if (!c->ping_sent_ms && now_ms - c->last_rx_ms >= interval)
			send_ping(c, now_ms);
	}
}

void bt_iscsi_shutdown(struct bt_engine *e)
{
	struct iscsi_engine *ie = iscsi_engine_of(e);
	struct bt_conn *c;

	if (!ie)
		return;
	ie->shutting_down = true;
	for (c = ie->conns; c; c = c->next) {
		u8 r[ISCSI_BHS_LEN];

		if (c->state == ISCSI_CONN_LOGIN) {
			iscsi_conn_drop(c, "shutting down");
			continue;
		}
		if (c->state != ISCSI_CONN_FFP || c->logout_sent)
			continue;
		if (!c->sess || c->sess->discovery) {
			iscsi_conn_drop(c, "shutting down");
			continue;
		}
		/* Async Message: target requests logout (event 1). */
		bt_memset(r, 0, sizeof(r));
		r[0] = ISCSI_OP_ASYNC;
		r[1] = 0x80;
		bt_put_be32(r + 16, ISCSI_RSVD_TAG);
		iscsi_fill_sn(c, r, true);
		r[36] = 1;
		bt_put_be16(r + 38, 0);
		bt_put_be16(r + 40, 0);   /* Time2Wait                        */
		bt_put_be16(r + 42, 3);   /* seconds before we drop it        */
		c->logout_sent = true;
		iscsi_send(c, r, NULL, 0);
	}
}

unsigned bt_iscsi_nconns(struct bt_engine *e)
{
	struct iscsi_engine *ie = iscsi_engine_of(e);
	struct bt_conn *c;
	unsigned n = 0;

	if (!ie)
		return 0;
	for (c = ie->conns; c; c = c->next)
		if (!c->host_gone)
			n++;
	return n;
}
