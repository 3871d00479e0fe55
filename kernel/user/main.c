/*
 * main.c - bollard-target: the bollard iSCSI target engine hosted in
 * userspace.
 *
 *   bollard-target --listen IP:PORT [--listen ...] [--socket PATH]
 *                  [--daemon] [-v] [static configuration flags]
 *
 * Normally the target is configured through the management socket
 * (`bollard target --socket PATH ...`). The static flags (--target, --lun,
 * --acl, --chap, ...) configure targets at start-up without it, for tests
 * and quick demos.
 *
 * Shutdown (SIGTERM/SIGINT): stop listening, send every session an Async
 * Message asking for logout (bt_engine_shutdown), wait up to
 * SHUTDOWN_GRACE_MS for the initiators to log out, then close what remains,
 * wait for backend I/O in flight to complete (a write acknowledged to an
 * initiator has completed on the backing store before its response was
 * queued, so nothing acknowledged is lost), free the engine and exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bt_engine.h"
#include "bt_iscsi.h"
#include "bt_loop.h"
#include "host.h"
#include "mgmt_sock.h"

#define TICK_MS            100
#define SHUTDOWN_GRACE_MS  4000
#define IO_DRAIN_MS        30000
#define RXBUF_SIZE         (256 * 1024)

struct static_cfg {
	const char *kind;             /* "target", "lun", "acl", ...          */
	char *arg;
};

struct main_ctx {
	struct host h;
	int sfd;
	bool stopping;
	u64 stop_deadline;
	u64 drain_deadline;
	bool conns_closed;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: bollard-target --listen IP:PORT [--listen IP:PORT ...] [--socket PATH]\n"
"                      [--daemon] [-v] [static configuration]\n"
"\n"
"The bollard iSCSI target engine, hosted in userspace.\n"
"\n"
"  -l, --listen IP:PORT     accept iSCSI connections here ([IPv6]:PORT too);\n"
"                           may be repeated\n"
"  -s, --socket PATH        management socket (root only), for\n"
"                           `bollard target --socket PATH ...`\n"
"  -d, --daemon             detach and run in the background\n"
"  -v, --verbose            more logging (twice: debug)\n"
"  -q, --quiet              errors and warnings only\n"
"  -h, --help               this text\n"
"\n"
"Static configuration (applied in order at start; later flags refer to the\n"
"last --target):\n"
"  --target IQN             create and enable a target\n"
"  --lun N:PATH[:ro]        map backing file or block device PATH as LUN N\n"
"  --acl INITIATOR          admit INITIATOR (\"*\" for any); without any\n"
"                           --acl a target admits every initiator\n"
"  --chap USER:SECRET       CHAP the initiator must pass (target wide)\n"
"  --mutual-chap USER:SECRET  credentials the target proves (mutual CHAP)\n"
"  --portal IP:PORT         address advertised by SendTargets\n"
"  --max-sessions-per-initiator N   (default 2)\n"
"  --nop-interval MS        NOP-In ping interval (0: off; default 5000)\n"
"  --nop-timeout MS         drop after an unanswered ping (default 15000)\n"
"\n"
"SIGTERM or SIGINT: ask initiators to log out, finish in-flight I/O, exit 0.\n");
}

static int split2(char *s, char **a, char **b)
{
	char *c = strchr(s, ':');

	if (!c)
		return -1;
	*c = 0;
	*a = s;
	*b = c + 1;
	return 0;
}

static int apply_static(struct bt_engine *e, struct static_cfg *cfg, unsigned n)
{
	const char *target = NULL;
	struct bt_chap chap = { 0 };
	bool acl_given = false;
	unsigned i;
	int rc;

	for (i = 0; i <= n; i++) {
		const char *k = i < n ? cfg[i].kind : "end";
		char *a = i < n ? cfg[i].arg : NULL, *x, *y;

		if (!strcmp(k, "target") || !strcmp(k, "end")) {
			if (target) {
				if (!acl_given &&
				    (rc = bt_acl_add(e, target, "*", NULL)) < 0)
					goto fail;
				if ((rc = bt_target_enable(e, target, true)) < 0)
					goto fail;
			}
			if (!a)
				break;
			target = a;
			acl_given = false;
			chap.user = chap.secret = NULL;
			if ((rc = bt_target_add(e, target)) < 0)
				goto fail;
			continue;
		}
		if (!target) {
			fprintf(stderr, "bollard-target: --%s needs a --target first\n", k);
			return -1;
		}
		if (!strcmp(k, "lun")) {
			struct bt_lun_cfg lc = { 0 };
			char *end, *path, *ro;
			unsigned long long lun = strtoull(a, &end, 0);

			if (*end != ':') {
				fprintf(stderr, "bollard-target: --lun N:PATH\n");
				return -1;
			}
			path = end + 1;
			ro = strrchr(path, ':');
			if (ro && !strcmp(ro, ":ro")) {
				*ro = 0;
				lc.readonly = true;
			}
			lc.path = path;
			if ((rc = bt_lun_add(e, target, lun, &lc)) < 0)
				goto fail;
		} else if (!strcmp(k, "acl")) {
			acl_given = true;
			if ((rc = bt_acl_add(e, target, a, NULL)) < 0)
				goto fail;
		} else if (!strcmp(k, "chap") || !strcmp(k, "mutual-chap")) {
			struct bt_chap ch;

			if (split2(a, &x, &y)) {
				fprintf(stderr, "bollard-target: --%s USER:SECRET\n", k);
				return -1;
			}
			ch.user = x;
			ch.secret = y;
			if (!strcmp(k, "chap")) {
				chap = ch;
				rc = bt_auth_set(e, target, &ch, NULL);
			} else {
				rc = bt_auth_set(e, target, chap.user ? &chap : NULL,
						 &ch);
			}
			if (rc < 0)
				goto fail;
		} else if (!strcmp(k, "portal")) {
			if ((rc = bt_portal_add(e, target, a)) < 0)
				goto fail;
		} else {
			enum bt_target_attr at =
				!strcmp(k, "max-sessions-per-initiator") ?
					BT_TA_MAX_SESSIONS_PER_INITIATOR :
				!strcmp(k, "nop-interval") ? BT_TA_NOP_INTERVAL_MS :
							     BT_TA_NOP_TIMEOUT_MS;

			if ((rc = bt_target_set_attr(e, target, at,
						     strtoull(a, NULL, 0))) < 0)
				goto fail;
		}
	}
	return 0;
fail:
	fprintf(stderr, "bollard-target: static configuration: %s: %s\n",
		target ? target : "?", bt_strerror(rc));
	return -1;
}

static void on_tick(void *arg)
{
	struct main_ctx *m = arg;
	u64 now = bt_now_ms();

	host_io_poll(&m->h);
	bt_engine_tick(m->h.e, now);
	if (!m->stopping)
		return;
	if (!m->conns_closed &&
	    (bt_iscsi_nconns(m->h.e) == 0 || now >= m->stop_deadline)) {
		host_close_all(&m->h);
		m->conns_closed = true;
		m->drain_deadline = now + IO_DRAIN_MS;
	}
	if (m->conns_closed && (host_io_inflight(&m->h) == 0 ||
				now >= m->drain_deadline)) {
		if (host_io_inflight(&m->h))
			bt_err("%u backend I/Os still in flight at exit\n",
			       host_io_inflight(&m->h));
		bt_loop_stop(m->h.loop);
	}
}

static void on_after(void *arg)
{
	struct main_ctx *m = arg;

	host_io_flush(&m->h);
	host_net_flush(&m->h);
}

static void on_signal(void *arg, int fd, unsigned events)
{
	struct main_ctx *m = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (m->stopping)
			continue;
		bt_info("signal %u: shutting down\n", si.ssi_signo);
		m->stopping = true;
		m->stop_deadline = bt_now_ms() + SHUTDOWN_GRACE_MS;
		host_unlisten(&m->h);
		bt_engine_shutdown(m->h.e);
	}
}

static void on_event(void *host, const struct bt_event *ev)
{
	struct host *h = host;

	bt_mgmt_srv_event(h->mgmt, ev);
}

static const struct bt_host_ops host_ops = {
	.bdev_open = host_bdev_open,
	.bdev_close = host_bdev_close,
	.bdev_submit = host_bdev_submit,
	.conn_send = host_conn_send,
	.conn_close = host_conn_close,
	.event = on_event,
	.bdev_map_status = host_bdev_map_status,
	.bdev_phys_block = host_bdev_phys_block,
};

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

enum {
	OPT_TARGET = 256, OPT_LUN, OPT_ACL, OPT_CHAP, OPT_MUTUAL, OPT_PORTAL,
	OPT_MAXSPI, OPT_NOPI, OPT_NOPT,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 's' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "lun", required_argument, NULL, OPT_LUN },
		{ "acl", required_argument, NULL, OPT_ACL },
		{ "chap", required_argument, NULL, OPT_CHAP },
		{ "mutual-chap", required_argument, NULL, OPT_MUTUAL },
		{ "portal", required_argument, NULL, OPT_PORTAL },
		{ "max-sessions-per-initiator", required_argument, NULL, OPT_MAXSPI },
		{ "nop-interval", required_argument, NULL, OPT_NOPI },
		{ "nop-timeout", required_argument, NULL, OPT_NOPT },
		{ 0 }
	};
	static struct main_ctx m;
	struct static_cfg *cfg = calloc((size_t)argc + 1, sizeof(*cfg));
	const char *listen_addrs[16], *sock_path = NULL;
	unsigned nlisten = 0, ncfg = 0, i;
	int opt, verbose = 2, rc = 1;
	bool daemon_mode = false;
	sigset_t mask;

	if (!cfg)
		return 1;
	/* Every attached LUN holds its backing open: a target with 10,000
	 * LUNs needs 10,000 descriptors. Use all the hard limit allows. */
	{
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	while ((opt = getopt_long(argc, argv, "l:s:dvqh", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (nlisten >= 16) {
				fprintf(stderr, "bollard-target: too many --listen\n");
				free(cfg);
				return 2;
			}
			listen_addrs[nlisten++] = optarg;
			break;
		case 's': sock_path = optarg; break;
		case 'd': daemon_mode = true; break;
		case 'v': verbose++; break;
		case 'q': verbose = 1; break;
		case 'h': usage(stdout); free(cfg); return 0;
		case OPT_TARGET: cfg[ncfg].kind = "target"; cfg[ncfg++].arg = optarg; break;
		case OPT_LUN: cfg[ncfg].kind = "lun"; cfg[ncfg++].arg = optarg; break;
		case OPT_ACL: cfg[ncfg].kind = "acl"; cfg[ncfg++].arg = optarg; break;
		case OPT_CHAP: cfg[ncfg].kind = "chap"; cfg[ncfg++].arg = optarg; break;
		case OPT_MUTUAL: cfg[ncfg].kind = "mutual-chap"; cfg[ncfg++].arg = optarg; break;
		case OPT_PORTAL: cfg[ncfg].kind = "portal"; cfg[ncfg++].arg = optarg; break;
		case OPT_MAXSPI: cfg[ncfg].kind = "max-sessions-per-initiator"; cfg[ncfg++].arg = optarg; break;
		case OPT_NOPI: cfg[ncfg].kind = "nop-interval"; cfg[ncfg++].arg = optarg; break;
		case OPT_NOPT: cfg[ncfg].kind = "nop-timeout"; cfg[ncfg++].arg = optarg; break;
		default: usage(stderr); free(cfg); return 2;
		}
	}
	if (optind < argc || nlisten == 0) {
		usage(stderr);
		free(cfg);
		return 2;
	}
	host_set_log_level(verbose > 3 ? 3 : verbose);
	signal(SIGPIPE, SIG_IGN);

	m.h.rxcap = RXBUF_SIZE;
	m.h.rxbuf = malloc(m.h.rxcap);
	m.h.loop = bt_loop_new();
	if (!m.h.rxbuf || !m.h.loop) {
		perror("bollard-target");
		return 1;
	}
	if (host_io_init(&m.h) < 0)
		goto out_loop;
	m.h.e = bt_engine_new(&host_ops, &m.h);
	if (!m.h.e) {
		fprintf(stderr, "bollard-target: engine: out of memory\n");
		goto out_io;
	}
	if (apply_static(m.h.e, cfg, ncfg) < 0)
		goto out_engine;
	for (i = 0; i < nlisten; i++) {
		int lrc = host_listen(&m.h, listen_addrs[i]);

		if (lrc < 0) {
			fprintf(stderr, "bollard-target: listen %s: %s\n",
				listen_addrs[i], strerror(-lrc));
			goto out_listen;
		}
	}
	if (sock_path) {
		m.h.mgmt = bt_mgmt_srv_new(m.h.loop, m.h.e, sock_path);
		if (!m.h.mgmt) {
			fprintf(stderr, "bollard-target: socket %s: %s\n", sock_path,
				strerror(errno));
			goto out_listen;
		}
	}
	/* Detach only now: a bad address or socket path is reported to the
	 * caller, and the port accepts connections when the command returns. */
	if (daemon_mode && daemonize() < 0) {
		perror("bollard-target: daemon");
		goto out_mgmt;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	m.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m.sfd < 0 || bt_loop_add(m.h.loop, m.sfd, BT_LOOP_IN, on_signal, &m)) {
		perror("bollard-target: signalfd");
		goto out_mgmt;
	}
	bt_loop_set_timer(m.h.loop, TICK_MS, on_tick, &m);
	bt_loop_set_after(m.h.loop, on_after, &m);
	bt_info("listening on %s%s (I/O: %s)\n", listen_addrs[0],
		nlisten > 1 ? " and more" : "", host_io_backend(&m.h));

	if (bt_loop_run(m.h.loop) < 0)
		bt_err("event loop failed\n");
	else
		rc = 0;
	host_close_all(&m.h);
	bt_loop_del(m.h.loop, m.sfd);
	close(m.sfd);
out_mgmt:
	bt_mgmt_srv_free(m.h.mgmt);
	m.h.mgmt = NULL;
out_listen:
	host_unlisten(&m.h);
	host_close_all(&m.h);
out_engine:
	/* on_tick stopped the loop only once backend I/O had drained. */
	bt_engine_free(m.h.e);
out_io:
	host_io_fini(&m.h);
out_loop:
	bt_loop_free(m.h.loop);
	free(m.h.rxbuf);
	free(cfg);
	return rc;
}
