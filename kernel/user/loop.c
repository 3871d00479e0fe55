/*
 * loop.c - epoll event loop (bt_loop.h).
 *
 * Registrations live in a table indexed by fd. The epoll user data carries
 * the fd and a generation number, so an event fetched for an fd that a
 * callback earlier in the same round deleted (and maybe re-added as a new
 * connection) is recognised as stale and dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "bt_loop.h"

struct loop_reg {
	bt_loop_fd_cb cb;
	void *arg;
	uint32_t gen;
	unsigned events;
	int active;
};

struct bt_loop {
	int epfd;
	struct loop_reg *regs;
	int nregs;
	uint32_t gen;
	int stop;
	unsigned timer_ms;
	void (*timer_cb)(void *);
	void *timer_arg;
	uint64_t next_timer;
	void (*after_cb)(void *);
	void *after_arg;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct bt_loop *bt_loop_new(void)
{
	struct bt_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void bt_loop_free(struct bt_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->regs);
	free(l);
}

static uint32_t ep_events(unsigned ev)
{
	uint32_t e = 0;

	if (ev & BT_LOOP_IN)
		e |= EPOLLIN | EPOLLRDHUP;
	if (ev & BT_LOOP_OUT)
		e |= EPOLLOUT;
	return e;
}

int bt_loop_add(struct bt_loop *l, int fd, unsigned events, bt_loop_fd_cb cb,
		void *arg)
{
	struct epoll_event ee;

	if (fd < 0)
		return -EBADF;
	if (fd >= l->nregs) {
		int n = l->nregs ? l->nregs : 64;
		struct loop_reg *nr;

		while (n <= fd)
			n *= 2;
		nr = realloc(l->regs, (size_t)n * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		memset(nr + l->nregs, 0, (size_t)(n - l->nregs) * sizeof(*nr));
		l->regs = nr;
		l->nregs = n;
	}
	l->regs[fd].cb = cb;
	l->regs[fd].arg = arg;
	l->regs[fd].gen = ++l->gen;
	l->regs[fd].events = events;
	l->regs[fd].active = 1;
	memset(&ee, 0, sizeof(ee));
	ee.events = ep_events(events);
	ee.data.u64 = (uint64_t)l->regs[fd].gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		l->regs[fd].active = 0;
		return -errno;
	}
	return 0;
}

int bt_loop_mod(struct bt_loop *l, int fd, unsigned events)
{
	struct epoll_event ee;

	if (fd < 0 || fd >= l->nregs || !l->regs[fd].active)
		return -ENOENT;
	if (l->regs[fd].events == events)
		return 0;
	l->regs[fd].events = events;
	memset(&ee, 0, sizeof(ee));
	ee.events = ep_events(events);
	ee.data.u64 = (uint64_t)l->regs[fd].gen << 32 | (uint32_t)fd;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) < 0 ? -errno : 0;
}

void bt_loop_del(struct bt_loop *l, int fd)
{
	if (fd < 0 || fd >= l->nregs || !l->regs[fd].active)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->regs[fd].active = 0;
	l->regs[fd].gen = 0;
}

void bt_loop_set_timer(struct bt_loop *l, unsigned ms, void (*cb)(void *arg),
		       void *arg)
{
	l->timer_ms = ms;
	l->timer_cb = cb;
	l->timer_arg = arg;
	l->next_timer = now_ms() + ms;
}

void bt_loop_set_after(struct bt_loop *l, void (*cb)(void *arg), void *arg)
{
	l->after_cb = cb;
	l->after_arg = arg;
}

void bt_loop_stop(struct bt_loop *l)
{
	l->stop = 1;
}

int bt_loop_run(struct bt_loop *l)
{
	struct epoll_event evs[128];

	l->stop = 0;
	while (!l->stop) {
		int timeout = -1, n, i;
		uint64_t now;

		if (l->timer_cb && l->timer_ms) {
			now = now_ms();
			timeout = l->next_timer > now ? (int)(l->next_timer - now) : 0;
		}
		n = epoll_wait(l->epfd, evs, 128, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			unsigned ev = 0;
			struct loop_reg *r;

			if (fd >= l->nregs)
				continue;
			r = &l->regs[fd];
			if (!r->active || r->gen != gen)
				continue;     /* deleted earlier in this round   */
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
				ev |= BT_LOOP_IN;
			if (evs[i].events & EPOLLOUT)
				ev |= BT_LOOP_OUT;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				ev |= BT_LOOP_ERR;
			r->cb(r->arg, fd, ev);
		}
		if (l->after_cb)
			l->after_cb(l->after_arg);
		if (l->timer_cb && l->timer_ms) {
			now = now_ms();
			if (now >= l->next_timer) {
				l->next_timer = now + l->timer_ms;
				l->timer_cb(l->timer_arg);
				if (l->after_cb)
					l->after_cb(l->after_arg);
			}
		}
	}
	return 0;
}
