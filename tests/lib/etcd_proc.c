/*
 * etcd_proc.c - start, stop and restart a throwaway etcd for tests. See
 * etcd_proc.h.
 */
#include "etcd_proc.h"
#include "bl_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A port the kernel just handed out for 127.0.0.1; etcd binds it shortly
 * after. A collision with another process is possible but rare, and
 * etcd_proc_start retries with new ports if etcd fails to come up. */
/*
 * A port that is free now, below the kernel's ephemeral range (32768+ by
 * default). Ports handed out by bind(0) come from that range, which is also
 * where the outgoing connections of members already started take their
 * local ports from: a member that is started later could then find "its"
 * port taken (seen in CI as a 3-member cluster whose third member exited).
 * taken[0..ntaken) are ports already picked for this cluster.
 */
static int free_port_avoiding(const int *taken, int ntaken)
{
	static const int lo = 20000, span = 12000;
	/* the picks already taken vary the seed: calls in the same millisecond
	 * must not draw the same sequence */
	unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)bl_now_ms() ^
			(unsigned)ntaken * 40503u ^ (ntaken ? (unsigned)taken[ntaken - 1] : 0);
	int tries, i;

	for (tries = 0; tries < 200; tries++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		int port = lo + (int)(rand_r(&seed) % span), fd, ok;

		for (i = 0; i < ntaken && taken[i] != port; i++)
			;
		if (i < ntaken)
			continue;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		if (ok)
			return port;
	}
	return -EADDRNOTAVAIL;
}


static int spawn(const char *const argv[], const char *log, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawnp(pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

static int launch(struct etcd_proc *p)
{
	char data[300], log[300], name[32], curl[64], purl[64], murl[64], cluster[96];
	const char *argv[48];
	int n = 0, i;

	snprintf(data, sizeof(data), "%s/data", p->dir);
	snprintf(log, sizeof(log), "%s/etcd.log", p->dir);
	snprintf(name, sizeof(name), "t%d", p->client_port);
	snprintf(curl, sizeof(curl), "%s", p->url);
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", p->peer_port);
	snprintf(murl, sizeof(murl), "http://127.0.0.1:%d", p->metrics_port);
	snprintf(cluster, sizeof(cluster), "%s=%s", name, purl);
	if (!p->cluster[0])
		snprintf(p->cluster, sizeof(p->cluster), "%s", cluster);

	/* etcd dies with the test: a crashed test leaves no etcd behind.
	 * setpriv (util-linux, always on Debian) sets PR_SET_PDEATHSIG and
	 * execs etcd, so p->pid is etcd's pid. */
	if (access("/usr/bin/setpriv", X_OK) == 0) {
		argv[n++] = "/usr/bin/setpriv";
		argv[n++] = "--pdeathsig";
		argv[n++] = "KILL";
		argv[n++] = "--";
	}
	argv[n++] = "etcd";
	argv[n++] = "--name";                        argv[n++] = name;
	argv[n++] = "--data-dir";                    argv[n++] = data;
	argv[n++] = "--listen-client-urls";          argv[n++] = curl;
	argv[n++] = "--advertise-client-urls";       argv[n++] = curl;
	argv[n++] = "--listen-peer-urls";            argv[n++] = purl;
	argv[n++] = "--initial-advertise-peer-urls"; argv[n++] = purl;
	argv[n++] = "--listen-metrics-urls";         argv[n++] = murl;
	argv[n++] = "--initial-cluster";             argv[n++] = p->cluster;
	argv[n++] = "--initial-cluster-state";       argv[n++] = "new";
	argv[n++] = "--heartbeat-interval=10";
	argv[n++] = "--election-timeout=100";
	argv[n++] = "--log-level";                   argv[n++] = "error";
	argv[n++] = "--logger";                      argv[n++] = "zap";
	if (p->cert_file[0]) {
		argv[n++] = "--cert-file";           argv[n++] = p->cert_file;
		argv[n++] = "--key-file";            argv[n++] = p->key_file;
	}
	for (i = 0; p->extra_args && p->extra_args[i] && n < 47; i++)
		argv[n++] = p->extra_args[i];
	argv[n] = NULL;
	return spawn(argv, log, &p->pid);
}

/* Reap without blocking; true if the process is gone. */
static bool exited(struct etcd_proc *p)
{
	int st;

	if (!p->pid)
		return true;
	if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
		p->pid = 0;
		return true;
	}
	return false;
}

static bool healthy(const struct etcd_proc *p)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	static const char req[] = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	struct timeval tv = { .tv_sec = 1 };
	char buf[1024];
	size_t got = 0;
	ssize_t r;
	bool ok = false;
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(p->metrics_port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1)
		goto out_close;
	while (got < sizeof(buf) - 1 &&
	       (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	ok = strstr(buf, "\"health\":\"true\"") != NULL;
out_close:
	close(fd);
	return ok;
}

int etcd_proc_wait_healthy(struct etcd_proc *p, int timeout_ms)
{
	long end = (long)bl_now_ms() + timeout_ms;

	for (;;) {
		if (exited(p))
			return -ECHILD;
		if (healthy(p))
			return 0;
		if ((long)bl_now_ms() >= end)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

static int wait_gone(struct etcd_proc *p, int timeout_ms)
{
	long end = (long)bl_now_ms() + timeout_ms;

	while (!exited(p)) {
		if ((long)bl_now_ms() >= end)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
	return 0;
}

int etcd_proc_stop(struct etcd_proc *p)
{
	if (!p->pid)
		return 0;
	kill(p->pid, SIGCONT);         /* in case it was paused */
	kill(p->pid, SIGTERM);
	if (wait_gone(p, 5000) == 0)
		return 0;
	return etcd_proc_kill(p);
}

int etcd_proc_kill(struct etcd_proc *p)
{
	if (!p->pid)
		return 0;
	kill(p->pid, SIGKILL);
	if (waitpid(p->pid, NULL, 0) < 0 && errno != ECHILD)
		return -errno;
	p->pid = 0;
	return 0;
}

/* Process state letter from /proc/PID/stat ('T' when stopped). */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *rp;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : '?';
}

int etcd_proc_pause(struct etcd_proc *p)
{
	int i;

	if (!p->pid)
		return -ESRCH;
	if (kill(p->pid, SIGSTOP) < 0)
		return -errno;
	/* kill() returns before every thread has stopped; a request sent in
	 * that window could still be answered. Wait for the stop. */
	for (i = 0; i < 100 && proc_state(p->pid) != 'T'; i++)
		sleep_ms(5);
	sleep_ms(20);
	return 0;
}

int etcd_proc_resume(struct etcd_proc *p)
{
	return p->pid && kill(p->pid, SIGCONT) < 0 ? -errno : 0;
}

int etcd_proc_restart(struct etcd_proc *p)
{
	int rc;

	if (p->pid)
		etcd_proc_stop(p);
	/* The old process may leave its ports in TIME_WAIT; etcd sets
	 * SO_REUSEADDR, so binding again works at once. */
	rc = launch(p);
	if (rc < 0)
		return rc;
	return etcd_proc_wait_healthy(p, 10000);
}

int etcd_proc_start_cluster(struct etcd_proc *p, int n,
			    const struct etcd_proc_opts *o)
{
	char cluster[sizeof(p->cluster)] = "";
	const char *base = o && o->base_dir ? o->base_dir : NULL;
	int taken[3 * 7], ntaken = 0;
	int i, rc;

	if (n < 1 || n > 7)
		return -EINVAL;
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	for (i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].extra_args = o ? o->extra_args : NULL;
		snprintf(p[i].dir, sizeof(p[i].dir), "%s/bollard-etcd.XXXXXX", base);
		if (!mkdtemp(p[i].dir)) {
			rc = -errno;
			p[i].dir[0] = '\0';
			goto out_fail;
		}
		p[i].client_port = free_port_avoiding(taken, ntaken);
		taken[ntaken++] = p[i].client_port;
		p[i].peer_port = free_port_avoiding(taken, ntaken);
		taken[ntaken++] = p[i].peer_port;
		p[i].metrics_port = free_port_avoiding(taken, ntaken);
		taken[ntaken++] = p[i].metrics_port;
		if (p[i].client_port < 0 || p[i].peer_port < 0 ||
		    p[i].metrics_port < 0) {
			rc = -EADDRNOTAVAIL;
			goto out_fail;
		}
		snprintf(p[i].url, sizeof(p[i].url), "http://127.0.0.1:%d",
			 p[i].client_port);
		snprintf(cluster + strlen(cluster), sizeof(cluster) - strlen(cluster),
			 "%st%d=http://127.0.0.1:%d", i ? "," : "",
			 p[i].client_port, p[i].peer_port);
	}
	for (i = 0; i < n; i++) {
		snprintf(p[i].cluster, sizeof(p[i].cluster), "%s", cluster);
		rc = launch(&p[i]);
		if (rc < 0)
			goto out_fail;
	}
	/* Healthy means a leader is elected: every member must be up. */
	for (i = 0; i < n; i++) {
		rc = etcd_proc_wait_healthy(&p[i], 15000);
		if (rc < 0)
			goto out_fail;
	}
	return 0;
out_fail:
	for (i = 0; i < n; i++)
		etcd_proc_cleanup(&p[i]);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void copy_opt(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

int etcd_proc_start(struct etcd_proc *p, const struct etcd_proc_opts *o)
{
	const char *base = o && o->base_dir ? o->base_dir : NULL;
	int attempt, rc = -EIO;

	memset(p, 0, sizeof(*p));
	if (o) {
		copy_opt(p->cert_file, sizeof(p->cert_file), o->cert_file);
		copy_opt(p->key_file, sizeof(p->key_file), o->key_file);
		copy_opt(p->ca_file, sizeof(p->ca_file), o->ca_file);
		p->extra_args = o->extra_args;
	}
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(p->dir, sizeof(p->dir), "%s/bollard-etcd.XXXXXX", base);
	if (!mkdtemp(p->dir)) {
		rc = -errno;
		p->dir[0] = '\0';
		return rc;
	}
	for (attempt = 0; attempt < 3; attempt++) {
		int taken[2];

		p->client_port = taken[0] = free_port_avoiding(NULL, 0);
		p->peer_port = taken[1] = free_port_avoiding(taken, 1);
		p->metrics_port = free_port_avoiding(taken, 2);
		if (p->client_port < 0 || p->peer_port < 0 || p->metrics_port < 0)
			return -EADDRNOTAVAIL;
		if (p->client_port == p->peer_port || p->peer_port == p->metrics_port ||
		    p->client_port == p->metrics_port)
			continue;
		snprintf(p->url, sizeof(p->url), "%s://127.0.0.1:%d",
			 p->cert_file[0] ? "https" : "http", p->client_port);
		p->cluster[0] = '\0';     /* launch() derives it from the ports */
		rc = launch(p);
		if (rc < 0)
			return rc;     /* -ENOENT: etcd not installed */
		rc = etcd_proc_wait_healthy(p, 10000);
		if (rc == 0)
			return 0;
		etcd_proc_kill(p);
		/* A port was taken meanwhile, or a bad start: wipe and retry. */
		{
			char data[300];
			snprintf(data, sizeof(data), "%s/data", p->dir);
			rm_tree(data);
		}
	}
	return rc;
}

void etcd_proc_cleanup(struct etcd_proc *p)
{
	etcd_proc_stop(p);
	if (p->dir[0]) {
		rm_tree(p->dir);
		p->dir[0] = '\0';
	}
}

int etcd_proc_ctl(struct etcd_proc *p, const char *const argv[])
{
	char ep[96], ca[300], log[300];
	const char *args[64];
	pid_t pid;
	int n = 0, i, st, rc;

	snprintf(ep, sizeof(ep), "--endpoints=%s", p->url);
	snprintf(log, sizeof(log), "%s/etcdctl.log", p->dir);
	args[n++] = "env";
	args[n++] = "ETCDCTL_API=3";
	args[n++] = "etcdctl";
	args[n++] = ep;
	if (p->ca_file[0]) {
		snprintf(ca, sizeof(ca), "--cacert=%s", p->ca_file);
		args[n++] = ca;
	}
	for (i = 0; argv[i] && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	rc = spawn(args, log, &pid);
	if (rc < 0)
		return rc;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return -EINTR;
}
