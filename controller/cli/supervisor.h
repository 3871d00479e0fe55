/*
 * supervisor.h - the child processes `bollard up` runs (etcd today;
 * bollard-target and bollardd later), started in order and stopped in
 * reverse order.
 *
 * Children are started with posix_spawn (safe after grpc_init, unlike
 * fork), in their own process group so a terminal's Ctrl-C reaches only
 * `bollard up`, which then stops them in order. Their signal mask and
 * dispositions are reset, so blocking signals in the parent (to sigwait on
 * them) does not leak into the children.
 */
#ifndef BOLLARD_SUPERVISOR_H
#define BOLLARD_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sup_child {
	char *name;                 /* "etcd"                                 */
	pid_t pid;                  /* 0 once reaped                          */
	int status;                 /* waitpid status once reaped             */
	bool exited;
};

struct sup {
	struct sup_child *v;
	size_t n;
};

/*
 * Start argv[0] (searched in PATH) with stdin from /dev/null and stdout and
 * stderr appended to logpath (NULL: inherited). When /usr/bin/setpriv
 * (util-linux) exists the child is started through it with
 * --pdeathsig TERM, so it is stopped even if this process is SIGKILLed.
 * Returns 0 or -errno (-ENOENT: program not found, only detected here when
 * setpriv is absent; otherwise the child exits 127 at once).
 */
int sup_spawn(struct sup *s, const char *name, char *const argv[],
	      const char *logpath);

/*
 * Reap children that have exited, without blocking. Returns the first child
 * found to have exited in this call (its exited/status set), or NULL.
 */
struct sup_child *sup_reap(struct sup *s);

/* Whether every child is still running. */
bool sup_all_running(const struct sup *s);

/*
 * Stop every running child, last started first: SIGTERM, then SIGKILL after
 * grace_ms. Returns when all are reaped.
 */
void sup_stop_all(struct sup *s, int grace_ms);

void sup_free(struct sup *s);

/* Text for a waitpid status: "exited with status 1", "killed by signal 9". */
void sup_status_text(int status, char *buf, size_t len);

#endif
