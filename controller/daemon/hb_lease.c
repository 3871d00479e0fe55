/*
 * hb_lease.c - the node's heartbeat lease, kept by a thread of its own.
 * See hb_lease.h.
 *
 * The thread owns its etcd connection and nothing else of the
 * controller's. It shares one thing with the main thread: the current
 * lease id, under mu.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_time.h"
#include "daemon/hb_lease.h"

struct bl_hb_lease {
	pthread_mutex_t mu;
	pthread_cond_t cond;        /* signalled to stop; CLOCK_MONOTONIC     */
	pthread_t thread;
	struct bl_etcd *etcd;       /* the thread's own connection            */
	int64_t ttl_s;
	int64_t lease;              /* (mu) current lease, 0: none            */
	uint64_t changes;           /* (mu) leases granted so far             */
	bool stop;                  /* (mu)                                   */
};

/*
 * One step: renew the lease we have, or get one. A keepalive etcd answers
 * with TTL 0 means the lease is gone (and the keys bound to it with it);
 * a keepalive with no answer (timeout, connection error) keeps the lease
 * until a whole TTL has passed since the last confirmed one, after which
 * etcd has surely expired it. Returns true when the step succeeded.
 */
static bool step(struct bl_hb_lease *k, uint64_t *last_ok)
{
	int64_t id, ttl = 0, got = 0;
	uint64_t sent = bl_now_ms();
	int rc;

	pthread_mutex_lock(&k->mu);
	id = k->lease;
	pthread_mutex_unlock(&k->mu);
	if (id) {
		rc = bl_etcd_lease_keepalive(k->etcd, id, &ttl);
		if (rc == 0 && ttl > 0) {
			*last_ok = sent;
			return true;
		}
		if (rc < 0 && bl_now_ms() - *last_ok < (uint64_t)k->ttl_s * 1000)
			return false;   /* no answer yet: try again soon */
		id = 0;                 /* expired */
	}
	rc = bl_etcd_lease_grant(k->etcd, k->ttl_s, &got);
	pthread_mutex_lock(&k->mu);
	k->lease = rc == 0 ? got : 0;
	if (rc == 0)
		k->changes++;
	pthread_mutex_unlock(&k->mu);
	if (rc == 0)
		*last_ok = sent;
	return rc == 0;
}

static void *hb_main(void *arg)
{
	struct bl_hb_lease *k = arg;
	uint64_t period = (uint64_t)k->ttl_s * 1000 / 3, last_ok = 0;

	for (;;) {
		bool ok = step(k, &last_ok);
		uint64_t until = bl_now_ms() + (ok ? period : 500);
		struct timespec ts = { .tv_sec = (time_t)(until / 1000),
				       .tv_nsec = (long)(until % 1000) * 1000000 };

		pthread_mutex_lock(&k->mu);
		while (!k->stop && bl_now_ms() < until)
			pthread_cond_timedwait(&k->cond, &k->mu, &ts);
		if (k->stop) {
			pthread_mutex_unlock(&k->mu);
			return NULL;
		}
		pthread_mutex_unlock(&k->mu);
	}
}

int bl_hb_lease_start(const struct bl_etcd_opts *o, int64_t ttl_s,
		      struct bl_hb_lease **out)
{
	struct bl_hb_lease *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	int rc;

	if (!k)
		return -ENOMEM;
	k->ttl_s = ttl_s > 0 ? ttl_s : 15;
	rc = bl_etcd_open(o, &k->etcd);
	if (rc < 0)
		goto undo_alloc;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = -pthread_create(&k->thread, NULL, hb_main, k);
	if (rc)
		goto undo_etcd;
	*out = k;
	return 0;

undo_etcd:
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->mu);
	bl_etcd_close(k->etcd);
undo_alloc:
	free(k);
	return rc;
}

int64_t bl_hb_lease_get(struct bl_hb_lease *k, uint64_t *changes)
{
	int64_t id;

	pthread_mutex_lock(&k->mu);
	id = k->lease;
	if (changes)
		*changes = k->changes;
	pthread_mutex_unlock(&k->mu);
	return id;
}

void bl_hb_lease_stop(struct bl_hb_lease *k, bool revoke)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	if (revoke && k->lease)
		bl_etcd_lease_revoke(k->etcd, k->lease);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->mu);
	bl_etcd_close(k->etcd);
	free(k);
}
