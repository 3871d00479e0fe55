/*
 * prio.c - the userspace host's priority lane: backing I/O the engine marks
 * BT_IO_PRIO (COMPARE AND WRITE's read and write, persistent-reservation
 * state) runs here instead of on the io_uring.
 *
 * Why a thread and not a second ring: io_uring executes buffered writes to a
 * regular file in its io-wq workers, hashed by inode, i.e. one after the
 * other. Under a stream of large write-through writes a CAW's one-block
 * write queued on the ring waited for every bulk write queued before it on
 * the same file: half a second at p50 with 4 sessions x 16 x 1 MiB (see
 * bench/caw_load.sh). A second ring would not help: io-wq belongs to the
 * submitting thread and is shared by its rings. A thread of our own doing
 * plain pread/pwritev2(RWF_DSYNC) bypasses io-wq altogether; it runs at the
 * real-time I/O priority class (when allowed), so an I/O scheduler on the
 * backing device (mq-deadline, bfq) also serves it ahead of the bulk I/O.
 *
 * Threads: PRIO_THREADS workers take jobs from one FIFO (a mutex and a
 * condition variable). A finished job goes on a done list and the workers
 * poke an eventfd that the loop watches; the loop thread pops the done list
 * and completes the I/O there, so the engine is still only ever called from
 * the loop thread (bt_os.h). The workers touch only the job's buffer and
 * the backing file descriptor, which the engine leaves alone while the I/O
 * is in flight.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bt_loop.h"
#include "host.h"

#define PRIO_THREADS 2

/* linux/ioprio.h is not always installed; the ABI values are stable. */
#define PRIO_IOPRIO_CLASS_RT    1
#define PRIO_IOPRIO_CLASS_SHIFT 13
#define PRIO_IOPRIO_WHO_PROCESS 1

struct prio_job {
	struct bt_bdev *b;
	struct bt_io *io;
	int result;
	struct prio_job *next;
};

struct host_prio {
	struct host *h;
	void (*complete)(struct host *h, struct bt_io *io, int result);
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct prio_job *todo_head, *todo_tail;
	struct prio_job *done_head, *done_tail;
	bool stop;
	int efd;
	pthread_t th[PRIO_THREADS];
	unsigned nthreads;
	unsigned pending;             /* submitted, not yet completed       */
};

static void push(struct prio_job **head, struct prio_job **tail,
		 struct prio_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct prio_job *pop(struct prio_job **head, struct prio_job **tail)
{
	struct prio_job *j = *head;

	if (j) {
		*head = j->next;
		if (!*head)
			*tail = NULL;
	}
	return j;
}

static void *prio_worker(void *arg)
{
	struct host_prio *p = arg;
	struct prio_job *j;
	uint64_t one = 1;

	/* best effort: real-time I/O class, level 0 */
	syscall(SYS_ioprio_set, PRIO_IOPRIO_WHO_PROCESS, 0,
		PRIO_IOPRIO_CLASS_RT << PRIO_IOPRIO_CLASS_SHIFT);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && !p->todo_head)
			pthread_cond_wait(&p->cv, &p->mu);
		j = pop(&p->todo_head, &p->todo_tail);
		if (!j)
			break;                /* stopping and nothing left        */
		pthread_mutex_unlock(&p->mu);
		j->result = host_bdev_exec(j->b, j->io);
		pthread_mutex_lock(&p->mu);
		push(&p->done_head, &p->done_tail, j);
		if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			bt_warn("prio eventfd: %s\n", strerror(errno));
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Complete every finished job (loop thread). */
static void prio_reap(struct host_prio *p)
{
	struct prio_job *j, *list;

	pthread_mutex_lock(&p->mu);
	list = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	while ((j = list) != NULL) {
		list = j->next;
		p->pending--;
		p->complete(p->h, j->io, j->result);
		free(j);
	}
}

static void prio_event(void *arg, int fd, unsigned events)
{
	struct host_prio *p = arg;
	uint64_t v;

	if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		bt_warn("prio eventfd read: %s\n", strerror(errno));
	prio_reap(p);
}

int host_prio_submit(struct host_prio *p, struct bt_bdev *b, struct bt_io *io)
{
	struct prio_job *j;

	if (!p || !p->nthreads)
		return -ENOSYS;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->b = b;
	j->io = io;
	pthread_mutex_lock(&p->mu);
	push(&p->todo_head, &p->todo_tail, j);
	p->pending++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void host_prio_poll(struct host_prio *p)
{
	if (p)
		prio_reap(p);
}

struct host_prio *host_prio_new(struct host *h,
				void (*complete)(struct host *h, struct bt_io *io,
						 int result))
{
	struct host_prio *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	unsigned i;

	if (!p)
		return NULL;
	p->h = h;
	p->complete = complete;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0)
		goto out_free_p;
	if (bt_loop_add(h->loop, p->efd, BT_LOOP_IN, prio_event, p) < 0)
		goto out_close_efd;
	/* Workers take no signals: the loop reads them from a signalfd,
	 * which only works while every thread blocks them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < PRIO_THREADS; i++) {
		if (pthread_create(&p->th[i], NULL, prio_worker, p) != 0)
			break;
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->nthreads)
		goto out_loop_del;
	return p;

out_loop_del:
	bt_loop_del(h->loop, p->efd);
out_close_efd:
	close(p->efd);
out_free_p:
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return NULL;
}

/*
 * Stop the workers after they finished every queued job. Called after the
 * engine is freed (the host drains I/O first, so normally nothing is left):
 * finished jobs are dropped, not completed.
 */
void host_prio_free(struct host_prio *p)
{
	unsigned i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->th[i], NULL);
	/* the engine may be gone: drop, never complete, what is left */
	if (p->pending)
		bt_err("%u priority I/Os still pending at exit\n", p->pending);
	while (p->done_head)
		free(pop(&p->done_head, &p->done_tail));
	bt_loop_del(p->h->loop, p->efd);
	close(p->efd);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
