/*
 * workqueue.c - see workqueue.h for the contract.
 *
 * Items live in a chained hash table keyed by string. Queued items are also
 * in a binary min-heap ordered by (ready_at, seq); seq keeps FIFO order among
 * items ready at the same time, so a burst of watch events is processed in
 * arrival order. An item that is neither queued nor processing and has no
 * failure history is freed, so memory is bounded by the live working set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "workqueue.h"

enum item_state { IDLE, QUEUED, PROCESSING };

struct item {
	struct item *hnext;
	char *key;
	enum item_state state;
	int dirty;                /* added while processing                 */
	uint64_t dirty_at;        /* ready time requested while processing  */
	uint64_t ready_at;
	uint64_t seq;
	unsigned failures;
	size_t heap_idx;
};

struct bl_wq {
	struct bl_wq_opts opts;
	struct item **buckets;
	size_t nbuckets;
	size_t nitems;
	struct item **heap;
	size_t heap_len, heap_cap;
	uint64_t seq;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int before(const struct item *a, const struct item *b)
{
	if (a->ready_at != b->ready_at)
		return a->ready_at < b->ready_at;
	return a->seq < b->seq;
}

static void heap_swap(struct bl_wq *q, size_t i, size_t j)
{
	struct item *t = q->heap[i];
	q->heap[i] = q->heap[j];
	q->heap[j] = t;
	q->heap[i]->heap_idx = i;
	q->heap[j]->heap_idx = j;
}

static void heap_up(struct bl_wq *q, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(q->heap[i], q->heap[p]))
			break;
		heap_swap(q, i, p);
		i = p;
	}
}

static void heap_down(struct bl_wq *q, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < q->heap_len && before(q->heap[l], q->heap[m]))
			m = l;
		if (r < q->heap_len && before(q->heap[r], q->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(q, i, m);
		i = m;
	}
}

static int heap_push(struct bl_wq *q, struct item *it)
{
	if (q->heap_len == q->heap_cap) {
		size_t cap = q->heap_cap ? q->heap_cap * 2 : 64;
		struct item **h = realloc(q->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		q->heap = h;
		q->heap_cap = cap;
	}
	it->heap_idx = q->heap_len;
	q->heap[q->heap_len++] = it;
	heap_up(q, it->heap_idx);
	return 0;
}

static struct item *heap_pop(struct bl_wq *q)
{
	struct item *top = q->heap[0];
	q->heap_len--;
	if (q->heap_len) {
		q->heap[0] = q->heap[q->heap_len];
		q->heap[0]->heap_idx = 0;
		heap_down(q, 0);
	}
	return top;
}

static struct item **slot_of(const struct bl_wq *q, const char *key)
{
	struct item **pp = &q->buckets[hash_str(key) & (q->nbuckets - 1)];
	while (*pp && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static int grow(struct bl_wq *q)
{
	size_t n = q->nbuckets * 2, i;
	struct item **b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < q->nbuckets; i++) {
		struct item *it = q->buckets[i], *next;
		for (; it; it = next) {
			next = it->hnext;
			size_t h = hash_str(it->key) & (n - 1);
			it->hnext = b[h];
			b[h] = it;
		}
	}
	free(q->buckets);
	q->buckets = b;
	q->nbuckets = n;
	return 0;
}

static void forget(struct bl_wq *q, struct item *it)
{
	struct item **pp = slot_of(q, it->key);
	*pp = it->hnext;
	q->nitems--;
	free(it->key);
	free(it);
}

struct bl_wq *bl_wq_new(const struct bl_wq_opts *opts)
{
	struct bl_wq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	if (opts)
		q->opts = *opts;
	if (!q->opts.base_delay_ms)
		q->opts.base_delay_ms = 100;
	if (!q->opts.max_delay_ms)
		q->opts.max_delay_ms = 30000;
	q->nbuckets = 256;
	q->buckets = calloc(q->nbuckets, sizeof(*q->buckets));
	if (!q->buckets) {
		free(q);
		return NULL;
	}
	return q;
}

void bl_wq_free(struct bl_wq *q)
{
	size_t i;
	if (!q)
		return;
	for (i = 0; i < q->nbuckets; i++) {
		struct item *it = q->buckets[i], *next;
		for (; it; it = next) {
			next = it->hnext;
			free(it->key);
			free(it);
		}
	}
	free(q->buckets);
	free(q->heap);
	free(q);
}

static int enqueue(struct bl_wq *q, struct item *it, uint64_t at)
{
	if (it->state == QUEUED) {
		if (at < it->ready_at) {   /* earlier ready time wins */
			it->ready_at = at;
			heap_up(q, it->heap_idx);
		}
		return 0;
	}
	it->state = QUEUED;
	it->ready_at = at;
	it->seq = q->seq++;
	return heap_push(q, it);
}

int bl_wq_add(struct bl_wq *q, const char *key, uint64_t now_ms, uint64_t delay_ms)
{
	struct item **pp = slot_of(q, key), *it = *pp;
	uint64_t at = now_ms + delay_ms;

	if (!it) {
		if (q->nitems >= q->nbuckets && grow(q) == 0)
			pp = slot_of(q, key);
		it = calloc(1, sizeof(*it));
		if (!it)
			return -ENOMEM;
		it->key = strdup(key);
		if (!it->key) {
			free(it);
			return -ENOMEM;
		}
		*pp = it;
		q->nitems++;
	}
	if (it->state == PROCESSING) {
		if (!it->dirty || at < it->dirty_at)
			it->dirty_at = at;
		it->dirty = 1;
		return 0;
	}
	return enqueue(q, it, at);
}

const char *bl_wq_get(struct bl_wq *q, uint64_t now_ms, uint64_t *wait_ms)
{
	struct item *it;

	if (!q->heap_len) {
		if (wait_ms)
			*wait_ms = UINT64_MAX;
		return NULL;
	}
	if (q->heap[0]->ready_at > now_ms) {
		if (wait_ms)
			*wait_ms = q->heap[0]->ready_at - now_ms;
		return NULL;
	}
	it = heap_pop(q);
	it->state = PROCESSING;
	it->dirty = 0;
	if (wait_ms)
		*wait_ms = 0;
	return it->key;
}

static uint64_t backoff(const struct bl_wq *q, unsigned failures)
{
	uint64_t d = q->opts.base_delay_ms;
	unsigned i;
	for (i = 1; i < failures && d < q->opts.max_delay_ms; i++)
		d *= 2;
	return d < q->opts.max_delay_ms ? d : q->opts.max_delay_ms;
}

void bl_wq_done(struct bl_wq *q, const char *key, enum bl_wq_result r, uint64_t now_ms)
{
	struct item *it = *slot_of(q, key);

	if (!it || it->state != PROCESSING)
		return;
	it->state = IDLE;
	switch (r) {
	case BL_WQ_OK:
		it->failures = 0;
		break;
	case BL_WQ_RETRY:
		it->failures++;
		/* A retry and a new event: whichever is sooner. */
		uint64_t at = now_ms + backoff(q, it->failures);
		if (it->dirty && it->dirty_at < at)
			at = it->dirty_at;
		it->dirty = 0;
		enqueue(q, it, at);
		return;
	case BL_WQ_TERMINAL:
		it->failures++;
		break;
	}
	if (it->dirty) {
		it->dirty = 0;
		enqueue(q, it, it->dirty_at);
		return;
	}
	if (it->failures == 0)
		forget(q, it);
}

unsigned bl_wq_failures(const struct bl_wq *q, const char *key)
{
	const struct item *it = *slot_of(q, key);
	return it ? it->failures : 0;
}

size_t bl_wq_len(const struct bl_wq *q)
{
	return q->heap_len;
}
