/*
 * etcd_proc.h - run a throwaway, real etcd (Debian etcd-server) from C tests.
 *
 *   struct etcd_proc ep;
 *   if (etcd_proc_start(&ep, NULL) < 0) -> skip/fail ("etcd not installed?")
 *   ... connect to ep.url ("http://127.0.0.1:PORT") ...
 *   etcd_proc_kill(&ep); etcd_proc_restart(&ep);   same ports, same data
 *   etcd_proc_cleanup(&ep);                         stop and remove the dir
 *
 * The node listens on free ports of 127.0.0.1 only, keeps its data in a
 * fresh directory under /dev/shm (tmpfs: no fsync cost; /tmp if /dev/shm is
 * not writable), runs with --heartbeat-interval=10 --election-timeout=100
 * and is ready about 0.2 s after start. Its output goes to <dir>/etcd.log.
 *
 * Processes are started with posix_spawn (never fork(): these tests run
 * gRPC, which must not be forked after grpc_init()) and reaped with
 * waitpid. etcd gets SIGKILL when the thread that started it exits (through
 * setpriv --pdeathsig), so a crashed test leaves no etcd behind: start and
 * restart it from a thread that outlives it (the main thread). Each call
 * returns 0 or -errno. No global state: several etcds may run at once (one
 * struct each).
 *
 * Link: $(ETCD_PROC_OBJ) from controller/etcd/etcd.mk, include with
 * -Itests/lib.
 */
#ifndef ETCD_PROC_H
#define ETCD_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct etcd_proc_opts {
	/* Serve clients over https with these PEM files (cert for
	 * 127.0.0.1); ca_file is passed to etcdctl. NULL: plain http. */
	const char *cert_file;
	const char *key_file;
	const char *ca_file;
	/* Parent of the temp dir; NULL: /dev/shm, else /tmp. */
	const char *base_dir;
	/* More etcd flags, NULL-terminated (e.g. "--auto-compaction-
	 * retention=1"); kept by pointer, so they must outlive the struct
	 * etcd_proc (restarts use them again). NULL: none. */
	const char *const *extra_args;
};

struct etcd_proc {
	pid_t pid;                 /* 0 when not running                    */
	int client_port;
	int peer_port;
	int metrics_port;          /* plain-http /health, even with TLS     */
	char dir[256];             /* temp dir: data/ and etcd.log          */
	char url[64];              /* http(s)://127.0.0.1:client_port       */
	char cert_file[256];       /* copies of the opts ("" when unset)    */
	char key_file[256];
	char ca_file[256];
	char cluster[512];         /* --initial-cluster (all members)       */
	const char *const *extra_args;
};

/* Make the temp dir, pick free ports, start etcd and wait until /health
 * says true (up to 10 s). -ENOENT when the etcd binary is missing. */
int etcd_proc_start(struct etcd_proc *p, const struct etcd_proc_opts *o);

/* Start an n-member cluster (n <= 7; plain http, ports and dirs as
 * above) and wait until every member is healthy (a leader is elected).
 * p is an array of n structs; clean each up with etcd_proc_cleanup().
 * Stop/kill/restart work per member; a restarted member rejoins. */
int etcd_proc_start_cluster(struct etcd_proc *p, int n,
			    const struct etcd_proc_opts *o);

/* SIGTERM, then SIGKILL if it has not exited after 5 s; reaps it. */
int etcd_proc_stop(struct etcd_proc *p);

/* SIGKILL at once (a crash); reaps it. */
int etcd_proc_kill(struct etcd_proc *p);

/* SIGSTOP / SIGCONT: the node keeps its sockets but answers nothing. */
int etcd_proc_pause(struct etcd_proc *p);
int etcd_proc_resume(struct etcd_proc *p);

/* Start again on the same ports and data dir (after stop or kill) and
 * wait for health. */
int etcd_proc_restart(struct etcd_proc *p);

/* Poll /health until it answers true; -ETIMEDOUT after timeout_ms,
 * -ECHILD if the process exited meanwhile. */
int etcd_proc_wait_healthy(struct etcd_proc *p, int timeout_ms);

/* Run `etcdctl --endpoints=<url> [--cacert=...] argv...` (API v3) with
 * output to <dir>/etcdctl.log; returns its exit status (0 = success), or
 * -errno if it could not be run. argv is NULL-terminated. */
int etcd_proc_ctl(struct etcd_proc *p, const char *const argv[]);

/* Stop if running and remove the temp dir. Safe to call twice and on a
 * struct whose start failed (zero it first). */
void etcd_proc_cleanup(struct etcd_proc *p);

#endif
