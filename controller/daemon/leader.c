/* leader.c - see leader.h. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "bl_etcd.h"
#include "leader.h"

struct bl_leader {
	struct bl_etcd *etcd;
	char *key;
	char *id;
	int64_t ttl_s;
	int64_t lease;            /* 0: none                                 */
	bool leader;
	uint64_t next_ms;         /* next keepalive / campaign               */
	uint64_t valid_until_ms;  /* lease expiry as last confirmed, minus a
	                           * margin: no leader work after it          */
	char holder[256];
};

struct bl_leader *bl_leader_new(struct bl_etcd *e, const char *key,
				const char *id, int64_t ttl_s)
{
	struct bl_leader *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
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
	drop_lease(l);
	free(l->key);
	free(l->id);
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

static int campaign(struct bl_leader *l)
{
	struct bl_cmp cmp = { .key = l->key, .target = BL_CMP_CREATE,
			      .result = BL_CMP_EQ, .rev = 0 };
	struct bl_op put = { .type = BL_OP_PUT, .key = l->key, .value = l->id,
			     .value_len = strlen(l->id) };
	struct bl_op get = { .type = BL_OP_GET, .key = l->key };
	struct bl_kvs gets = { 0 };
	bool ok = false;
	int rc;

	if (!l->lease) {
		rc = bl_etcd_lease_grant(l->etcd, l->ttl_s, &l->lease);
		if (rc < 0) {
			l->lease = 0;
			return rc;
		}
	}
	put.lease = l->lease;
	rc = bl_etcd_txn(l->etcd, &cmp, 1, &put, 1, &get, 1, &ok, &gets, NULL);
	if (rc < 0) {
		bl_kvs_free(&gets);
		return rc;
	}
	if (ok) {
		l->leader = true;
		snprintf(l->holder, sizeof(l->holder), "%s", l->id);
	} else {
		set_holder(l, &gets);
		/* Our own key from an earlier lease of ours cannot exist: a key
		 * bound to our live lease would be ours. Someone else leads. */
		l->leader = false;
	}
	bl_kvs_free(&gets);
	return 0;
}

/* The lease was confirmed with ttl seconds left by a request sent at sent. */
static void confirm(struct bl_leader *l, uint64_t sent, int64_t ttl)
{
	uint64_t ms = (uint64_t)ttl * 1000, margin = ms / 5 > 1000 ? 1000 : ms / 5;
	l->valid_until_ms = sent + ms - margin;
}

int bl_leader_tick(struct bl_leader *l, uint64_t now_ms)
{
	int64_t ttl = 0;
	int rc;

	if (now_ms < l->next_ms)
		return l->leader;
	if (l->leader) {
		rc = bl_etcd_lease_keepalive(l->etcd, l->lease, &ttl);
		if (rc < 0 || ttl <= 0) {
			/* Lost: stop leading now, even if etcd is just slow. */
			l->leader = false;
			l->lease = 0;   /* expired or unknown: grant a new one */
			l->next_ms = now_ms + 100;
			return rc < 0 ? rc : 0;
		}
		confirm(l, now_ms, ttl);
		/* The key must still be ours (an operator may delete it to
		 * force an election). */
		struct bl_kvs kvs = { 0 };
		rc = bl_etcd_get(l->etcd, l->key, false, 1, 0, false, &kvs);
		if (rc < 0 || kvs.n != 1 || kvs.kvs[0].lease != l->lease) {
			set_holder(l, rc < 0 ? NULL : &kvs);
			bl_kvs_free(&kvs);
			l->leader = false;
			l->next_ms = now_ms;
			return rc < 0 ? rc : 0;
		}
		bl_kvs_free(&kvs);
		l->next_ms = now_ms + (uint64_t)l->ttl_s * 1000 / 3;
		return 1;
	}
	/* Follower: keep our lease alive while we wait, then campaign. */
	if (l->lease) {
		rc = bl_etcd_lease_keepalive(l->etcd, l->lease, &ttl);
		if (rc < 0 || ttl <= 0)
			l->lease = 0;
	}
	rc = campaign(l);
	if (l->leader)
		confirm(l, now_ms, l->ttl_s);   /* lease granted or kept alive */
	l->next_ms = now_ms + (l->leader ? (uint64_t)l->ttl_s * 1000 / 3 : 500);
	if (rc < 0)
		return rc;
	return l->leader;
}

bool bl_leader_is_leader(const struct bl_leader *l)
{
	return l->leader;
}

bool bl_leader_valid(const struct bl_leader *l, uint64_t now_ms)
{
	return l->leader && now_ms < l->valid_until_ms;
}

const char *bl_leader_holder(const struct bl_leader *l)
{
	return l->holder;
}
