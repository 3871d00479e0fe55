/*
 * workqueue.h - the controller's rate-limited work queue.
 *
 * The etcd watch only enqueues keys; everything else is driven from here
 * (the Kubernetes controller pattern). Guarantees:
 *   - a key is queued at most once: adding a key that is already waiting is a
 *     no-op, except that an earlier ready time wins;
 *   - a key is never handed out twice at once: adding a key while it is being
 *     processed marks it dirty, and it is queued again when done() is called;
 *   - a failed key comes back after base * 2^(failures-1), capped at max;
 *     success forgets its failure count; a terminal failure is not retried
 *     (until the key is added again by a new event or a resync).
 * Time is passed in by the caller (milliseconds, any monotonic origin), so
 * the queue is deterministic and unit-testable without sleeping. It is not
 * thread-safe: the controller drives it from its main loop.
 */
#ifndef BL_WORKQUEUE_H
#define BL_WORKQUEUE_H

#include <stddef.h>
#include <stdint.h>

struct bl_wq;

struct bl_wq_opts {
	uint64_t base_delay_ms;   /* first retry delay; 0: 100 ms            */
	uint64_t max_delay_ms;    /* cap; 0: 30 s                            */
};

/* Result passed to bl_wq_done(). */
enum bl_wq_result {
	BL_WQ_OK = 0,             /* forget failures                          */
	BL_WQ_RETRY,              /* transient: back off and retry            */
	BL_WQ_TERMINAL,           /* do not retry until added again           */
};

struct bl_wq *bl_wq_new(const struct bl_wq_opts *opts);
void bl_wq_free(struct bl_wq *q);

/* Queue key, ready at now_ms + delay_ms. Returns 0 or -ENOMEM. */
int bl_wq_add(struct bl_wq *q, const char *key, uint64_t now_ms, uint64_t delay_ms);

/*
 * Hand out the next key ready at now_ms, or NULL. The string stays valid
 * until bl_wq_done() for it. When NULL is returned, *wait_ms (if not NULL)
 * gets the time until the next key becomes ready, or UINT64_MAX if none.
 */
const char *bl_wq_get(struct bl_wq *q, uint64_t now_ms, uint64_t *wait_ms);

/* Finish processing key (as returned by bl_wq_get). */
void bl_wq_done(struct bl_wq *q, const char *key, enum bl_wq_result r, uint64_t now_ms);

/* Failures recorded for key since its last success. */
unsigned bl_wq_failures(const struct bl_wq *q, const char *key);
/* Keys waiting (ready or delayed), not counting those being processed. */
size_t bl_wq_len(const struct bl_wq *q);

#endif
