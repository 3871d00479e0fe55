/*
 * target_cli.c - `bollard target ...`: drive a running target engine
 * (bollard-target's unix socket, or the kernel module) by hand or from
 * scripts. Exit status 0 on success, 1 on any error, with one line
 *   bollard target: <command>: <engine message>
 * on stderr. Secrets given on the command line, in a file or in the
 * environment are sent to the engine and never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bl_time.h"
#include "bt_mgmt_client.h"
#include "drbd_watch.h"
#include "target_print.h"
#include "bt_engine.h"
#include "bt_err.h"
#include "bt_mgmt.h"

int cmd_target(int argc, char **argv);

static const char usage_main[] =
"Usage: bollard target [--socket PATH] COMMAND [ARGS] [OPTIONS]\n"
"\n"
"Manage the live iSCSI target engine directly (bollard-target or the\n"
"kernel module). bollardd normally does this from the declared state.\n"
"\n"
"Commands:\n"
"  create IQN [ATTR=VALUE...]       add a target (disabled), attributes\n"
"                                   set in the same call\n"
"  delete IQN [--force]             remove a target (--force drops sessions)\n"
"  enable IQN [--wait SECONDS]      admit logins; --wait: retry every 50 ms\n"
"                                   until the engine accepts (the target is\n"
"                                   staged and every LUN's device opens for\n"
"                                   writing, e.g. DRBD Primary), at most\n"
"                                   SECONDS; then the last refusal. Gives up\n"
"                                   early when /proc/drbd shows a LUN's DRBD\n"
"                                   minor cannot become Primary here for 10 s\n"
"                                   (peer Primary; disk Outdated, Inconsistent,\n"
"                                   Diskless or Failed; Unconfigured; absent)\n"
"  disable IQN                      refuse logins, drop its sessions\n"
"  set IQN ATTR=VALUE...            maxSessionsPerInitiator, maxSessions,\n"
"                                   nopIntervalMs, nopTimeoutMs, demoMode,\n"
"                                   aluaGroup, aluaState, aluaPeerGroup,\n"
"                                   aluaPeerState (states: activeOptimized,\n"
"                                   activeNonOptimized, standby, unavailable,\n"
"                                   transitioning)\n"
"  portal add|del IQN ADDR:PORT     portals advertised by SendTargets\n"
"  lun add IQN LUN PATH [--uid UID] [--block-size N] [--readonly]\n"
"          [--features caw,xcopy,unmap,writesame,prstore|none|default]\n"
"  lun del IQN LUN [--force]        (--force: even with sessions logged in)\n"
"  acl add IQN INITIATOR [--chap-user U --chap-secret S]   ('*': anyone)\n"
"  acl del IQN INITIATOR\n"
"  auth set IQN [--chap-user U --chap-secret S] [--mutual-user U --mutual-secret S]\n"
"  show [IQN] [-o table|json|yaml]  configuration (never secrets)\n"
"       [--from-lun N] [--max-luns M]  only a page of each target's LUNs:\n"
"                                   numbered >= N, at most M; a target cut\n"
"                                   short shows where to go on (nextLun)\n"
"  sessions [IQN] [-o table|json|yaml]\n"
"  events                           print engine events until interrupted\n"
"                                   (\"...: subscribed\" on stderr once listening)\n"
"\n"
"Options:\n"
"  --socket PATH     bollard-target's management socket (default "
BT_MGMT_SOCK_DEFAULT ",\n"
"                    then the kernel module over generic netlink)\n"
"  -o, --output FMT  output format of show / sessions\n"
"  -h, --help        help (also after any command)\n"
"\n"
"Secrets: --chap-secret S, or --chap-secret-file FILE, or --chap-secret-env VAR\n"
"(likewise --mutual-secret-*). '-' as the file reads standard input.\n";

/* Options gathered from anywhere on the command line. */
struct topts {
	const char *socket;
	const char *output;
	const char *uid;
	const char *block_size;
	const char *features;
	const char *from_lun, *max_luns;
	const char *wait;                    /* enable --wait SECONDS */
	const char *chap_user, *mutual_user;
	char *chap_secret, *mutual_secret;   /* owned, wiped at the end */
	bool force, readonly, help;
	char *pos[16];
	int npos;
	const char *cmdname;                 /* for messages: "lun add"  */
};

static int fail(const struct topts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const struct topts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bollard target: ");
	if (o->cmdname)
		fprintf(stderr, "%s: ", o->cmdname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Read a secret from a file ("-": stdin), first line, no newline. */
static char *read_secret_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char buf[512];
	char *s = NULL;

	if (!f)
		return NULL;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\r\n")] = 0;
		s = strdup(buf);
	} else {
		s = strdup("");
	}
	explicit_bzero(buf, sizeof(buf));
	if (f != stdin)
		fclose(f);
	return s;
}

static int set_secret(struct topts *o, char **dst, const char *how,
		      const char *val)
{
	if (*dst)
		return fail(o, "secret given twice");
	if (!strcmp(how, "file")) {
		*dst = read_secret_file(val);
		if (!*dst)
			return fail(o, "cannot read secret file %s: %s", val,
				    strerror(errno));
	} else if (!strcmp(how, "env")) {
		const char *v = getenv(val);

		if (!v)
			return fail(o, "environment variable %s is not set", val);
		*dst = strdup(v);
	} else {
		*dst = strdup(val);
	}
	return *dst ? 0 : fail(o, "out of memory");
}

/* Options with a value: "--name VALUE" or "--name=VALUE". */
static const char *const valued[] = {
	"--socket", "-o", "--output", "--uid", "--block-size", "--chap-user",
	"--mutual-user", "--chap-secret", "--chap-secret-file",
	"--chap-secret-env", "--mutual-secret", "--mutual-secret-file",
	"--mutual-secret-env", "--features", "--from-lun", "--max-luns", "--wait",
	NULL,
};

static int parse_opts(struct topts *o, int argc, char **argv)
{
	bool only_pos = false;
	int i, k;

	for (i = 0; i < argc; i++) {
		char *a = argv[i], *val = NULL, name[64];
		const char *eq;

		if (only_pos || a[0] != '-' || !strcmp(a, "-")) {
			if (o->npos == (int)(sizeof(o->pos) / sizeof(o->pos[0])))
				return fail(o, "too many arguments");
			o->pos[o->npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			o->help = true;
			continue;
		}
		if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			o->force = true;
			continue;
		}
		if (!strcmp(a, "--readonly")) {
			o->readonly = true;
			continue;
		}
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
		for (k = 0; valued[k] && strcmp(valued[k], name); k++)
			;
		if (!valued[k])
			return fail(o, "unknown option %s (see --help)", a);
		if (eq)
			val = (char *)eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return fail(o, "option %s needs a value", name);
		if (!strcmp(name, "--socket"))
			o->socket = val;
		else if (!strcmp(name, "-o") || !strcmp(name, "--output"))
			o->output = val;
		else if (!strcmp(name, "--uid"))
			o->uid = val;
		else if (!strcmp(name, "--block-size"))
			o->block_size = val;
		else if (!strcmp(name, "--features"))
			o->features = val;
		else if (!strcmp(name, "--from-lun"))
			o->from_lun = val;
		else if (!strcmp(name, "--max-luns"))
			o->max_luns = val;
		else if (!strcmp(name, "--wait"))
			o->wait = val;
		else if (!strcmp(name, "--chap-user"))
			o->chap_user = val;
		else if (!strcmp(name, "--mutual-user"))
			o->mutual_user = val;
		else if (!strncmp(name, "--chap-secret", 13)) {
			if (set_secret(o, &o->chap_secret,
				       name[13] ? name + 14 : "", val))
				return 1;
		} else if (!strncmp(name, "--mutual-secret", 15)) {
			if (set_secret(o, &o->mutual_secret,
				       name[15] ? name + 16 : "", val))
				return 1;
		}
	}
	return 0;
}


/* The engine's message when it sent one, else the code's text. */
static int engine_fail(const struct topts *o, struct btc *c, int rc)
{
	const char *m = c ? btc_errmsg(c) : "";

	return fail(o, "%s", *m ? m : bt_strerror(rc) /* covers -errno */);
}

static int need(const struct topts *o, int min, int max, const char *usage)
{
	if (o->npos < min || o->npos > max)
		return fail(o, "usage: bollard target %s", usage);
	return 0;
}

/* "ATTR=VALUE" into (attr, v) with the client's table (btc_attr_parse);
 * 0, or 1 after printing the error. */
static int parse_attr_kv(struct topts *o, char *s, unsigned *attr, uint64_t *v)
{
	const char *eq = strchr(s, '=');

	switch (btc_attr_parse(s, attr, v)) {
	case 0:
		return 0;
	case -ENOENT:
		return fail(o, "unknown attribute %.*s", (int)(eq - s), s);
	case -ERANGE:
		return fail(o, "%.*s: bad state %s (activeOptimized, "
			    "activeNonOptimized, standby, unavailable, "
			    "transitioning)", (int)(eq - s), s, eq + 1);
	default:
		if (!eq)
			return fail(o, "%s: expected ATTR=VALUE", s);
		return fail(o, "%.*s: bad value %s", (int)(eq - s), s, eq + 1);
	}
}

static int do_set(struct topts *o, struct btc *c)
{
	int i, rc;

	if (need(o, 2, 16, "set IQN ATTR=VALUE..."))
		return 1;
	for (i = 1; i < o->npos; i++) {
		unsigned attr;
		uint64_t v;

		if (parse_attr_kv(o, o->pos[i], &attr, &v))
			return 1;
		rc = btc_set_attr(c, o->pos[0], attr, v);
		if (rc < 0)
			return engine_fail(o, c, rc);
	}
	return 0;
}

/* create IQN [ATTR=VALUE...]: the attributes are set in the same call. */
static int do_create(struct topts *o, struct btc *c)
{
	unsigned attrs[16];
	uint64_t vals[16];
	int i, rc;

	if (need(o, 1, 16, "create IQN [ATTR=VALUE...]"))
		return 1;
	for (i = 1; i < o->npos; i++)
		if (parse_attr_kv(o, o->pos[i], &attrs[i - 1], &vals[i - 1]))
			return 1;
	rc = btc_target_add_attrs(c, o->pos[0], attrs, vals, (size_t)(o->npos - 1));
	return rc < 0 ? engine_fail(o, c, rc) : 0;
}

/*
 * enable IQN --wait SECONDS. Pacemaker starts ocf:bollard:target beside the
 * DRBD promote rather than after it (reconcilers/pacemaker.c says why):
 * an enable attaches every LUN's device for writing, which DRBD refuses
 * until it is Primary, so the agent must retry. Retrying here, one
 * management call every 50 ms from one process, instead of a `bollard
 * target enable` process per try from the agent's shell loop: in the
 * emulated guests of tests/ha each process costs tens of milliseconds of a
 * CPU that the promotion (its fence-peer handler's CIB client) needs
 * at that very moment. Any refusal is retried (not staged yet, a device
 * that does not open); at the deadline the last one is reported.
 *
 * Unless the promote is not coming here at all: then waiting out the
 * start's timeout (~2 minutes) only keeps Pacemaker from recovering
 * meanwhile. After the first refusal of the staged target, when DRBD
 * 8.4's /proc/drbd exists, its LUNs are asked for once (the dump `show`
 * uses) and those whose path is /dev/drbdN (after realpath, so
 * /dev/drbd/by-res/R/V counts) are watched: every try also reads
 * /proc/drbd, and a minor that stays in a hopeless state (peer Primary,
 * an unpromotable local disk, Unconfigured or absent: drbd_watch.c) for
 * the whole grace ends the wait at once with a sentence naming the device
 * and its state (the agent's exit reason). No /proc/drbd,
 * DRBD 9's (it lists no minors), or no DRBD LUN: the plain wait. Tests
 * point BOLLARD_PROC_DRBD at a file of their own and shorten the grace
 * (10 s) with BOLLARD_DRBD_GRACE_MS.
 */
struct enable_watch {
	const char *proc;             /* /proc/drbd or BOLLARD_PROC_DRBD      */
	uint64_t grace_ms;
	struct dw_track *t;           /* the DRBD minors among the LUNs       */
	size_t n;
	char *buf;                    /* the file's text, grown as needed     */
	size_t cap;
	bool set_up;                  /* LUNs looked at (once)                */
};

/* The whole file into w->buf, NUL-terminated: its length, or -errno. */
static ssize_t watch_read(struct enable_watch *w)
{
	int fd = open(w->proc, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (len + 1 >= w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 16384;
			char *nb = cap <= (16u << 20) ? realloc(w->buf, cap) : NULL;

			if (!nb) {
				r = -ENOMEM;
				goto close_fd;
			}
			w->buf = nb;
			w->cap = cap;
		}
		r = read(fd, w->buf + len, w->cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			goto close_fd;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	w->buf[len] = 0;
	r = (ssize_t)len;
close_fd:
	close(fd);
	return r;
}

/* Add path's minor to the watch if it is a DRBD device not there yet. */
static int watch_add(struct enable_watch *w, const char *path)
{
	struct dw_track *nt;
	char *real = NULL;
	unsigned minor;
	size_t i;

	if (dw_dev_minor(path, &minor) < 0) {
		real = realpath(path, NULL);
		if (!real || dw_dev_minor(real, &minor) < 0) {
			free(real);
			return 0;
		}
		free(real);
	}
	for (i = 0; i < w->n; i++)
		if (w->t[i].minor == minor)
			return 0;
	nt = realloc(w->t, (w->n + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	w->t = nt;
	memset(&nt[w->n], 0, sizeof(nt[0]));
	nt[w->n].minor = minor;
	snprintf(nt[w->n].dev, sizeof(nt[0].dev), "%s", path);
	w->n++;
	return 0;
}

/*
 * Which LUNs are DRBD minors, once the target is staged (a refusal other
 * than "not found": a target without LUNs would have been enabled, so the
 * LUN that failed is in the map; LUNs staged after this look are not
 * watched). Done once: no /proc/drbd, or the dump read. A failed dump is
 * tried again at the next refusal; running out of memory leaves the watch
 * empty, i.e. the plain wait.
 */
static void watch_set_up(const struct topts *o, struct btc *c,
			 struct enable_watch *w)
{
	struct btc_state st;
	size_t i, j;
	int rc = 0;

	if (watch_read(w) < 0) {
		w->set_up = true;
		return;          /* no DRBD here */
	}
	if (btc_dump(c, o->pos[0], &st) < 0)
		return;
	w->set_up = true;
	for (i = 0; i < st.ntargets && rc == 0; i++)
		for (j = 0; j < st.targets[i].nluns && rc == 0; j++)
			if (st.targets[i].luns[j].path)
				rc = watch_add(w, st.targets[i].luns[j].path);
	if (rc < 0)
		w->n = 0;        /* out of memory: watch nothing */
	btc_state_free(&st);
}

static int do_enable_wait(struct topts *o, struct btc *c)
{
	const struct timespec pause = { 0, 50 * 1000 * 1000 };
	struct enable_watch w = { .grace_ms = 10000 };
	const char *g = getenv("BOLLARD_DRBD_GRACE_MS");
	uint64_t secs, end_ms;
	bool said = false;
	int rc, hit;

	if (btc_parse_u64(o->wait, &secs) < 0 || secs > 86400)
		return fail(o, "--wait %s: want whole seconds, at most 86400", o->wait);
	if (g && *g && (btc_parse_u64(g, &w.grace_ms) < 0 || w.grace_ms > 86400000))
		return fail(o, "BOLLARD_DRBD_GRACE_MS=%s: want milliseconds", g);
	w.proc = getenv("BOLLARD_PROC_DRBD");
	if (!w.proc || !*w.proc)
		w.proc = "/proc/drbd";
	end_ms = bl_now_ms() + secs * 1000;
	for (;;) {
		rc = btc_target_enable(c, o->pos[0], true);
		if (rc == 0)
			goto free_watch;
		if (bl_now_ms() >= end_ms) {
			rc = engine_fail(o, c, rc);
			goto free_watch;
		}
		if (!said) {
			/* Once: what it waits for, for the agent's log. */
			const char *m = btc_errmsg(c);

			if (*m)   /* the engine's message names the target */
				fprintf(stderr, "bollard target: enable: %s; retrying for up to %" PRIu64 " s\n",
					m, secs);
			else
				fprintf(stderr, "bollard target: enable: %s: %s; retrying for up to %" PRIu64 " s\n",
					o->pos[0], bt_strerror(rc), secs);
			said = true;
		}
		if (!w.set_up && rc != BT_E_NOT_FOUND)
			watch_set_up(o, c, &w);
		if (w.n) {
			ssize_t len = watch_read(&w);

			hit = dw_step(w.t, w.n, len < 0 ? NULL : w.buf,
				      len < 0 ? 0 : (size_t)len, bl_now_ms(), w.grace_ms);
			if (hit >= 0) {
				char why[512];

				dw_describe(&w.t[hit], w.grace_ms, w.proc, why, sizeof(why));
				rc = fail(o, "%s: %s", o->pos[0], why);
				goto free_watch;
			}
		}
		nanosleep(&pause, NULL);
	}
free_watch:
	free(w.t);
	free(w.buf);
	return rc;
}

static volatile sig_atomic_t stop_events;

static void on_sigint(int sig)
{
	(void)sig;
	stop_events = 1;
}

static int do_events(struct topts *o, struct btc *c)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	struct btc_event ev;
	int rc;

	rc = btc_subscribe(c);
	if (rc < 0)
		return engine_fail(o, c, rc);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* On stderr, so stdout stays one line per event; scripts can wait
	 * for it to know no event will be missed from here on. */
	fputs("bollard target: events: subscribed\n", stderr);
	while (!stop_events) {
		rc = btc_next_event(c, &ev, 500);
		if (rc == -ETIMEDOUT || rc == -EINTR)
			continue;
		if (rc < 0)
			return fail(o, "%s", rc == -ECONNRESET ?
				    "connection closed by the target engine" :
				    strerror(-rc));
		printf("%s target=%s initiator=%s lun=%" PRIu64 " session=%" PRIu64 "\n",
		       btc_event_name(ev.type), ev.target[0] ? ev.target : "-",
		       ev.initiator[0] ? ev.initiator : "-", ev.lun, ev.session_id);
	}
	return 0;
}

static int run(struct topts *o, struct btc *c, const char *cmd, const char *sub)
{
	int rc = 0, fmt = TP_TABLE;

	if (o->output) {
		fmt = tp_format_parse(o->output);
		if (fmt < 0)
			return fail(o, "unknown output format %s", o->output);
	}
	if (!strcmp(cmd, "create")) {
		return do_create(o, c);
	} else if (!strcmp(cmd, "delete")) {
		if (need(o, 1, 1, "delete IQN [--force]"))
			return 1;
		rc = btc_target_del(c, o->pos[0], o->force);
	} else if (!strcmp(cmd, "enable") || !strcmp(cmd, "disable")) {
		if (need(o, 1, 1, !strcmp(cmd, "enable") ? "enable IQN [--wait SECONDS]" : "disable IQN"))
			return 1;
		if (o->wait)
			return strcmp(cmd, "enable") ? fail(o, "--wait is for enable only")
						     : do_enable_wait(o, c);
		rc = btc_target_enable(c, o->pos[0], !strcmp(cmd, "enable"));
	} else if (!strcmp(cmd, "set")) {
		return do_set(o, c);
	} else if (!strcmp(cmd, "portal")) {
		if (need(o, 2, 2, "portal add|del IQN ADDR:PORT"))
			return 1;
		rc = !strcmp(sub, "add") ? btc_portal_add(c, o->pos[0], o->pos[1])
					 : btc_portal_del(c, o->pos[0], o->pos[1]);
	} else if (!strcmp(cmd, "lun") && !strcmp(sub, "add")) {
		struct btc_lun_spec s = { .uid = o->uid, .readonly = o->readonly };
		uint64_t lun, bs = 0;

		if (need(o, 3, 3, "lun add IQN LUN PATH [--uid UID]"))
			return 1;
		if (btc_parse_u64(o->pos[1], &lun) < 0)
			return fail(o, "bad LUN number %s", o->pos[1]);
		if (o->block_size && (btc_parse_u64(o->block_size, &bs) < 0 || bs > UINT32_MAX))
			return fail(o, "bad block size %s", o->block_size);
		if (o->features && btc_features_parse(o->features, &s.features) < 0)
			return fail(o, "bad --features %s (caw,xcopy,unmap,writesame,prstore | none | default)",
				    o->features);
		s.path = o->pos[2];
		s.block_size = (uint32_t)bs;
		rc = btc_lun_add(c, o->pos[0], lun, &s);
	} else if (!strcmp(cmd, "lun")) {
		uint64_t lun;

		if (need(o, 2, 2, "lun del IQN LUN [--force]"))
			return 1;
		if (btc_parse_u64(o->pos[1], &lun) < 0)
			return fail(o, "bad LUN number %s", o->pos[1]);
		rc = btc_lun_del(c, o->pos[0], lun, o->force);
	} else if (!strcmp(cmd, "acl") && !strcmp(sub, "add")) {
		if (need(o, 2, 2, "acl add IQN INITIATOR [--chap-user U --chap-secret S]"))
			return 1;
		if (!o->chap_user != !o->chap_secret)
			return fail(o, "--chap-user and --chap-secret go together");
		rc = btc_acl_add(c, o->pos[0], o->pos[1], o->chap_user, o->chap_secret);
	} else if (!strcmp(cmd, "acl")) {
		if (need(o, 2, 2, "acl del IQN INITIATOR"))
			return 1;
		rc = btc_acl_del(c, o->pos[0], o->pos[1]);
	} else if (!strcmp(cmd, "auth")) {
		if (need(o, 1, 1, "auth set IQN [--chap-user U --chap-secret S] "
			 "[--mutual-user U --mutual-secret S]"))
			return 1;
		if (!o->chap_user != !o->chap_secret ||
		    !o->mutual_user != !o->mutual_secret)
			return fail(o, "each user needs its secret");
		rc = btc_auth_set(c, o->pos[0], o->chap_user, o->chap_secret,
				  o->mutual_user, o->mutual_secret);
	} else if (!strcmp(cmd, "show")) {
		struct btc_state st;
		uint64_t from = 0, max = UINT32_MAX;

		if (need(o, 0, 1, "show [IQN] [-o table|json|yaml] [--from-lun N] "
			 "[--max-luns M]"))
			return 1;
		if ((o->from_lun && btc_parse_u64(o->from_lun, &from) < 0) ||
		    (o->max_luns && (btc_parse_u64(o->max_luns, &max) < 0 || max > UINT32_MAX)))
			return fail(o, "--from-lun / --max-luns: bad number");
		if (o->from_lun || o->max_luns)
			rc = btc_dump_page(c, o->npos ? o->pos[0] : NULL, from,
					   (uint32_t)max, &st);
		else
			rc = btc_dump(c, o->npos ? o->pos[0] : NULL, &st);
		if (rc < 0)
			return engine_fail(o, c, rc);
		rc = tp_print_state(stdout, &st, (enum tp_format)fmt);
		btc_state_free(&st);
		if (rc < 0)
			return fail(o, "output: %s", strerror(-rc));
		return 0;
	} else if (!strcmp(cmd, "sessions")) {
		struct btc_session *s = NULL;
		size_t n = 0;

		if (need(o, 0, 1, "sessions [IQN] [-o table|json|yaml]"))
			return 1;
		rc = btc_sessions(c, o->npos ? o->pos[0] : NULL, &s, &n);
		if (rc < 0)
			return engine_fail(o, c, rc);
		rc = tp_print_sessions(stdout, s, n, (enum tp_format)fmt);
		btc_sessions_free(s, n);
		return rc < 0 ? fail(o, "output: %s", strerror(-rc)) : 0;
	} else if (!strcmp(cmd, "events")) {
		if (need(o, 0, 0, "events"))
			return 1;
		return do_events(o, c);
	}
	return rc < 0 ? engine_fail(o, c, rc) : 0;
}

/* Commands with a second word, and the words allowed. */
static const char *sub_of(const char *cmd)
{
	if (!strcmp(cmd, "portal") || !strcmp(cmd, "lun") || !strcmp(cmd, "acl"))
		return "add|del";
	if (!strcmp(cmd, "auth"))
		return "set";
	return NULL;
}

static bool known_cmd(const char *cmd)
{
	static const char *const cmds[] = {
		"create", "delete", "enable", "disable", "set", "portal", "lun",
		"acl", "auth", "show", "sessions", "events", NULL,
	};
	int i;

	for (i = 0; cmds[i]; i++)
		if (!strcmp(cmds[i], cmd))
			return true;
	return false;
}

int cmd_target(int argc, char **argv)
{
	struct topts o = { 0 };
	struct btc *c = NULL;
	char cmdname[32], err[512];
	const char *cmd, *sub = NULL, *subs;
	int rc, shift = 0;

	if (argc > 0 && !strcmp(argv[0], "target")) {
		argc--;
		argv++;
	}
	rc = parse_opts(&o, argc, argv);
	if (rc)
		goto out;
	if (o.npos == 0) {
		fputs(usage_main, o.help ? stdout : stderr);
		rc = o.help ? 0 : 1;
		goto out;
	}
	cmd = o.pos[0];
	if (!strcmp(cmd, "help")) {
		fputs(usage_main, stdout);
		goto out;
	}
	if (!known_cmd(cmd)) {
		rc = fail(&o, "unknown command \"%s\" (see bollard target --help)", cmd);
		goto out;
	}
	shift = 1;
	subs = sub_of(cmd);
	if (subs) {
		if (o.npos < 2 && o.help) {
			fputs(usage_main, stdout);
			goto out;
		}
		if (o.npos < 2 || !strstr(subs, o.pos[1]) || !*o.pos[1] ||
		    strchr(o.pos[1], '|')) {
			rc = fail(&o, "%s: expected %s", cmd, subs);
			goto out;
		}
		sub = o.pos[1];
		shift = 2;
	}
	snprintf(cmdname, sizeof(cmdname), "%s%s%s", cmd, sub ? " " : "",
		 sub ? sub : "");
	o.cmdname = cmdname;
	if (o.help) {
		/* Per-command help: the matching lines of the usage. */
		const char *p = usage_main;

		printf("Usage:\n");
		while ((p = strstr(p, "\n  "))) {
			const char *eol = strchr(p + 1, '\n');

			p += 3;
			if (!strncmp(p, cmd, strlen(cmd)) && p[strlen(cmd)] == ' ' &&
			    (!sub || strstr(p, sub) < eol))
				printf("  bollard target %.*s\n", (int)(eol - p), p);
			if (!strncmp(p, "Secrets", 7))
				break;
		}
		goto out;
	}
	memmove(o.pos, o.pos + shift, sizeof(o.pos[0]) * (size_t)(o.npos - shift));
	o.npos -= shift;

	rc = btc_connect(o.socket, &c, err, sizeof(err));
	if (rc < 0) {
		rc = fail(&o, "%s", err);
		goto out;
	}
	rc = run(&o, c, cmd, sub ? sub : "");
	btc_free(c);
out:
	wipe(o.chap_secret);
	wipe(o.mutual_secret);
	return rc ? 1 : 0;
}
