/*
 * leader.c - see leader.h.
 *
 * Locking: the fields marked (m) below are shared with the keepalive
 * thread when it runs and are read/written under l->mu; without the thread
 * the mutex is uncontended. The main thread's etcd handle (l->etcd) is used
 * only by the main thread and the thread's own handle (l->ka_etcd) only by
 * the thread: struct bl_etcd is single-threaded (bl_etcd.h).
 *
 * Why a thread: a reconcile may run for longer than a lease TTL (under an
 * emulated CPU an agent's meta-data or crm_verify takes 10-30 s), and the
 * controller's loop ticks the election only between work items. Without
 * the thread such a leader's lease lapsed, the guard refused its plan ("no
 * longer the leader ... plan not applied") and the next reconcile started
 * over: the CIB never converged. With it, the lease lives as long as the
 * process and etcd can talk, whatever the loop does; the validity bound
 * (valid_until_ms) is then refreshed by the thread's confirmed keepalives,
 * so bl_leader_valid() still turns false by itself when keepalives stop
 * succeeding (etcd unreachable, lease revoked).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_time.h"
#include "leader.h"

struct bl_leader {
	struct bl_etcd *etcd;
	char *key;
	char *id;
	int64_t ttl_s;
	int64_t lease;            /* (m) 0: none                             */
	bool leader;              /* (m)                                     */
	uint64_t next_ms;         /* next keepalive / campaign               */
	uint64_t valid_until_ms;  /* (m) lease expiry as last confirmed, minus
	                           * a margin: no leader work after it        */
	char holder[256];
	pthread_mutex_t mu;
	/* keepalive thread (bl_leader_start_keepalive) */
	bool ka_running;
	bool ka_stop;             /* (m)                                     */
	pthread_cond_t ka_cond;   /* signalled to stop; CLOCK_MONOTONIC     */
	pthread_t ka_thread;
	struct bl_etcd *ka_etcd;
};

struct bl_leader *bl_leader_new(struct bl_etcd *e, const char *key,
				const char *id, int64_t ttl_s)
{
	struct bl_leader *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	pthread_mutex_init(&l->mu, NULL);
	l->etcd = e;
	l->key = strdup(key);
	l->id = strdup(id);
	l->ttl_s = ttl_s > 1 ? ttl_s : 2;
	if (!l->key || !l->id) {
		bl_leader_free(l);
		return NULL;
	}
	return l;
}

/* The lease was confirmed with ttl seconds left by a request sent at sent.
 * Under l->mu. */
static void confirm(struct bl_leader *l, uint64_t sent, int64_t ttl)
{
	uint64_t ms = (uint64_t)ttl * 1000, margin = ms / 5 > 1000 ? 1000 : ms / 5;
	l->valid_until_ms = sent + ms - margin;
}

/*
 * Is the leadership over after a keepalive that returned rc (and ttl)?
 * etcd saying the lease is gone (ttl <= 0) ends it at once. No answer
 * (rc < 0: a timeout or a connection error, which a loaded host produces
 * now and then) does not by itself: the lease may well be alive, and
 * leader work is bounded by valid_until_ms anyway, which only a confirmed
 * keepalive moves. Once that bound has passed, the lease may have expired
 * in etcd and someone else may lead: over. Under l->mu.
 */
static bool lost(const struct bl_leader *l, int rc, int64_t ttl, uint64_t now)
{
	if (rc == 0)
		return ttl <= 0;
	return now >= l->valid_until_ms;
}

static void *ka_main(void *arg)
{
	struct bl_leader *l = arg;
	uint64_t period = (uint64_t)l->ttl_s * 1000 / 3;

	pthread_mutex_lock(&l->mu);
	while (!l->ka_stop) {
		struct timespec ts;
		uint64_t until;
		bool failed = false;

		if (l->leader && l->lease) {
			int64_t id = l->lease, ttl = 0;
			uint64_t sent;
			int rc;

			pthread_mutex_unlock(&l->mu);
			sent = bl_now_ms();
			rc = bl_etcd_lease_keepalive(l->ka_etcd, id, &ttl);
			pthread_mutex_lock(&l->mu);
			/* Only if the main thread did not move on meanwhile. */
			if (l->leader && l->lease == id) {
				if (lost(l, rc, ttl, bl_now_ms())) {
					l->leader = false;
					l->lease = 0;
				} else if (rc == 0) {
					confirm(l, sent, ttl);
				} else {
					failed = true;
				}
			}
		}
		/* After a keepalive without an answer, try again soon. */
		until = bl_now_ms() + (failed ? 500 : period);
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000;
		while (!l->ka_stop && bl_now_ms() < until)
			pthread_cond_timedwait(&l->ka_cond, &l->mu, &ts);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int bl_leader_start_keepalive(struct bl_leader *l,
			      const struct bl_etcd_opts *o)
{
	pthread_condattr_t ca;
	int rc;

	if (l->ka_running)
		return 0;
	rc = bl_etcd_open(o, &l->ka_etcd);
	if (rc < 0)
		return rc;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->ka_cond, &ca);
	pthread_condattr_destroy(&ca);
	l->ka_stop = false;
	rc = pthread_create(&l->ka_thread, NULL, ka_main, l);
	if (rc) {
		pthread_cond_destroy(&l->ka_cond);
		bl_etcd_close(l->ka_etcd);
		l->ka_etcd = NULL;
		return -rc;
	}
	l->ka_running = true;
	return 0;
}

static void stop_keepalive(struct bl_leader *l)
{
	if (!l->ka_running)
		return;
	pthread_mutex_lock(&l->mu);
	l->ka_stop = true;
	pthread_cond_signal(&l->ka_cond);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->ka_thread, NULL);
	pthread_cond_destroy(&l->ka_cond);
	bl_etcd_close(l->ka_etcd);
	l->ka_etcd = NULL;
	l->ka_running = false;
}

static void drop_lease(struct bl_leader *l)
{
	if (l->lease)
		bl_etcd_lease_revoke(l->etcd, l->lease);
	l->lease = 0;
	l->leader = false;
}

void bl_leader_free(struct bl_leader *l)
{
	if (!l)
		return;
	stop_keepalive(l);
	drop_lease(l);
	free(l->key);
	free(l->id);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static void set_holder(struct bl_leader *l, const struct bl_kvs *kvs)
{
	l->holder[0] = '\0';
	if (kvs && kvs->n && kvs->kvs[0].value) {
		size_t n = kvs->kvs[0].value_len;
		if (n >= sizeof(l->holder))
			n = sizeof(l->holder) - 1;
		memcpy(l->holder, kvs->kvs[0].value, n);
		l->holder[n] = '\0';
	}
}

/* Main thread, not leading (the keepalive thread is idle then): the
 * fields it shares are written under l->mu all the same. */
static int campaign(struct bl_leader *l)
{
	struct bl_cmp cmp = { .key = l->key, .target = BL_CMP_CREATE,
			      .result = BL_CMP_EQ, .rev = 0 };
	struct bl_op put = { .type = BL_OP_PUT, .key = l->key, .value = l->id,
			     .value_len = strlen(l->id) };
	struct bl_op get = { .type = BL_OP_GET, .key = l->key };
	struct bl_kvs gets = { 0 };
	int64_t lease = l->lease;
	bool ok = false;
	int rc;

	if (!lease) {
		rc = bl_etcd_lease_grant(l->etcd, l->ttl_s, &lease);
		if (rc < 0)
			return rc;
		pthread_mutex_lock(&l->mu);
		l->lease = lease;
		pthread_mutex_unlock(&l->mu);
	}
	put.lease = lease;
	rc = bl_etcd_txn(l->etcd, &cmp, 1, &put, 1, &get, 1, &ok, &gets, NULL);
	if (rc < 0) {
		bl_kvs_free(&gets);
		return rc;
	}
	if (ok) {
		snprintf(l->holder, sizeof(l->holder), "%s", l->id);
	} else {
		set_holder(l, &gets);
		/* Our own key from an earlier lease of ours cannot exist: a key
		 * bound to our live lease would be ours. Someone else leads. */
	}
	pthread_mutex_lock(&l->mu);
	l->leader = ok;
	pthread_mutex_unlock(&l->mu);
	bl_kvs_free(&gets);
	return 0;
}

int bl_leader_tick(struct bl_leader *l, uint64_t now_ms)
{
	int64_t ttl = 0, lease;
	bool leader;
	int rc;

	pthread_mutex_lock(&l->mu);
	leader = l->leader;
	lease = l->lease;
	pthread_mutex_unlock(&l->mu);
	if (now_ms < l->next_ms)
		return leader;
	if (leader) {
		/* With the thread, it refreshes the lease; here only the key
		 * is checked. */
		rc = l->ka_running ? 0
		     : bl_etcd_lease_keepalive(l->etcd, lease, &ttl);
		pthread_mutex_lock(&l->mu);
		if (!l->ka_running) {
			if (lost(l, rc, ttl, now_ms)) {
				l->leader = false;
				l->lease = 0;   /* expired or unknown: new one */
			} else if (rc == 0) {
				confirm(l, now_ms, ttl);
			}
		}
		leader = l->leader;
		pthread_mutex_unlock(&l->mu);
		if (!leader) {
			l->next_ms = now_ms + 100;
			return rc < 0 ? rc : 0;
		}
		if (rc < 0) {
			/* No answer: still leading within the time bound;
			 * try again soon. */
			l->next_ms = now_ms + 500;
			return 1;
		}
		/* The key must still be ours (an operator may delete it to
		 * force an election). */
		struct bl_kvs kvs = { 0 };
		rc = bl_etcd_get(l->etcd, l->key, false, 1, 0, false, &kvs);
		if (rc < 0 && bl_leader_valid(l, now_ms)) {
			/* No answer: as for a keepalive, the time bound
			 * decides; ask again soon. */
			l->next_ms = now_ms + 500;
			return 1;
		}
		if (rc < 0 || kvs.n != 1 || kvs.kvs[0].lease != lease) {
			set_holder(l, rc < 0 ? NULL : &kvs);
			bl_kvs_free(&kvs);
			pthread_mutex_lock(&l->mu);
			l->leader = false;
			pthread_mutex_unlock(&l->mu);
			l->next_ms = now_ms;
			return rc < 0 ? rc : 0;
		}
		bl_kvs_free(&kvs);
		l->next_ms = now_ms + (uint64_t)l->ttl_s * 1000 / 3;
		return 1;
	}
	/* Follower: keep our lease alive while we wait, then campaign. */
	if (lease) {
		rc = bl_etcd_lease_keepalive(l->etcd, lease, &ttl);
		if (rc < 0 || ttl <= 0) {
			pthread_mutex_lock(&l->mu);
			l->lease = 0;
			pthread_mutex_unlock(&l->mu);
		}
	}
	rc = campaign(l);
	pthread_mutex_lock(&l->mu);
	if (l->leader)
		confirm(l, now_ms, l->ttl_s);   /* lease granted or kept alive */
	leader = l->leader;
	pthread_mutex_unlock(&l->mu);
	l->next_ms = now_ms + (leader ? (uint64_t)l->ttl_s * 1000 / 3 : 500);
	if (rc < 0)
		return rc;
	return leader;
}

bool bl_leader_is_leader(const struct bl_leader *l)
{
	struct bl_leader *m = (struct bl_leader *)l;   /* the mutex only */
	bool v;

	pthread_mutex_lock(&m->mu);
	v = l->leader;
	pthread_mutex_unlock(&m->mu);
	return v;
}

bool bl_leader_valid(const struct bl_leader *l, uint64_t now_ms)
{
	struct bl_leader *m = (struct bl_leader *)l;   /* the mutex only */
	bool v;

	pthread_mutex_lock(&m->mu);
	v = l->leader && now_ms < l->valid_until_ms;
	pthread_mutex_unlock(&m->mu);
	return v;
}

const char *bl_leader_holder(const struct bl_leader *l)
{
	return l->holder;
}
