/*
 * up.c - `bollard up`: a local etcd plus the quickstart objects, in the
 * foreground, until Ctrl-C or SIGTERM.
 *
 * Children are started with posix_spawn, never fork (the CLI's etcd
 * client has no threads since it uses the JSON gateway, but the rule
 * costs nothing and keeps `up` safe if that changes). SIGINT, SIGTERM
 * and SIGCHLD are blocked from the start and taken synchronously with
 * sigtimedwait, so a signal
 * during startup is handled at the next wait, children never inherit the
 * block (supervisor.c resets it), and there is no async handler to get
 * wrong.
 *
 * Output contract (scripts parse it): once etcd is healthy, exactly one
 * line "etcd: http://127.0.0.1:PORT" is printed and flushed, before the
 * quickstart apply lines. The URL is also written to <state dir>/etcd.url,
 * which the other commands read when neither --etcd nor BOLLARD_ETCD is
 * given; the file is removed again on a clean stop.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bl_time.h"
#include "cli.h"
#include "supervisor.h"
#include "up_node.h"

#define UP_HEALTH_TIMEOUT_MS 30000
#define UP_STOP_GRACE_MS     5000

struct up_opts {
	struct cli *c;
	const char *state_dir;
	const char *examples;
	bool no_examples;
	const char *node;           /* --node, default "local"                */
	int iscsi_port;             /* --iscsi-port, default: a free one      */
	bool no_node;               /* --etcd-only: no engine, no controller  */
};

static int up_set(void *arg, const char *flag, const char *val)
{
	struct up_opts *o = arg;

	if (!strcmp(flag, "state-dir"))
		o->state_dir = val;
	else if (!strcmp(flag, "examples"))
		o->examples = val;
	else if (!strcmp(flag, "no-examples"))
		o->no_examples = true;
	else if (!strcmp(flag, "node"))
		o->node = val;
	else if (!strcmp(flag, "etcd-only"))
		o->no_node = true;
	else if (!strcmp(flag, "iscsi-port")) {
		char *end;
		long p = strtol(val, &end, 10);
		if (*end || p < 1 || p > 65535) {
			cli_error(o->c, "--iscsi-port: bad port \"%s\"", val);
			return -1;
		}
		o->iscsi_port = (int)p;
	}
	return 0;
}

static const char up_usage[] =
"Usage: bollard up [--state-dir DIR] [--examples DIR | --no-examples]\n"
"                  [--node NAME] [--iscsi-port PORT] [--etcd-only]\n"
"\n"
"Run the embedded default on this machine: a single-node etcd on 127.0.0.1\n"
"(data in the state dir), the userspace target engine bollard-target and\n"
"the controller bollardd (as node NAME, default \"local\", the node of the\n"
"quickstart), apply the quickstart examples, and stay in the foreground\n"
"until Ctrl-C or SIGTERM, which stop everything cleanly.\n"
"Prints \"etcd: URL\" once etcd is ready (other bollard commands then find\n"
"it through <state dir>/etcd.url), then one line\n"
"\"iscsi: iscsi://127.0.0.1:PORT/IQN/LUN\" per LUN once it is served.\n"
"\n"
"Flags:\n"
"      --state-dir DIR  default $XDG_STATE_HOME/bollard, else\n"
"                       ~/.local/state/bollard ($BOLLARD_STATE_DIR wins)\n"
"      --examples DIR   objects to apply (default ./examples/quickstart,\n"
"                       else ../examples/quickstart next to the binary)\n"
"      --no-examples    apply nothing\n"
"      --node NAME      this node's name in the Cluster (default local)\n"
"      --iscsi-port N   iSCSI portal port on 127.0.0.1 (default: a free one)\n"
"      --etcd-only      run etcd alone (no engine, no controller)\n"
"\n"
"Environment: BOLLARD_ETCD_BIN (default: etcd from PATH).\n";

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Two distinct free loopback ports (bound at the same time to differ). */
static int free_ports(int *a, int *b)
{
	int fds[2] = { -1, -1 }, ports[2], rc = 0;

	for (int i = 0; i < 2; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sa);

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &sl) < 0) {
			rc = -errno;
			break;
		}
		ports[i] = ntohs(sa.sin_port);
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (rc == 0) {
		*a = ports[0];
		*b = ports[1];
	}
	return rc;
}

static bool etcd_healthy(const char *url)
{
	char *h = NULL, *buf = NULL, err[256];
	size_t len;
	bool ok = false;

	if (asprintf(&h, "%s/health", url) < 0)
		return false;
	if (input_fetch_url(h, NULL, NULL, NULL, 1000, &buf, &len, err,
			    sizeof(err)) == 0)
		ok = strstr(buf, "\"health\":\"true\"") != NULL;
	free(buf);
	free(h);
	return ok;
}

static int write_file_atomic(const char *path, const char *text)
{
	char *tmp = NULL;
	FILE *f;
	int rc = 0;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	f = fopen(tmp, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		rc = -errno;
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

/* Default examples: ./examples/quickstart, else <bindir>/../examples/... */
static char *find_examples(void)
{
	char exe[PATH_MAX], *dir, *out = NULL;
	struct stat st;
	ssize_t n;

	if (stat("examples/quickstart", &st) == 0 && S_ISDIR(st.st_mode))
		return strdup("examples/quickstart");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	dir = dirname(exe);
	if (asprintf(&out, "%s/../examples/quickstart", dir) < 0)
		return NULL;
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return out;
	free(out);
	return NULL;
}

/* Whether prog (a path, or a name searched in $PATH) is executable. */
static bool executable(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len,
			 len ? path : ".", prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

/* Wait up to ms for one of the blocked signals. 0 on timeout. */
static int wait_signal(const sigset_t *set, int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	int sig = sigtimedwait(set, NULL, &ts);

	return sig < 0 ? 0 : sig;
}

static void report_exit(struct cli *c, const struct sup_child *ch,
			const char *logdir)
{
	char st[64];

	sup_status_text(ch->status, st, sizeof(st));
	cli_error(c, "%s %s unexpectedly (log: %s/%s.log)", ch->name, st,
		  logdir, ch->name);
}

int cmd_up(struct cli *c, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{ "state-dir", 0, CLI_ARG, up_set },
		{ "examples", 0, CLI_ARG, up_set },
		{ "no-examples", 0, CLI_NOARG, up_set },
		{ "node", 0, CLI_ARG, up_set },
		{ "iscsi-port", 0, CLI_ARG, up_set },
		{ "etcd-only", 0, CLI_NOARG, up_set },
		{ 0 },
	};
	struct up_opts o = { .c = c };
	struct sup sup = { 0 };
	sigset_t set, old;
	char *dir = NULL, *datadir = NULL, *urlfile = NULL, *logfile = NULL;
	char *examples = NULL, *url = NULL, *sock = NULL;
	struct up_node node = { 0 };
	char purl[64], peer[96], cluster[128];
	const char *etcd_bin = getenv("BOLLARD_ETCD_BIN");
	int n, rc, cport = 0, pport = 0, ret = 1, sig = 0;
	bool url_written = false;
	uint64_t t0;

	n = cli_parse(c, argc, argv, flags, &o, up_usage);
	if (n < 0)
		return n == -2 ? 0 : 1;
	if (n > 0) {
		cli_error(c, "up takes no arguments");
		return 1;
	}
	setvbuf(c->out, NULL, _IOLBF, 0);
	dir = cli_state_dir(o.state_dir);
	if (!dir || (rc = mkdir_p(dir)) < 0) {
		cli_error(c, "cannot create state dir %s: %s",
			  dir ? dir : "?", dir ? strerror(-rc) : "no memory");
		goto out;
	}
	if (asprintf(&datadir, "%s/etcd", dir) < 0 ||
	    asprintf(&urlfile, "%s/etcd.url", dir) < 0 ||
	    asprintf(&logfile, "%s/etcd.log", dir) < 0) {
		cli_error(c, "out of memory");
		goto out;
	}
	{
		/* Another `up` on this state dir? */
		FILE *f = fopen(urlfile, "r");

		if (f) {
			char prev[256] = "";

			if (fgets(prev, sizeof(prev), f))
				prev[strcspn(prev, "\r\n")] = 0;
			fclose(f);
			if (prev[0] && etcd_healthy(prev)) {
				cli_error(c, "an etcd from `bollard up` is "
					  "already running at %s (state dir %s)",
					  prev, dir);
				goto out;
			}
		}
	}
	if (free_ports(&cport, &pport) < 0) {
		cli_error(c, "no free port on 127.0.0.1");
		goto out;
	}
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", cport);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", pport);
	snprintf(cluster, sizeof(cluster), "bollard=%s", peer);

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	{
		char *const eargv[] = {
			(char *)(etcd_bin && *etcd_bin ? etcd_bin : "etcd"),
			"--name", "bollard",
			"--data-dir", datadir,
			"--listen-client-urls", purl,
			"--advertise-client-urls", purl,
			"--listen-peer-urls", peer,
			"--initial-advertise-peer-urls", peer,
			"--initial-cluster", cluster,
			"--initial-cluster-state", "new",
			"--log-level", "warn",
			"--logger", "zap",
			NULL,
		};

		rc = executable(eargv[0]) ? sup_spawn(&sup, "etcd", eargv,
						       logfile) : -ENOENT;
		if (rc < 0) {
			cli_error(c, "cannot start %s: %s (install Debian's "
				  "etcd-server, or set BOLLARD_ETCD_BIN)",
				  eargv[0], strerror(-rc));
			goto out_unblock;
		}
	}
	t0 = bl_now_ms();
	for (;;) {
		struct sup_child *ch;
		long ms;

		if (etcd_healthy(purl))
			break;
		sig = wait_signal(&set, 50);
		if (sig == SIGINT || sig == SIGTERM)
			goto out_stop;
		if ((ch = sup_reap(&sup))) {
			report_exit(c, ch, dir);
			goto out_stop;
		}
		ms = (long)(bl_now_ms() - t0);
		if (ms > UP_HEALTH_TIMEOUT_MS) {
			cli_error(c, "etcd did not become healthy in %d s "
				  "(log: %s)", UP_HEALTH_TIMEOUT_MS / 1000,
				  logfile);
			goto out_stop;
		}
	}
	if (asprintf(&url, "%s\n", purl) < 0 ||
	    (rc = write_file_atomic(urlfile, url)) < 0) {
		cli_error(c, "cannot write %s", urlfile);
		goto out_stop;
	}
	url_written = true;
	fprintf(c->out, "etcd: %s\n", purl);
	fflush(c->out);

	if (!o.no_node) {
		int spare;
		if (!o.iscsi_port && free_ports(&o.iscsi_port, &spare) < 0) {
			cli_error(c, "no free port on 127.0.0.1");
			goto out_stop;
		}
		if (asprintf(&sock, "%s/target.sock", dir) < 0)
			goto out_stop;
		node = (struct up_node){ .etcd = purl, .node = o.node ? o.node : "local",
			.state_dir = dir, .socket = sock, .port = o.iscsi_port,
			.resync_s = 10 };
		if (up_start_node(c, &sup, &node) < 0)
			goto out_stop;
	}

	if (!o.no_examples) {
		examples = o.examples ? strdup(o.examples) : find_examples();
		if (!examples) {
			fprintf(c->out, "note: no examples/quickstart found; "
				"nothing applied (use --examples DIR)\n");
		} else {
			struct cli ac = *c;
			char *aargv[] = { "apply", "-f", examples, NULL };

			ac.etcd = purl;
			fprintf(c->out, "applying %s:\n", examples);
			if (cmd_apply(&ac, 3, aargv) != 0)
				fprintf(c->out, "warning: applying %s failed "
					"(see above); etcd keeps running\n",
					examples);
		}
	}
	if (!o.no_node) {
		rc = up_report_served(c, &node, UP_HEALTH_TIMEOUT_MS, &set);
		if (rc == 2) {
			sig = SIGTERM;
			goto out_stop;
		}
	}
	fprintf(c->out,
		"\nbollard is up (state in %s). Try:\n"
		"  bollard get targets\n"
		"  bollard get volumes -o wide\n"
		"  bollard describe target NAME\n"
		"  bollard apply -f examples/ --dry-run\n"
		"  bollard target --socket %s/target.sock show\n"
		"  iscsi-inq iscsi://127.0.0.1:%d/iqn.2026-11.io.bollard:demo/0\n"
		"Press Ctrl-C to stop.\n", dir, dir, o.iscsi_port);
	if (o.state_dir)
		fprintf(c->out, "(non-default state dir: other commands need "
			"BOLLARD_ETCD=%s or BOLLARD_STATE_DIR=%s)\n", purl, dir);
	fflush(c->out);

	for (;;) {
		struct sup_child *ch;

		sig = wait_signal(&set, 1000);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if ((ch = sup_reap(&sup))) {
			report_exit(c, ch, dir);
			goto out_stop;
		}
	}
	fprintf(c->out, "\nstopping (%s)...\n", sig == SIGINT ? "interrupt" :
		"terminated");
	ret = 0;
out_stop:
	sup_stop_all(&sup, UP_STOP_GRACE_MS);
	if (url_written)
		unlink(urlfile);
	if (ret == 0)
		fprintf(c->out, "stopped.\n");
	else if (sig == SIGINT || sig == SIGTERM)
		ret = 0; /* asked to stop during startup: still a clean stop */
out_unblock:
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	sup_free(&sup);
	free(dir);
	free(datadir);
	free(urlfile);
	free(logfile);
	free(examples);
	free(url);
	free(sock);
	return ret;
}
