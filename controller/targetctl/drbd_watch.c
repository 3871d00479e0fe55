/*
 * drbd_watch.c - the states of a DRBD 8.4 minor that say a promote is not
 * coming to this node (drbd_watch.h), for `bollard target enable --wait`.
 *
 * Why: ocf:bollard:target may start beside the DRBD promote instead of
 * after it (one Pacemaker round trip less per failover). Its start retries
 * the enable until every LUN's device opens for writing, which DRBD 8.4
 * allows only on a Primary. When the promote goes to the other node
 * instead (the scheduler changed its mind while master scores settled at
 * set-up), waiting out the start's timeout (~2 minutes) blocks every
 * recovery meanwhile. /proc/drbd tells early enough:
 *   - ro:Secondary/Primary: the peer holds the Primary role, and 8.4 (no
 *     dual-primary here) will not promote this side while it does. In a
 *     planned switchover the old node may still be demoting when the
 *     start begins, hence a grace: only a peer that stays Primary for it
 *     counts;
 *   - ds: local part Diskless, Failed, Outdated or Inconsistent: no
 *     up-to-date data here to promote (Inconsistent can end in a resync;
 *     failing then costs a retry after the group's failure-timeout);
 *   - cs:Unconfigured, or no line at all: the resource is not up here.
 * Anything else keeps the wait going: Secondary/Unknown is what a
 * survivor shows while its own promote is being scheduled (the peer
 * died), and Primary means the next enable should open the device.
 *
 * Each clock restarts when the verdict changes, so the message names a
 * state that really held for the whole grace.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "drbd_watch.h"

static void word(char *dst, size_t cap, const char *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, p, n);
	dst[n] = 0;
}

/* "A/B" (or "A") into a and b. */
static void pair(char *a, size_t acap, char *b, size_t bcap,
		 const char *p, size_t n)
{
	const char *slash = memchr(p, '/', n);

	if (!slash) {
		word(a, acap, p, n);
		b[0] = 0;
		return;
	}
	word(a, acap, p, (size_t)(slash - p));
	word(b, bcap, slash + 1, n - (size_t)(slash - p) - 1);
}

/* The words after "N:" on a minor's line. Unknown words are skipped. */
static void parse_words(const char *p, const char *eol, struct dw_minor *m)
{
	while (p < eol) {
		const char *w;
		size_t n;

		while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		w = p;
		while (p < eol && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		n = (size_t)(p - w);
		if (n < 3 || w[2] != ':')
			continue;
		if (!memcmp(w, "cs", 2))
			word(m->cs, sizeof(m->cs), w + 3, n - 3);
		else if (!memcmp(w, "ro", 2) || !memcmp(w, "st", 2)) /* st: 8.3 */
			pair(m->role, sizeof(m->role), m->peer_role,
			     sizeof(m->peer_role), w + 3, n - 3);
		else if (!memcmp(w, "ds", 2))
			pair(m->disk, sizeof(m->disk), m->peer_disk,
			     sizeof(m->peer_disk), w + 3, n - 3);
	}
}

/* "version: 9.2.4 (api:2/...)": DRBD 9 or later lists no minors. */
static bool version_9_or_later(const char *p, const char *eol)
{
	unsigned long major = 0;
	bool digits = false;

	if (eol - p < 8 || memcmp(p, "version:", 8))
		return false;
	for (p += 8; p < eol && *p == ' '; p++)
		;
	for (; p < eol && *p >= '0' && *p <= '9' && major < 1000; p++) {
		major = major * 10 + (unsigned long)(*p - '0');
		digits = true;
	}
	return digits && major >= 9;
}

int dw_proc_minor(const char *text, size_t len, unsigned minor,
		  struct dw_minor *m)
{
	const char *p = text, *end = text + len;

	memset(m, 0, sizeof(*m));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p;
		unsigned long v = 0;
		bool digits = false;

		if (!eol)
			eol = end;
		if (version_9_or_later(p, eol))
			return -ENOTSUP;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		for (; q < eol && *q >= '0' && *q <= '9'; q++) {
			if (v <= UINT_MAX)   /* past it: no minor matches */
				v = v * 10 + (unsigned long)(*q - '0');
			digits = true;
		}
		if (digits && q < eol && *q == ':' && v == minor) {
			m->present = true;
			parse_words(q + 1, eol, m);
			return 0;    /* the first line for a minor counts */
		}
		if (eol == end)
			break;
		p = eol + 1;
	}
	return 0;
}

static bool disk_hopeless(const char *ds)
{
	static const char *const bad[] = {
		"Diskless", "Failed", "Outdated", "Inconsistent", NULL,
	};

	for (int i = 0; bad[i]; i++)
		if (!strcmp(ds, bad[i]))
			return true;
	return false;
}

enum dw_verdict dw_judge(const struct dw_minor *m)
{
	if (!m->present)
		return DW_MISSING;
	if (!strcmp(m->cs, "Unconfigured"))
		return DW_UNCONFIGURED;
	if (!strcmp(m->role, "Primary"))
		return DW_WAIT;
	/* The peer first: with it Primary, that is the reason even when the
	 * local disk is behind (SyncTarget, Inconsistent). */
	if (!strcmp(m->role, "Secondary") && !strcmp(m->peer_role, "Primary"))
		return DW_PEER_PRIMARY;
	if (disk_hopeless(m->disk))
		return DW_DISK;
	return DW_WAIT;
}

int dw_dev_minor(const char *path, unsigned *minor)
{
	static const char pre[] = "/dev/drbd";
	const char *p;
	unsigned long v = 0;

	if (strncmp(path, pre, sizeof(pre) - 1))
		return -EINVAL;
	p = path + sizeof(pre) - 1;
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 1048575)    /* DRBD's minors stay far below 2^20 */
			return -EINVAL;
	}
	*minor = (unsigned)v;
	return 0;
}

int dw_step(struct dw_track *t, size_t n, const char *text, size_t len,
	    uint64_t now_ms, uint64_t grace_ms)
{
	int hit = -1;

	for (size_t i = 0; i < n; i++) {
		enum dw_verdict v = DW_WAIT;
		struct dw_minor m = { 0 };

		if (text && dw_proc_minor(text, len, t[i].minor, &m) == 0)
			v = dw_judge(&m);
		else
			memset(&m, 0, sizeof(m));   /* -ENOTSUP filled nothing */
		if (v != t[i].verdict) {
			t[i].verdict = v;
			t[i].since_ms = now_ms;
		}
		t[i].seen = m;
		if (v != DW_WAIT && hit < 0 && now_ms - t[i].since_ms >= grace_ms)
			hit = (int)i;
	}
	return hit;
}

/* "cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate", the parts
 * DRBD said. */
static void state_text(const struct dw_minor *m, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	if (m->cs[0])
		o += (size_t)snprintf(buf + o, len - o, "cs:%s", m->cs);
	if (m->role[0] && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%sro:%s%s%s", o ? " " : "",
				      m->role, m->peer_role[0] ? "/" : "", m->peer_role);
	if (m->disk[0] && o < len)
		snprintf(buf + o, len - o, "%sds:%s%s%s", o ? " " : "",
			 m->disk, m->peer_disk[0] ? "/" : "", m->peer_disk);
}

void dw_describe(const struct dw_track *t, uint64_t grace_ms, const char *proc,
		 char *buf, size_t len)
{
	char st[128], g[32];

	if (grace_ms % 1000 == 0)
		snprintf(g, sizeof(g), "%llu s", (unsigned long long)(grace_ms / 1000));
	else
		snprintf(g, sizeof(g), "%llu ms", (unsigned long long)grace_ms);
	state_text(&t->seen, st, sizeof(st));
	switch (t->verdict) {
	case DW_PEER_PRIMARY:
		snprintf(buf, len, "%s is Secondary and its peer Primary for %s "
			 "(%s: %s): the promote is not coming here; giving up",
			 t->dev, g, proc, st);
		break;
	case DW_DISK:
		snprintf(buf, len, "%s's local disk is %s for %s (%s: %s): it "
			 "cannot be promoted here; giving up",
			 t->dev, t->seen.disk, g, proc, st);
		break;
	case DW_UNCONFIGURED:
		snprintf(buf, len, "%s is Unconfigured for %s (%s: %s): it cannot "
			 "be promoted here; giving up", t->dev, g, proc, st);
		break;
	case DW_MISSING:
		snprintf(buf, len, "%s (minor %u) is not in %s for %s: it cannot "
			 "be promoted here; giving up", t->dev, t->minor, proc, g);
		break;
	default:
		snprintf(buf, len, "%s: %s: still waiting", t->dev, st);
		break;
	}
}
