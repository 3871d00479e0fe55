/*
 * supervisor.c - start, watch and stop `bollard up`'s child processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor.h"

extern char **environ;

#define SUP_SETPRIV "/usr/bin/setpriv"

int sup_spawn(struct sup *s, const char *name, char *const argv[],
	      const char *logpath)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	struct sup_child *v;
	pid_t pid;
	int rc;

	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	rc = posix_spawn_file_actions_init(&fa);
	if (rc)
		return -rc;
	rc = posix_spawnattr_init(&at);
	if (rc)
		goto out_destroy_fa;
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc && logpath) {
		rc = posix_spawn_file_actions_addopen(&fa, 1, logpath,
			O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (!rc)
			rc = posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (!rc)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (!rc)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETPGROUP);
	if (!rc) {
		/*
		 * Children must not outlive a `bollard up` killed with
		 * SIGKILL (no chance to stop them). posix_spawn cannot set
		 * PR_SET_PDEATHSIG in the child, but util-linux's setpriv can,
		 * and the setting survives its exec of the real program.
		 */
		size_t n = 0;
		char **av;

		while (argv[n])
			n++;
		av = calloc(n + 5, sizeof(*av));
		if (!av) {
			rc = ENOMEM;
		} else if (access(SUP_SETPRIV, X_OK) == 0) {
			av[0] = (char *)SUP_SETPRIV;
			av[1] = (char *)"--pdeathsig";
			av[2] = (char *)"TERM";
			av[3] = (char *)"--";
			memcpy(av + 4, argv, (n + 1) * sizeof(*av));
			rc = posix_spawn(&pid, av[0], &fa, &at, av, environ);
		} else {
			rc = posix_spawnp(&pid, argv[0], &fa, &at, argv,
					  environ);
		}
		free(av);
	}
	posix_spawnattr_destroy(&at);
out_destroy_fa:
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -rc;
	s->v[s->n] = (struct sup_child){ .name = strdup(name), .pid = pid };
	s->n++;
	return 0;
}

struct sup_child *sup_reap(struct sup *s)
{
	struct sup_child *first = NULL;

	for (size_t i = 0; i < s->n; i++) {
		struct sup_child *c = &s->v[i];
		int st;

		if (c->exited)
			continue;
		if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
			c->exited = true;
			c->status = st;
			if (!first)
				first = c;
		}
	}
	return first;
}

bool sup_all_running(const struct sup *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].exited)
			return false;
	return true;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void sup_stop_all(struct sup *s, int grace_ms)
{
	for (size_t i = s->n; i-- > 0;) {
		struct sup_child *c = &s->v[i];
		int waited = 0, st = 0;

		if (c->exited)
			continue;
		kill(c->pid, SIGTERM);
		for (;;) {
			pid_t r = waitpid(c->pid, &st, WNOHANG);

			if (r == c->pid || (r < 0 && errno == ECHILD))
				break;
			if (waited >= grace_ms) {
				kill(c->pid, SIGKILL);
				if (waitpid(c->pid, &st, 0) < 0)
					st = 0;
				break;
			}
			sleep_ms(20);
			waited += 20;
		}
		c->exited = true;
		c->status = st;
	}
}

void sup_free(struct sup *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void sup_status_text(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "stopped (status 0x%x)", status);
}
