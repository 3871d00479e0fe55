/*
 * cli_converge_probe.c - bollard-bench-converge: the controller's own share
 * of "apply -> converged", without any CLI start-up in the measurement.
 *
 *   bollard-bench-converge --etcd URL --socket PATH --target NAME
 *                          --volume NAME [--changes N]
 *
 * It reads Target NAME once from etcd, subscribes to the engine's events
 * over its management socket, then N times toggles LUN 1 (mapped to Volume
 * --volume) in the Target's spec: the new stored form (generation + 1) is
 * put straight into etcd with the client library, and the clock stops when
 * the engine reports the LUN change for that target. Measured: put start ->
 * engine event (etcd round trip, watch delivery, bollardd's queue, one
 * target's dump, plan and the one engine operation). Prints p50 / p99 / max
 * and the put round trip alone.
 *
 * A bench tool: it writes with a plain put (no compare-and-swap), so run it
 * against a scratch etcd only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_etcd.h"
#include "bl_schema.h"
#include "bt_engine.h"
#include "bt_mgmt_client.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)((double)n * p + 0.5);
	return v[i ? (i > n ? n - 1 : i - 1) : 0];
}

/* Toggle {lun: 1, volume: vol} in spec.luns. Returns 1 added, 0 removed. */
static int toggle_lun1(json_t *spec, const char *vol)
{
	json_t *luns = json_object_get(spec, "luns"), *l;
	size_t i;

	json_array_foreach(luns, i, l)
		if (json_integer_value(json_object_get(l, "lun")) == 1) {
			json_array_remove(luns, i);
			return 0;
		}
	json_array_append_new(luns, json_pack("{s:i, s:s}", "lun", 1, "volume", vol));
	return 1;
}

int main(int argc, char **argv)
{
	const char *url = NULL, *sock = NULL, *name = NULL, *vol = NULL;
	struct bl_etcd_opts eo = { 0 };
	struct bl_etcd *e = NULL;
	struct bl_kvs kvs = { 0 };
	struct bl_obj *t = NULL;
	struct btc *c = NULL;
	char key[512], err[256];
	const char *iqn;
	double *lat = NULL, *put = NULL;
	int changes = 100, rc, ret = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--etcd")) url = argv[i + 1];
		else if (!strcmp(argv[i], "--socket")) sock = argv[i + 1];
		else if (!strcmp(argv[i], "--target")) name = argv[i + 1];
		else if (!strcmp(argv[i], "--volume")) vol = argv[i + 1];
		else if (!strcmp(argv[i], "--changes")) changes = atoi(argv[i + 1]);
	}
	if (!url || !sock || !name || !vol || changes <= 0) {
		fprintf(stderr, "usage: bollard-bench-converge --etcd URL --socket PATH "
			"--target NAME --volume NAME [--changes N]\n");
		return 2;
	}
	lat = calloc((size_t)changes, sizeof(*lat));
	put = calloc((size_t)changes, sizeof(*put));
	eo.endpoints = url;
	if (!lat || !put || bl_etcd_open(&eo, &e) < 0) {
		fprintf(stderr, "probe: cannot open etcd %s\n", url);
		goto out;
	}
	snprintf(key, sizeof(key), "/bollard/v1/objects/Target/%s", name);
	rc = bl_etcd_get(e, key, false, 1, 0, false, &kvs);
	if (rc < 0 || kvs.n != 1 ||
	    bl_obj_from_json(kvs.kvs[0].value, kvs.kvs[0].value_len, &t, NULL) < 0) {
		fprintf(stderr, "probe: no readable Target %s in etcd\n", name);
		goto out;
	}
	iqn = json_string_value(json_object_get(t->spec, "iqn"));
	if (!iqn) {
		fprintf(stderr, "probe: Target %s has no iqn\n", name);
		goto out;
	}
	if (btc_connect(sock, &c, err, sizeof(err)) < 0 || btc_subscribe(c) < 0) {
		fprintf(stderr, "probe: engine %s: %s\n", sock, c ? btc_errmsg(c) : err);
		goto out;
	}
	for (int i = 0; i < changes; i++) {
		struct btc_event ev;
		double t0, t1, deadline;
		char *body;
		int added = toggle_lun1(t->spec, vol);

		t->generation++;
		body = bl_obj_to_json(t);
		if (!body)
			goto out;
		t0 = now_ms();
		rc = bl_etcd_put(e, key, body, strlen(body), 0, NULL);
		t1 = now_ms();
		free(body);
		if (rc < 0) {
			fprintf(stderr, "probe: put: %s\n", bl_strerror(rc));
			goto out;
		}
		put[i] = t1 - t0;
		deadline = t0 + 30000;
		for (;;) {
			rc = btc_next_event(c, &ev, 1000);
			if (rc == -ETIMEDOUT && now_ms() < deadline)
				continue;
			if (rc < 0) {
				fprintf(stderr, "probe: change %d (LUN 1 %s): no engine event: %s\n",
					i + 1, added ? "added" : "removed", strerror(-rc));
				goto out;
			}
			if (ev.type == BT_EV_LUN_CHANGE && !strcmp(ev.target, iqn) && ev.lun == 1)
				break;
		}
		lat[i] = now_ms() - t0;
	}
	qsort(lat, (size_t)changes, sizeof(*lat), cmp_double);
	qsort(put, (size_t)changes, sizeof(*put), cmp_double);
	printf("etcd put -> engine event over %d changes: p50 %.1f ms, p99 %.1f ms, "
	       "max %.1f ms (etcd put alone: p50 %.1f ms)\n", changes,
	       pct(lat, (size_t)changes, 0.5), pct(lat, (size_t)changes, 0.99),
	       lat[changes - 1], pct(put, (size_t)changes, 0.5));
	ret = 0;
out:
	btc_free(c);
	bl_obj_free(t);
	bl_kvs_free(&kvs);
	if (e)
		bl_etcd_close(e);
	free(lat);
	free(put);
	return ret;
}
