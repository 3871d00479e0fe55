/*
 * bollardd - the per-node controller. See controller.h and
 * docs/ARCHITECTURE.md.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl_err.h"
#include "bl_version.h"
#include "daemon/controller.h"
#include "rollout/rollout.h"

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char usage[] =
"Usage: bollardd --etcd URL[,URL] --node NAME [OPTIONS]\n"
"\n"
"Watch the desired state in etcd and make this node's live target engine,\n"
"DRBD and (on the cluster's elected node) Pacemaker match it, applying only\n"
"the minimal change. Status goes back to etcd under /bollard/v1/status/.\n"
"\n"
"Options:\n"
"  --etcd URLS            etcd endpoints (default: $BOLLARD_ETCD)\n"
"  --etcd-user U --etcd-password P\n"
"  --cacert FILE          CA for https:// endpoints (default:\n"
"                         $BOLLARD_ETCD_CACERT, else the system roots)\n"
"  --cert FILE --key FILE client certificate and key, for an etcd with\n"
"                         --client-cert-auth (default: $BOLLARD_ETCD_CERT,\n"
"                         $BOLLARD_ETCD_KEY)\n"
"  --node NAME            this node's name in Cluster.spec.nodes (default:\n"
"                         $BOLLARD_NODE, else the host name)\n"
"  --state-dir DIR        relative file backings live here (default\n"
"                         /var/lib/bollard)\n"
"  --target-socket PATH   bollard-target's management socket (default: the\n"
"                         kernel module, else /run/bollard/target.sock)\n"
"  --drbd-dir DIR         where .res files go (default /etc/drbd.d)\n"
"  --resync SECONDS       full resync period (default 60)\n"
"  --lease-ttl SECONDS    heartbeat and election lease TTL (default 15; a\n"
"                         dead leader's CIB work moves to another node after\n"
"                         at most this long)\n"
"  --only NAME            run only one reconciler: target, drbd, pacemaker\n"
"  --rollouts-only        run only the fleet rollout controller (elected on\n"
"                         /bollard/v1/leader/-fleet-; docs/rollouts.md)\n"
"  --dry-run              print plans, change nothing\n"
"  --once                 reconcile what is there, then exit (0: converged)\n"
"  --version, -h/--help\n"
"\n"
"BOLLARD_FAULT=apply:N[:die] makes the executor fail (or the process die)\n"
"after N actions: the crash-injection hook of the test suite.\n"
"BOLLARD_PLAN_WINDOW=N applies plans N actions at a time (default 1024).\n"
"BOLLARD_MEMLOG=1 logs RSS, its peak and the heap at each phase of a round;\n"
"BOLLARD_MEMLOG=reset makes each line's peak the peak since the line before.\n";

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "etcd", 1, 0, 'e' }, { "etcd-user", 1, 0, 'u' },
		{ "etcd-password", 1, 0, 'p' }, { "node", 1, 0, 'n' },
		{ "state-dir", 1, 0, 's' }, { "target-socket", 1, 0, 't' },
		{ "drbd-dir", 1, 0, 'd' }, { "resync", 1, 0, 'r' },
		{ "lease-ttl", 1, 0, 'l' }, { "only", 1, 0, 'O' },
		{ "dry-run", 0, 0, 'D' }, { "once", 0, 0, '1' },
		{ "version", 0, 0, 'V' }, { "help", 0, 0, 'h' },
		{ "rollouts-only", 0, 0, 'R' }, { "cacert", 1, 0, 'C' },
		{ "cert", 1, 0, 'c' }, { "key", 1, 0, 'k' }, { 0 },
	};
	struct bl_ctl_opts o = { 0 };
	struct bl_ctl *c = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	char host[256];
	bool once = false, rollouts_only = false;
	int opt, rc;

	o.etcd = getenv("BOLLARD_ETCD");
	o.node = getenv("BOLLARD_NODE");
	/* as /etc/default/bollard names them (deploy/default/bollard) */
	o.etcd_ca = getenv("BOLLARD_ETCD_CACERT");
	o.etcd_cert = getenv("BOLLARD_ETCD_CERT");
	o.etcd_key = getenv("BOLLARD_ETCD_KEY");
	o.state_dir = "/var/lib/bollard";
	/* 15 s, not 5: under load (and in the emulated VMs of tests/ha) a 5 s
	 * lease lapsed between two ticks of a busy loop. Only CIB writing
	 * waits for a new leader; failover itself is Pacemaker's. */
	o.lease_ttl_s = 15;
	o.fault = getenv("BOLLARD_FAULT");
	o.memlog = getenv("BOLLARD_MEMLOG");
	if (getenv("BOLLARD_PLAN_WINDOW"))
		o.plan_window = strtoul(getenv("BOLLARD_PLAN_WINDOW"), NULL, 10);
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'e': o.etcd = optarg; break;
		case 'u': o.etcd_user = optarg; break;
		case 'p': o.etcd_password = optarg; break;
		case 'n': o.node = optarg; break;
		case 's': o.state_dir = optarg; break;
		case 't': o.target_socket = optarg; break;
		case 'd': o.drbd_dir = optarg; break;
		case 'r': o.resync_s = (unsigned)atoi(optarg); break;
		case 'l': o.lease_ttl_s = (unsigned)atoi(optarg); break;
		case 'O': o.only = optarg; break;
		case 'D': o.dry_run = true; break;
		case '1': once = true; break;
		case 'R': rollouts_only = true; break;
		case 'C': o.etcd_ca = optarg; break;
		case 'c': o.etcd_cert = optarg; break;
		case 'k': o.etcd_key = optarg; break;
		case 'V': printf("bollardd %s\n", BOLLARD_VERSION); return 0;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!o.etcd) {
		fprintf(stderr, "bollardd: --etcd is required (or BOLLARD_ETCD)\n");
		return 2;
	}
	if (!o.node) {
		if (gethostname(host, sizeof(host)) < 0)
			return 2;
		host[sizeof(host) - 1] = '\0';
		o.node = host;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* --rollouts-only: the fleet role alone (controller/rollout/). */
	if (rollouts_only) {
		struct bl_etcd_opts eo = bl_ctl_etcd_opts(&o);

		rc = bl_fleet_run(&eo, o.node, o.lease_ttl_s, &stop, NULL);
		if (rc < 0)
			fprintf(stderr, "bollardd: %s\n", bl_strerror(rc));
		return rc < 0 ? 1 : 0;
	}
	rc = bl_ctl_new(&o, &c);
	if (rc < 0) {
		fprintf(stderr, "bollardd: %s\n", bl_strerror(rc));
		return 1;
	}
	rc = bl_ctl_run(c, &stop, once);
	bl_ctl_free(c);
	return rc;
}
