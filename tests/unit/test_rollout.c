/*
 * test_rollout.c - the pure wave logic (controller/rollout/wave.c): a table
 * of scenarios driven with injected time and observations, no etcd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rollout/wave.h"

#define N 10

struct sim {
	struct bl_ro_params p;
	struct bl_ro_state s;
	struct bl_ro_cluster c[N];
	size_t n;
	int64_t now;
};

static void sim_init(struct sim *m, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->n = n;
	m->p.canary = 1;
	m->p.max_unavailable.value = 1;
	m->p.stable_ms = 1000;
	m->p.timeout_ms = 10000;
	m->now = 1000000;
	for (size_t i = 0; i < n; i++) {
		snprintf(m->c[i].name, sizeof(m->c[i].name), "c%zu", i);
		m->c[i].online = true;
		m->c[i].ready = true;
		m->c[i].needs = true;
	}
	bl_ro_restart(&m->p, &m->s, m->c, m->n, m->now);
}

static size_t count(const struct sim *m, enum bl_ro_cstate st)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		k += m->c[i].state == st;
	return k;
}

/* Advance time; admitted clusters report ready once admitted for more than
 * ready_after ms, unless listed as failing. Returns the actions taken. */
static size_t step(struct sim *m, int64_t dt, int64_t ready_after, int fail)
{
	m->now += dt;
	for (size_t i = 0; i < m->n; i++) {
		if (m->c[i].state == BL_RO_PROGRESSING)
			m->c[i].ready = (int)i != fail &&
				m->now - m->c[i].admitted_ms >= ready_after;
		else if (m->c[i].state != BL_RO_FAILED)
			m->c[i].ready = true;
	}
	return bl_ro_step(&m->p, &m->s, m->c, m->n, m->now);
}

static void canary_first(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 5);
	m.p.max_unavailable.value = 3;
	assert_int_equal(m.s.nwaves, 2);          /* canary, the rest */
	assert_int_equal(step(&m, 0, 0, -1), 1);  /* only the canary */
	assert_int_equal(m.c[0].action, BL_RO_ADMIT);
	assert_int_equal(m.c[0].state, BL_RO_PROGRESSING);
	assert_int_equal(count(&m, BL_RO_PENDING), 4);
	/* ready but not stable yet: nothing more */
	assert_int_equal(step(&m, 500, 0, -1), 0);
	assert_int_equal(m.c[0].state, BL_RO_PROGRESSING);
	assert_int_equal(step(&m, 999, 0, -1), 0);
	/* stable: canary healthy, the next wave starts with maxUnavailable 3 */
	assert_int_equal(step(&m, 1, 0, -1), 3);
	assert_int_equal(m.c[0].state, BL_RO_HEALTHY);
	assert_int_equal(m.s.wave, 1);
	assert_int_equal(count(&m, BL_RO_PROGRESSING), 3);
	/* ready seen at +1 s, stable at +2 s: 3 healthy, the 4th admitted */
	step(&m, 1000, 0, -1);
	assert_int_equal(step(&m, 1000, 0, -1), 1);
	assert_int_equal(m.c[4].state, BL_RO_PROGRESSING);
	step(&m, 1000, 0, -1);
	step(&m, 1000, 0, -1);
	assert_int_equal(m.s.phase, BL_RO_COMPLETE);
	assert_int_equal(count(&m, BL_RO_HEALTHY), 5);
}

static void waves_cut(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 10);
	m.p.waves[0] = (struct bl_ro_amount){ 1, false };
	m.p.waves[1] = (struct bl_ro_amount){ 10, true };   /* 1: reached */
	m.p.waves[2] = (struct bl_ro_amount){ 50, true };
	m.p.nwaves = 3;
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.s.nwaves, 4);
	assert_int_equal(m.s.wave_end[0], 1);
	assert_int_equal(m.s.wave_end[1], 2);
	assert_int_equal(m.s.wave_end[2], 5);
	assert_int_equal(m.s.wave_end[3], 10);      /* the rest */
	m.p.canary = 0;
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.s.wave_end[0], 1);
	assert_int_equal(m.s.wave_end[1], 5);
	assert_int_equal(m.s.nwaves, 3);
}

/* A full run: never more than maxUnavailable, waves strictly in order. */
static void max_unavailable_respected(void **st)
{
	struct sim m;
	size_t rounds = 0, last_admitted = 0;
	(void)st;
	sim_init(&m, 10);
	m.p.max_unavailable.value = 2;
	m.p.waves[0] = (struct bl_ro_amount){ 50, true };
	m.p.nwaves = 1;
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	while (m.s.phase != BL_RO_COMPLETE && rounds++ < 200) {
		step(&m, 300, 700, -1);
		assert_true(bl_ro_unavailable(m.c, m.n) <= 2);
		for (size_t i = 0; i < m.n; i++)
			if (m.c[i].action == BL_RO_ADMIT) {
				/* admitted in name order, each once */
				assert_true(i >= last_admitted);
				last_admitted = i;
				/* no cluster of a later wave before this wave is done */
				for (size_t j = 0; j < m.s.wave_end[m.s.wave ? m.s.wave - 1 : 0] && m.s.wave; j++)
					assert_int_equal(m.c[j].state, BL_RO_HEALTHY);
			}
	}
	assert_int_equal(m.s.phase, BL_RO_COMPLETE);
	assert_int_equal(count(&m, BL_RO_HEALTHY), 10);
}

static void percent_max_unavailable(void **st)
{
	struct bl_ro_params p = { 0 };
	(void)st;
	p.max_unavailable = (struct bl_ro_amount){ 10, true };
	assert_int_equal(bl_ro_max_unavailable(&p, 5), 1);     /* at least 1 */
	assert_int_equal(bl_ro_max_unavailable(&p, 100), 10);
	assert_int_equal(bl_ro_max_unavailable(&p, 199), 19);  /* rounded down */
}

static void offline_counts_unavailable(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 4);
	m.p.canary = 0;
	m.p.max_unavailable.value = 2;
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	m.c[3].online = false;          /* a cluster outside... in the wave */
	assert_int_equal(bl_ro_step(&m.p, &m.s, m.c, m.n, m.now), 1);
	assert_int_equal(m.c[0].action, BL_RO_ADMIT);
	assert_int_equal(m.c[1].action, BL_RO_NONE);
	assert_int_equal(m.c[3].action, BL_RO_NONE);   /* offline: never admitted */
	/* all the others healthy: the wave still waits for the offline one */
	m.c[0].state = BL_RO_HEALTHY;
	m.c[1].state = BL_RO_HEALTHY;
	m.c[2].state = BL_RO_HEALTHY;
	m.now += 1000;
	assert_int_equal(bl_ro_step(&m.p, &m.s, m.c, m.n, m.now), 0);
	assert_int_equal(m.s.phase, BL_RO_PROGRESS);
	assert_non_null(strstr(m.s.reason, "offline"));
	m.c[3].online = true;
	assert_int_equal(bl_ro_step(&m.p, &m.s, m.c, m.n, m.now), 1);
	assert_int_equal(m.c[3].action, BL_RO_ADMIT);
}

static void unhealthy_outside_plan_counts(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 3);
	m.c[2].needs = false;
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.c[2].state, BL_RO_UPTODATE);
	m.c[2].ready = false;           /* broken on its own: blocks admission */
	assert_int_equal(bl_ro_step(&m.p, &m.s, m.c, m.n, m.now), 0);
	m.c[2].ready = true;
	assert_int_equal(bl_ro_step(&m.p, &m.s, m.c, m.n, m.now), 1);
	assert_int_equal(m.s.nwaves, 2);   /* the plan has 2 clusters */
}

static void gate_timing(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 2);
	m.p.stable_ms = 3000;
	m.p.timeout_ms = 5000;
	step(&m, 0, 0, -1);
	m.c[0].ready = true;
	m.now += 2000;
	bl_ro_step(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.c[0].ready_since_ms, m.now);
	/* flaps: the stable window restarts */
	m.c[0].ready = false;
	m.now += 1000;
	bl_ro_step(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.c[0].ready_since_ms, 0);
	m.c[0].ready = true;
	m.now += 1000;                       /* 4 s after admission */
	bl_ro_step(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.c[0].state, BL_RO_PROGRESSING);
	m.now += 999;                        /* 4.999 s: stable 0.999 s */
	bl_ro_step(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.c[0].state, BL_RO_PROGRESSING);
	m.now += 1;                          /* the timeout passes first */
	bl_ro_step(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.c[0].state, BL_RO_FAILED);
	assert_int_equal(m.s.phase, BL_RO_HALTED);
	assert_non_null(strstr(m.s.reason, "c0"));
	assert_non_null(strstr(m.s.reason, "ready but not yet stable"));
}

static void halt_stops_everything(void **st)
{
	struct sim m;
	size_t i;
	(void)st;
	sim_init(&m, 5);
	m.p.max_unavailable.value = 5;
	for (i = 0; i < 30; i++)
		step(&m, 1000, 0, 0);            /* the canary never gets ready */
	assert_int_equal(m.c[0].state, BL_RO_FAILED);
	assert_int_equal(m.s.phase, BL_RO_HALTED);
	assert_int_equal(count(&m, BL_RO_PENDING), 4);
	assert_int_equal(step(&m, 1000, 0, -1), 0);   /* final */
	assert_int_equal(m.s.phase, BL_RO_HALTED);
}

static void rollback_restores_admitted(void **st)
{
	struct sim m;
	size_t i, rolled = 0;
	(void)st;
	sim_init(&m, 5);
	m.p.rollback = true;
	m.p.max_unavailable.value = 2;
	step(&m, 0, 0, -1);
	step(&m, 1000, 0, -1);   /* canary seen ready */
	step(&m, 1000, 0, -1);   /* canary healthy; c1, c2 admitted */
	assert_int_equal(m.c[0].state, BL_RO_HEALTHY);
	assert_int_equal(count(&m, BL_RO_PROGRESSING), 2);
	for (i = 0; i < 20 && m.s.phase == BL_RO_PROGRESS; i++)
		step(&m, 1000, 1000000, 2);      /* c2 never gets ready */
	assert_int_equal(m.s.phase, BL_RO_ROLLED_BACK);
	for (i = 0; i < m.n; i++)
		if (m.c[i].action == BL_RO_ROLLBACK)
			rolled++;
	assert_int_equal(rolled, 3);         /* c0 (healthy), c1, c2 */
	assert_int_equal(m.c[0].state, BL_RO_ROLLEDBACK);
	assert_int_equal(m.c[3].state, BL_RO_PENDING);
	assert_int_equal(m.c[3].action, BL_RO_NONE);
	assert_int_equal(step(&m, 1000, 0, -1), 0);   /* nothing twice */
}

static void paused_stops_admission(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 3);
	m.p.paused = true;
	assert_int_equal(step(&m, 0, 0, -1), 0);
	assert_int_equal(m.s.phase, BL_RO_PAUSED);
	m.p.paused = false;
	assert_int_equal(step(&m, 0, 0, -1), 1);
	/* paused while the canary runs: it still finishes, nothing else starts */
	m.p.paused = true;
	step(&m, 1000, 0, -1);
	step(&m, 1000, 0, -1);
	assert_int_equal(m.c[0].state, BL_RO_HEALTHY);
	assert_int_equal(count(&m, BL_RO_PENDING), 2);
	assert_int_equal(m.s.phase, BL_RO_PAUSED);
	m.p.paused = false;
	assert_int_equal(step(&m, 0, 0, -1), 1);
	assert_int_equal(m.c[1].state, BL_RO_PROGRESSING);
}

static void new_revision_restarts_at_canary(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 4);
	m.p.max_unavailable.value = 4;
	step(&m, 0, 0, -1);
	step(&m, 1000, 0, -1);
	step(&m, 1000, 0, -1);              /* canary done, 3 admitted */
	assert_int_equal(count(&m, BL_RO_PROGRESSING), 3);
	/* a new generation: everyone differs again */
	for (size_t i = 0; i < m.n; i++)
		m.c[i].needs = true;
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(count(&m, BL_RO_PENDING), 4);
	assert_int_equal(m.s.wave, 0);
	/* c1..c3 are still unhealthy from the old revision: counted */
	m.c[1].ready = m.c[2].ready = m.c[3].ready = false;
	m.c[0].ready = true;
	assert_int_equal(bl_ro_step(&m.p, &m.s, m.c, m.n, m.now), 1);
	assert_int_equal(m.c[0].action, BL_RO_ADMIT);   /* the canary again */
}

/* A change written in two steps: the cluster admitted by the first keeps
 * its gate (and its place as the canary) in the second revision. */
static void split_change_keeps_gate(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 3);
	for (size_t i = 1; i < m.n; i++)
		m.c[i].needs = false;       /* step 1 changed c0's object only */
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(step(&m, 0, 0, -1), 1);
	assert_int_equal(m.c[0].state, BL_RO_PROGRESSING);
	m.c[0].needs = false;               /* step 2: the others' objects */
	m.c[1].needs = m.c[2].needs = true;
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(m.c[0].state, BL_RO_PROGRESSING);
	assert_true(m.c[0].in_plan);
	assert_int_equal(m.s.wave_end[0], 1);          /* c0 is the canary */
	assert_int_equal(step(&m, 100, 0, -1), 0);     /* nobody else yet */
	assert_int_equal(count(&m, BL_RO_PENDING), 2);
	step(&m, 1000, 0, -1);
	assert_int_equal(m.c[0].state, BL_RO_HEALTHY);
	assert_int_equal(m.c[1].state, BL_RO_PROGRESSING);
}

static void nothing_to_do_is_complete(void **st)
{
	struct sim m;
	(void)st;
	sim_init(&m, 3);
	for (size_t i = 0; i < m.n; i++)
		m.c[i].needs = false;
	bl_ro_restart(&m.p, &m.s, m.c, m.n, m.now);
	assert_int_equal(bl_ro_step(&m.p, &m.s, m.c, m.n, m.now), 0);
	assert_int_equal(m.s.phase, BL_RO_COMPLETE);
}

static void names_roundtrip(void **st)
{
	(void)st;
	for (int i = BL_RO_UPTODATE; i <= BL_RO_ROLLEDBACK; i++)
		assert_int_equal(bl_ro_cstate_parse(bl_ro_cstate_name(i)), i);
	for (int i = BL_RO_PROGRESS; i <= BL_RO_ROLLED_BACK; i++)
		assert_int_equal(bl_ro_phase_parse(bl_ro_phase_name(i)), i);
	assert_int_equal(bl_ro_phase_parse("nope"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canary_first),
		cmocka_unit_test(waves_cut),
		cmocka_unit_test(max_unavailable_respected),
		cmocka_unit_test(percent_max_unavailable),
		cmocka_unit_test(offline_counts_unavailable),
		cmocka_unit_test(unhealthy_outside_plan_counts),
		cmocka_unit_test(gate_timing),
		cmocka_unit_test(halt_stops_everything),
		cmocka_unit_test(rollback_restores_admitted),
		cmocka_unit_test(paused_stops_admission),
		cmocka_unit_test(new_revision_restarts_at_canary),
		cmocka_unit_test(split_change_keeps_gate),
		cmocka_unit_test(nothing_to_do_is_complete),
		cmocka_unit_test(names_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
