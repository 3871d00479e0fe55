/*
 * spawn.c - bl_spawn_run(): a bl_run_fn that starts commands with
 * posix_spawnp instead of fork. bollardd runs the gRPC core, which must not
 * be fork()ed (its threads and locks are not fork-safe); posix_spawn uses
 * clone(CLONE_VM|CLONE_VFORK) and runs no atfork handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/spawn.h"

extern char **environ;

struct gbuf {
	char *p;
	size_t n, cap;
};

static int gbuf_read(struct gbuf *b, int fd)
{
	char tmp[8192];
	ssize_t r = read(fd, tmp, sizeof(tmp));

	if (r <= 0)
		return r < 0 && errno == EINTR ? 1 : (int)r;
	if (b->n + (size_t)r + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 16384) + (size_t)r;
		char *np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, tmp, (size_t)r);
	b->n += (size_t)r;
	b->p[b->n] = '\0';
	return 1;
}

static char *gbuf_take(struct gbuf *b, size_t *len)
{
	if (!b->p)
		b->p = calloc(1, 1);
	*len = b->n;
	return b->p;
}

int bl_spawn_run(void *arg, const char *const *argv, const char *in,
		 size_t in_len, struct bl_run_out *o)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	struct gbuf bo = { 0 }, be = { 0 };
	size_t off = 0;
	int rc = 0, status = 0, open_fds;
	pid_t pid;

	(void)arg;
	if (!argv || !argv[0])
		return -EINVAL;
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
		rc = -errno;
		goto out_close;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		rc = -rc;
		goto out_close;
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	if (!in || !in_len) {
		close(pin[1]);
		pin[1] = -1;
	} else {
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	}
	open_fds = 2;
	while (open_fds > 0 || pin[1] >= 0) {
		struct pollfd p[3] = {
			{ .fd = pout[0], .events = POLLIN },
			{ .fd = perr[0], .events = POLLIN },
			{ .fd = pin[1], .events = POLLOUT },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (p[2].revents) {
			ssize_t w = write(pin[1], in + off, in_len - off);
			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == in_len) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		for (int i = 0; i < 2; i++) {
			struct gbuf *b = i ? &be : &bo;
			int *fd = i ? &perr[0] : &pout[0];
			if (*fd >= 0 && p[i].revents) {
				int r = gbuf_read(b, *fd);
				if (r <= 0) {
					close(*fd);
					*fd = -1;
					open_fds--;
					if (r < 0)
						rc = r;
				}
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0) {
		o->out = gbuf_take(&bo, &o->out_len);
		o->err = gbuf_take(&be, &o->err_len);
		o->status = WIFEXITED(status) ? WEXITSTATUS(status)
					      : 128 + WTERMSIG(status);
		bo.p = be.p = NULL;
	}
out_close:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0) close(pin[i]);
		if (pout[i] >= 0) close(pout[i]);
		if (perr[i] >= 0) close(perr[i]);
	}
	free(bo.p);
	free(be.p);
	return rc;
}
