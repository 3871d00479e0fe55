/*
 * wave.c - the pure rollout decision function; the model is in wave.h.
 */
#include <stdio.h>
#include <string.h>

#include "rollout/wave.h"

static const char *const cstate_names[] = {
	"UpToDate", "Pending", "Progressing", "Healthy", "Failed", "RolledBack",
};
static const char *const phase_names[] = {
	"Progressing", "Paused", "Complete", "Halted", "RolledBack",
};

const char *bl_ro_cstate_name(enum bl_ro_cstate s)
{
	return (unsigned)s < sizeof(cstate_names) / sizeof(cstate_names[0]) ?
	       cstate_names[s] : "Unknown";
}

const char *bl_ro_phase_name(enum bl_ro_phase p)
{
	return (unsigned)p < sizeof(phase_names) / sizeof(phase_names[0]) ?
	       phase_names[p] : "Unknown";
}

int bl_ro_cstate_parse(const char *s)
{
	for (size_t i = 0; s && i < sizeof(cstate_names) / sizeof(cstate_names[0]); i++)
		if (!strcmp(s, cstate_names[i]))
			return (int)i;
	return -1;
}

int bl_ro_phase_parse(const char *s)
{
	for (size_t i = 0; s && i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
		if (!strcmp(s, phase_names[i]))
			return (int)i;
	return -1;
}

static size_t plan_size(const struct bl_ro_cluster *c, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += c[i].in_plan;
	return k;
}

void bl_ro_cut_waves(const struct bl_ro_params *p, struct bl_ro_state *s,
		     const struct bl_ro_cluster *c, size_t n)
{
	size_t total = plan_size(c, n), end = 0, i;

	s->nwaves = 0;
	if (total == 0)
		return;
	if (p->canary > 0) {
		end = (size_t)p->canary < total ? (size_t)p->canary : total;
		s->wave_end[s->nwaves++] = end;
	}
	for (i = 0; i < p->nwaves && end < total && s->nwaves < BL_RO_MAX_WAVES - 1; i++) {
		size_t want;
		if (p->waves[i].pct)
			want = (size_t)(((uint64_t)total * (uint64_t)p->waves[i].value + 99) / 100);
		else
			want = end + (size_t)p->waves[i].value;
		if (want > total)
			want = total;
		if (want <= end)
			continue;       /* a percentage already reached      */
		end = want;
		s->wave_end[s->nwaves++] = end;
	}
	if (end < total)
		s->wave_end[s->nwaves++] = total;
}

void bl_ro_restart(const struct bl_ro_params *p, struct bl_ro_state *s,
		   struct bl_ro_cluster *c, size_t n, int64_t now_ms)
{
	for (size_t i = 0; i < n; i++) {
		enum bl_ro_cstate was = c[i].state;
		/* Admitted in the last revision and already at the new one (a
		 * change written in several steps): it stays in the plan, its
		 * health gate still running, so it is neither skipped nor
		 * admitted twice. */
		if (!c[i].needs && was == BL_RO_PROGRESSING) {
			c[i].in_plan = true;
			c[i].action = BL_RO_NONE;
			continue;
		}
		c[i].in_plan = c[i].needs;
		c[i].state = c[i].needs ? BL_RO_PENDING : BL_RO_UPTODATE;
		c[i].admitted_ms = 0;
		c[i].ready_since_ms = 0;
		c[i].action = BL_RO_NONE;
		if (was != c[i].state || !c[i].transition_ms)
			c[i].transition_ms = now_ms;
		snprintf(c[i].reason, sizeof(c[i].reason), "%s",
			 c[i].needs ? "new revision" : "");
	}
	memset(s, 0, sizeof(*s));
	s->phase = BL_RO_PROGRESS;
	bl_ro_cut_waves(p, s, c, n);
}

int64_t bl_ro_max_unavailable(const struct bl_ro_params *p, size_t wave_size)
{
	int64_t m = p->max_unavailable.value;
	if (p->max_unavailable.pct)
		m = (int64_t)((uint64_t)wave_size * (uint64_t)m / 100);
	return m < 1 ? 1 : m;
}

static bool unavailable(const struct bl_ro_cluster *c)
{
	return !c->online || c->state == BL_RO_PROGRESSING ||
	       c->state == BL_RO_FAILED || !c->ready;
}

size_t bl_ro_unavailable(const struct bl_ro_cluster *c, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += unavailable(&c[i]);
	return k;
}

static void set_state(struct bl_ro_cluster *c, enum bl_ro_cstate st,
		      int64_t now_ms, const char *reason)
{
	c->state = st;
	c->transition_ms = now_ms;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
}

/* Health gate of one admitted cluster. */
static void gate(const struct bl_ro_params *p, struct bl_ro_cluster *c,
		 int64_t now_ms)
{
	if (c->ready && c->online) {
		if (!c->ready_since_ms)
			c->ready_since_ms = now_ms;
		if (now_ms - c->ready_since_ms >= p->stable_ms) {
			set_state(c, BL_RO_HEALTHY, now_ms, "ready and stable");
			return;
		}
	} else {
		c->ready_since_ms = 0;
	}
	if (now_ms - c->admitted_ms >= p->timeout_ms) {
		char r[BL_RO_REASON_LEN];
		snprintf(r, sizeof(r), "not healthy within the %lld ms timeout (%s)",
			 (long long)p->timeout_ms,
			 !c->online ? "a node has no heartbeat" :
			 c->ready ? "ready but not yet stable" :
			 "governed objects not Ready at the admitted generation");
		set_state(c, BL_RO_FAILED, now_ms, r);
	}
}

size_t bl_ro_step(const struct bl_ro_params *p, struct bl_ro_state *s,
		  struct bl_ro_cluster *c, size_t n, int64_t now_ms)
{
	size_t i, nact = 0, pos, start, end, healthy = 0, total = 0;
	const struct bl_ro_cluster *failed = NULL;
	int64_t maxu, unav;

	for (i = 0; i < n; i++) {
		c[i].action = BL_RO_NONE;
		if (c[i].state == BL_RO_PROGRESSING)
			gate(p, &c[i], now_ms);
		if (c[i].state == BL_RO_FAILED && !failed)
			failed = &c[i];
	}
	if (s->phase == BL_RO_HALTED || s->phase == BL_RO_ROLLED_BACK)
		return 0;

	if (failed) {
		char fname[BL_RO_NAME_LEN], freason[BL_RO_REASON_LEN];
		snprintf(fname, sizeof(fname), "%s", failed->name);
		snprintf(freason, sizeof(freason), "%s", failed->reason);
		if (p->rollback) {
			for (i = 0; i < n; i++) {
				if (c[i].state != BL_RO_PROGRESSING &&
				    c[i].state != BL_RO_HEALTHY &&
				    c[i].state != BL_RO_FAILED)
					continue;
				c[i].action = BL_RO_ROLLBACK;
				set_state(&c[i], BL_RO_ROLLEDBACK, now_ms,
					  &c[i] == failed ? freason :
					  "rolled back with the rollout");
				nact++;
			}
			s->phase = BL_RO_ROLLED_BACK;
			snprintf(s->reason, sizeof(s->reason),
				 "cluster %s failed: %s; %zu cluster(s) rolled back",
				 fname, freason, nact);
		} else {
			s->phase = BL_RO_HALTED;
			snprintf(s->reason, sizeof(s->reason),
				 "cluster %s failed: %s", fname, freason);
		}
		return nact;
	}

	/* The current wave: the first with a planned cluster not Healthy. */
	for (i = 0; i < n; i++) {
		if (!c[i].in_plan)
			continue;
		total++;
		healthy += c[i].state == BL_RO_HEALTHY;
	}
	if (healthy == total) {
		s->phase = BL_RO_COMPLETE;
		s->wave = s->nwaves;
		snprintf(s->reason, sizeof(s->reason),
			 "%zu cluster(s) updated and healthy", total);
		return 0;
	}
	for (s->wave = 0; s->wave < s->nwaves; s->wave++) {
		bool done = true;
		start = s->wave ? s->wave_end[s->wave - 1] : 0;
		end = s->wave_end[s->wave];
		for (i = 0, pos = 0; i < n; i++) {
			if (!c[i].in_plan)
				continue;
			if (pos >= start && pos < end && c[i].state != BL_RO_HEALTHY)
				done = false;
			pos++;
		}
		if (!done)
			break;
	}
	if (s->wave >= s->nwaves)
		return 0;   /* cannot happen: healthy < total */
	start = s->wave ? s->wave_end[s->wave - 1] : 0;
	end = s->wave_end[s->wave];
	if (p->paused) {
		s->phase = BL_RO_PAUSED;
		snprintf(s->reason, sizeof(s->reason), "paused in wave %zu", s->wave);
		return 0;
	}
	s->phase = BL_RO_PROGRESS;
	maxu = bl_ro_max_unavailable(p, end - start);
	unav = (int64_t)bl_ro_unavailable(c, n);
	s->reason[0] = '\0';
	for (i = 0, pos = 0; i < n; i++) {
		if (!c[i].in_plan)
			continue;
		if (pos >= start && pos < end && c[i].state == BL_RO_PENDING) {
			bool was_unavailable = unavailable(&c[i]);
			if (!c[i].online) {
				snprintf(s->reason, sizeof(s->reason),
					 "wave %zu waits for cluster %s (offline)",
					 s->wave, c[i].name);
			} else if (unav - was_unavailable >= maxu) {
				if (!s->reason[0])
					snprintf(s->reason, sizeof(s->reason),
						 "wave %zu: %lld unavailable, maxUnavailable %lld",
						 s->wave, (long long)unav, (long long)maxu);
			} else {
				c[i].action = BL_RO_ADMIT;
				c[i].admitted_ms = now_ms;
				c[i].ready_since_ms = 0;
				set_state(&c[i], BL_RO_PROGRESSING, now_ms, "admitted");
				unav += !was_unavailable;
				nact++;
			}
		}
		pos++;
	}
	if (!s->reason[0])
		snprintf(s->reason, sizeof(s->reason), "wave %zu of %zu",
			 s->wave, s->nwaves);
	return nact;
}
