/*
 * bl_values.c - parsers and validators for the scalar value forms used in
 * resources: sizes, IQNs, CIDRs, durations, names, label keys, UUIDs.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bl_schema_int.h"

/* ---- sizes ---------------------------------------------------------------*/

int bl_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned dgt = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - dgt) / 10)
			return -ERANGE;
		v = v * 10 + dgt;
	}
	switch (*p) {
	case 0:   break;
	case 'K': mul = 1ull << 10; p++; break;
	case 'M': mul = 1ull << 20; p++; break;
	case 'G': mul = 1ull << 30; p++; break;
	case 'T': mul = 1ull << 40; p++; break;
	case 'P': mul = 1ull << 50; p++; break;
	default:  return -EINVAL;
	}
	if (mul > 1 && *p == 'i')
		p++;
	if (*p)
		return -EINVAL;
	if (v && mul > UINT64_MAX / v)
		return -ERANGE;
	*bytes = v * mul;
	return 0;
}

void bl_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	int u = -1;

	while (bytes && !(bytes & 1023) && u < 4) {
		bytes >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu%ci", (unsigned long long)bytes,
			 units[u]);
}

/* ---- IQNs ----------------------------------------------------------------*/

static bool all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * RFC 3720 3.2.6.3: "iqn." date "." reversed domain [":" anything], with
 * the whole name at most 223 bytes. We keep the name to lowercase ASCII
 * letters, digits and "-.:" (what the stringprep profile yields for names
 * that initiators actually accept); the date is YYYY-MM with a real month.
 */
bool bl_valid_iqn(const char *s)
{
	size_t n, i;
	const char *dom;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n > 223)
		return false;
	if (!strncmp(s, "eui.", 4))
		return n == 20 && all_hex(s + 4, 16);
	if (!strncmp(s, "naa.", 4))
		return (n == 20 || n == 36) && all_hex(s + 4, n - 4);
	if (strncmp(s, "iqn.", 4) || n < 4 + 7 + 1 + 1)
		return false;
	/* iqn.YYYY-MM. */
	for (i = 4; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	if (s[8] != '-' || !isdigit((unsigned char)s[9]) ||
	    !isdigit((unsigned char)s[10]) || s[11] != '.')
		return false;
	if ((s[9] - '0') * 10 + (s[10] - '0') < 1 ||
	    (s[9] - '0') * 10 + (s[10] - '0') > 12)
		return false;
	dom = s + 12;
	/* reversed domain: labels of [a-z0-9-], dot separated, non-empty */
	if (!*dom || *dom == '.' || *dom == ':' || *dom == '-')
		return false;
	for (i = 0; dom[i] && dom[i] != ':'; i++) {
		char c = dom[i];

		if (c == '.') {
			if (dom[i + 1] == '.' || dom[i + 1] == 0 ||
			    dom[i + 1] == ':')
				return false;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	if (dom[i] == ':') {
		const char *p = dom + i + 1;

		if (!*p)
			return false;
		for (; *p; p++) {
			char c = *p;

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '.' || c == ':'))
				return false;
		}
	}
	return true;
}

static bool valid_initiator(const char *s)
{
	return !strcmp(s, "*") || bl_valid_iqn(s);
}

/* ---- CIDR ----------------------------------------------------------------*/

int bl_parse_cidr(const char *s, struct bl_cidr *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t alen;
	long prefix = -1;
	struct bl_cidr c;

	if (!s)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (slash) {
		const char *p = slash + 1;

		if (!isdigit((unsigned char)*p) || strlen(p) > 3)
			return -EINVAL;
		if (p[0] == '0' && p[1])
			return -EINVAL;
		prefix = 0;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			prefix = prefix * 10 + (*p - '0');
		}
	}
	if (inet_pton(AF_INET, addr, c.addr) == 1) {
		c.family = AF_INET;
		if (prefix > 32)
			return -EINVAL;
		c.prefix = prefix < 0 ? 32 : (int)prefix;
	} else if (inet_pton(AF_INET6, addr, c.addr) == 1) {
		c.family = AF_INET6;
		if (prefix > 128)
			return -EINVAL;
		c.prefix = prefix < 0 ? 128 : (int)prefix;
	} else {
		return -EINVAL;
	}
	if (out)
		*out = c;
	return 0;
}

static bool valid_cidr(const char *s)
{
	return bl_parse_cidr(s, NULL) == 0;
}

/* A host address: IPv4, IPv6 or a DNS name (node addresses). */
static bool valid_host(const char *s)
{
	unsigned char b[16];
	size_t i, lab = 0, n = strlen(s);

	if (inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1)
		return true;
	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-'))
			return false;
		if (lab == 0 && c == '-')
			return false;
		if (++lab > 63)
			return false;
	}
	return lab > 0 && s[n - 1] != '-';
}

/* ---- durations -----------------------------------------------------------*/

int bl_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		uint64_t v = 0, mul;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (v > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			v = v * 10 + (uint64_t)(*p - '0');
		}
		if (p[0] == 'm' && p[1] == 's') {
			mul = 1;
			p += 2;
		} else if (*p == 's') {
			mul = 1000;
			p++;
		} else if (*p == 'm') {
			mul = 60000;
			p++;
		} else if (*p == 'h') {
			mul = 3600000;
			p++;
		} else {
			return -EINVAL;
		}
		if (v && mul > UINT64_MAX / v)
			return -ERANGE;
		if (total > UINT64_MAX - v * mul)
			return -ERANGE;
		total += v * mul;
	}
	*ms = total;
	return 0;
}

/* ---- names and labels ----------------------------------------------------*/

static bool dns_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return s[0] != '-' && s[n - 1] != '-';
}

bool bl_valid_name(const char *s)
{
	return s && dns_label(s, strlen(s));
}

/* Node names are host names: DNS-1123 labels joined by dots (subdomain). */
static bool valid_nodename(const char *s)
{
	const char *p = s, *dot;
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (;;) {
		dot = strchr(p, '.');
		if (!dns_label(p, dot ? (size_t)(dot - p) : strlen(p)))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

/* Label value: empty, or up to 63 of [A-Za-z0-9._-] starting and ending
 * alphanumeric (Kubernetes' rule, so selectors read the same). */
static bool label_name(const char *s, size_t n)
{
	size_t i;

	if (n > 63)
		return false;
	if (n == 0)
		return true;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' ||
		      s[i] == '_' || s[i] == '.'))
			return false;
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

static bool valid_label_value(const char *s)
{
	return label_name(s, strlen(s));
}

/* Label key: [prefix "/"] name; prefix a DNS subdomain, name non-empty. */
static bool valid_label_key(const char *s)
{
	const char *slash = strchr(s, '/');

	if (slash) {
		char pre[254];
		size_t pl = (size_t)(slash - s);

		if (pl == 0 || pl > 253)
			return false;
		memcpy(pre, s, pl);
		pre[pl] = 0;
		if (!valid_nodename(pre))
			return false;
		s = slash + 1;
	}
	return *s && label_name(s, strlen(s));
}

bool bl_valid_percent(const char *s, int64_t *pct)
{
	int64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > 100)
			return false;
	}
	if (p[0] != '%' || p[1] || v < 1)
		return false;
	if (pct)
		*pct = v;
	return true;
}

/* ---- uid -----------------------------------------------------------------*/

int bl_uid_new(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);  /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* ---- formats for the field tables ----------------------------------------*/

const struct bl_format bl_fmt_name = {
	"dns-label", bl_valid_name,
	"a DNS-1123 label (lowercase letters, digits and '-', starting and "
	"ending with a letter or digit, at most 63 characters)",
	"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
};
const struct bl_format bl_fmt_nodename = {
	"hostname", valid_nodename,
	"a host name (DNS-1123 labels joined by '.')",
	"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
};
const struct bl_format bl_fmt_iqn = {
	"iscsi-name", bl_valid_iqn,
	"an iSCSI name: iqn.YYYY-MM.reversed.domain[:identifier], "
	"eui.<16 hex digits> or naa.<16 or 32 hex digits>",
	"^(iqn\\.[0-9]{4}-(0[1-9]|1[0-2])\\.[a-z0-9][-a-z0-9.]*(:[-a-z0-9.:]+)?"
	"|eui\\.[0-9A-Fa-f]{16}|naa\\.([0-9A-Fa-f]{16}|[0-9A-Fa-f]{32}))$",
};
const struct bl_format bl_fmt_initiator = {
	"iscsi-initiator", valid_initiator,
	"an initiator iSCSI name (iqn./eui./naa.) or \"*\" for any initiator",
	"^(\\*|iqn\\.[0-9]{4}-(0[1-9]|1[0-2])\\.[a-z0-9][-a-z0-9.]*"
	"(:[-a-z0-9.:]+)?|eui\\.[0-9A-Fa-f]{16}|naa\\.([0-9A-Fa-f]{16}|"
	"[0-9A-Fa-f]{32}))$",
};
const struct bl_format bl_fmt_cidr = {
	"cidr", valid_cidr,
	"an IPv4 or IPv6 address with an optional prefix length "
	"(192.0.2.10/24, 2001:db8::10/64)",
	NULL,
};
const struct bl_format bl_fmt_host = {
	"host", valid_host,
	"an IPv4 address, IPv6 address or DNS name",
	NULL,
};
const struct bl_format bl_fmt_label_key = {
	"label-key", valid_label_key,
	"a label key: [DNS subdomain '/'] name, name at most 63 of "
	"[A-Za-z0-9._-] starting and ending alphanumeric",
	NULL,
};
const struct bl_format bl_fmt_label_value = {
	"label-value", valid_label_value,
	"a label value: empty or at most 63 of [A-Za-z0-9._-] starting and "
	"ending alphanumeric",
	NULL,
};
