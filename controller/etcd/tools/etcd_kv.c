/*
 * etcd_kv.c - a small command-line front end to the etcd client, for
 * debugging and for shell tests that need our client (not etcdctl) on one
 * side.
 *
 *   etcd-kv [-u user:pass] [-t MS] [--ca F] ENDPOINTS put KEY VALUE
 *   etcd-kv ... ENDPOINTS get KEY [--prefix]     prints KEY=VALUE lines
 *   etcd-kv ... ENDPOINTS del KEY [--prefix]     prints the count
 *   etcd-kv ... ENDPOINTS watch KEY N [REV]      prefix watch; prints
 *             "PUT|DELETE KEY VALUE REV" for N events, then exits 0
 *
 * Exit status: 0 ok, 1 call failed (message on stderr), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_err.h"
#include "bl_etcd.h"

static int usage(void)
{
	fputs("usage: etcd-kv [-u user:pass] [-t timeout_ms] [--ca FILE] ENDPOINTS "
	      "put KEY VALUE | get KEY [--prefix] | del KEY [--prefix] | "
	      "watch PREFIX N [REV]\n", stderr);
	return 2;
}

struct wstate {
	long left;
	int err;
};

static void on_ev(void *arg, const struct bl_watch_event *ev, size_t n,
		  int64_t rev, int err)
{
	struct wstate *s = arg;
	size_t i;

	if (err) {
		s->err = err;
		return;
	}
	for (i = 0; i < n && s->left > 0; i++, s->left--)
		printf("%s %s %s %lld\n", ev[i].type == BL_EV_PUT ? "PUT" : "DELETE",
		       ev[i].kv.key, ev[i].kv.value, (long long)rev);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct bl_etcd_opts o = { .timeout_ms = 5000 };
	struct bl_etcd *e = NULL;
	char *user = NULL;
	int i = 1, rc = 0, ret = 1;
	const char *cmd;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-u") && i + 1 < argc) {
			char *c;
			user = strdup(argv[i + 1]);
			c = user ? strchr(user, ':') : NULL;
			if (!c)
				return usage();
			*c = '\0';
			o.user = user;
			o.password = c + 1;
			i += 2;
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			o.timeout_ms = atoi(argv[i + 1]);
			i += 2;
		} else if (!strcmp(argv[i], "--ca") && i + 1 < argc) {
			o.ca_file = argv[i + 1];
			i += 2;
		} else {
			return usage();
		}
	}
	if (argc - i < 3)
		return usage();
	o.endpoints = argv[i];
	cmd = argv[i + 1];
	rc = bl_etcd_open(&o, &e);
	if (rc < 0) {
		fprintf(stderr, "etcd-kv: open: %s\n", bl_strerror(rc));
		goto out;
	}
	if (!strcmp(cmd, "put") && argc - i == 4) {
		rc = bl_etcd_put(e, argv[i + 2], argv[i + 3], strlen(argv[i + 3]),
				 0, NULL);
	} else if (!strcmp(cmd, "get") || !strcmp(cmd, "del")) {
		bool prefix = argc - i > 3 && !strcmp(argv[i + 3], "--prefix");
		if (cmd[0] == 'g') {
			struct bl_kvs kvs = { 0 };
			size_t k;
			rc = bl_etcd_get(e, argv[i + 2], prefix, 0, 0, false, &kvs);
			for (k = 0; rc == 0 && k < kvs.n; k++)
				printf("%s=%s\n", kvs.kvs[k].key, kvs.kvs[k].value);
			bl_kvs_free(&kvs);
		} else {
			int64_t n = 0;
			rc = bl_etcd_delete(e, argv[i + 2], prefix, &n, NULL);
			if (rc == 0)
				printf("%lld\n", (long long)n);
		}
	} else if (!strcmp(cmd, "watch") && argc - i >= 4) {
		struct wstate s = { .left = atol(argv[i + 3]) };
		int64_t rev = argc - i > 4 ? atoll(argv[i + 4]) : 0;
		struct bl_watch *w = NULL;
		rc = bl_etcd_watch(e, argv[i + 2], true, rev, on_ev, NULL, &s, &w);
		while (rc == 0 && s.left > 0 && !s.err)
			bl_etcd_dispatch(e, -1);
		if (rc == 0)
			rc = s.err;
		bl_etcd_watch_cancel(w);
	} else {
		bl_etcd_close(e);
		free(user);
		return usage();
	}
	if (rc < 0)
		fprintf(stderr, "etcd-kv: %s: %s (%s)\n", cmd, bl_strerror(rc),
			bl_etcd_errmsg(e));
	else
		ret = 0;
out:
	bl_etcd_close(e);
	free(user);
	return ret;
}
