/*
 * input.c - `-f` sources: files, directories, "-" and http(s):// URLs.
 *
 * Files, directories and stdin go straight to bl_parse_path; a URL is
 * fetched whole with libcurl (capped at BL_MAX_FILE_SIZE) and parsed with
 * bl_parse_buf under the URL's name, so messages read "URL:line:col: ...".
 *
 * libcurl is loaded with dlopen() when a URL is actually fetched, not
 * linked: its ~30 shared libraries (gnutls, krb5, ldap, ssh2, ...) would
 * cost every `bollard` invocation ~20 ms of dynamic loading, for a feature
 * few invocations use (docs/etcd.md, "start-up cost").
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "bl_schema.h"
#include "cli.h"

static bool is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool input_is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

struct fetch_buf {
	char *p;
	size_t len, cap;
	bool too_big;
};

static size_t fetch_write(char *data, size_t sz, size_t nm, void *arg)
{
	struct fetch_buf *b = arg;
	size_t n = sz * nm;

	if (b->len + n + 1 > BL_MAX_FILE_SIZE) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 8192;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
	return n;
}

/* The libcurl entry points we use, resolved at run time. */
struct curl_api {
	void *lib;
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
};

static int curl_load(struct curl_api *a, char *errbuf, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!a->lib) {
		snprintf(errbuf, errlen, "fetching a URL needs libcurl (libcurl4): %s",
			 dlerror());
		return BL_E_UNAVAILABLE;
	}
	*(void **)&a->easy_init = dlsym(a->lib, "curl_easy_init");
	*(void **)&a->easy_setopt = dlsym(a->lib, "curl_easy_setopt");
	*(void **)&a->easy_perform = dlsym(a->lib, "curl_easy_perform");
	*(void **)&a->easy_getinfo = dlsym(a->lib, "curl_easy_getinfo");
	*(void **)&a->easy_strerror = dlsym(a->lib, "curl_easy_strerror");
	*(void **)&a->easy_cleanup = dlsym(a->lib, "curl_easy_cleanup");
	if (!a->easy_init || !a->easy_setopt || !a->easy_perform ||
	    !a->easy_getinfo || !a->easy_strerror || !a->easy_cleanup) {
		snprintf(errbuf, errlen, "libcurl.so.4 lacks curl_easy_* symbols");
		dlclose(a->lib);
		return BL_E_UNAVAILABLE;
	}
	return 0;
}

int input_fetch_url(const char *url, const char *cacert, const char *cert,
		    const char *key, long timeout_ms, char **buf, size_t *len,
		    char *errbuf, size_t errlen)
{
	struct fetch_buf b = { 0 };
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_api a;
	CURL *h;
	CURLcode cc;
	long status = 0;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	rc = curl_load(&a, errbuf, errlen);
	if (rc < 0)
		return rc;
	h = a.easy_init();
	if (!h) {
		dlclose(a.lib);
		return -ENOMEM;
	}
	a.easy_setopt(h, CURLOPT_URL, url);
	a.easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
	a.easy_setopt(h, CURLOPT_WRITEDATA, &b);
	a.easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	a.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	a.easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	a.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	a.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	a.easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (timeout_ms > 0)
		a.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (cacert)
		a.easy_setopt(h, CURLOPT_CAINFO, cacert);
	if (cert)
		a.easy_setopt(h, CURLOPT_SSLCERT, cert);
	if (key)
		a.easy_setopt(h, CURLOPT_SSLKEY, key);
	cc = a.easy_perform(h);
	a.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (b.too_big) {
		snprintf(errbuf, errlen, "larger than %u bytes",
			 BL_MAX_FILE_SIZE);
		rc = BL_E_PARSE;
	} else if (cc != CURLE_OK) {
		snprintf(errbuf, errlen, "%s", cerr[0] ? cerr :
			 a.easy_strerror(cc));
		rc = cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : BL_E_UNAVAILABLE;
	} else if (status < 200 || status > 299) {
		snprintf(errbuf, errlen, "HTTP status %ld", status);
		rc = BL_E_UNAVAILABLE;
	}
	a.easy_cleanup(h);
	dlclose(a.lib);
	if (rc < 0) {
		free(b.p);
		return rc;
	}
	if (!b.p) {
		b.p = strdup("");
		if (!b.p)
			return -ENOMEM;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}

/*
 * A JSON List ({"kind":"List","items":[...]}, what `get -o json` prints for
 * several objects) is unwrapped here: each item is parsed on its own, named
 * "<src>#items[i]" in messages. Returns 1 when buf was not such a List (the
 * caller parses it normally), else 0 or the first parse error.
 */
static int parse_json_list(const char *name, const char *buf, size_t len,
			   struct bl_objlist *list, struct bl_diag *diag)
{
	size_t i = 0;
	json_t *v, *items;
	const char *kind;
	int first = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' ||
			   buf[i] == '\r'))
		i++;
	if (i == len || buf[i] != '{')
		return 1;
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	kind = v ? json_string_value(json_object_get(v, "kind")) : NULL;
	items = v ? json_object_get(v, "items") : NULL;
	if (!kind || strcmp(kind, "List") || !json_is_array(items)) {
		json_decref(v);
		return 1;
	}
	for (i = 0; i < json_array_size(items); i++) {
		char *item = json_dumps(json_array_get(items, i),
					JSON_COMPACT | JSON_ENCODE_ANY);
		char *iname = NULL;
		int rc;

		if (!item || asprintf(&iname, "%s#items[%zu]", name, i) < 0) {
			free(item);
			json_decref(v);
			return -ENOMEM;
		}
		rc = bl_parse_buf(iname, item, strlen(item), list, diag);
		free(item);
		free(iname);
		if (rc < 0 && !first)
			first = rc;
	}
	json_decref(v);
	return first;
}

/* Whole file (or stdin for "-") into memory. *len > BL_MAX_FILE_SIZE
 * means "too big" (reading stopped there). NULL: unreadable or ENOMEM. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t cap = 65536, n = 0;
	char *buf = f ? malloc(cap) : NULL;

	while (buf) {
		size_t r;

		if (n == cap) {
			char *nb = n > BL_MAX_FILE_SIZE ? NULL :
				   realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (f && f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

int input_load(const char *const *paths, size_t n, struct bl_objlist *list,
	       struct bl_diag *diag)
{
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		int rc;

		if (input_is_url(paths[i])) {
			char *buf;
			size_t len;
			char errbuf[CURL_ERROR_SIZE + 64];

			rc = input_fetch_url(paths[i], NULL, NULL, NULL, 30000,
					     &buf, &len, errbuf,
					     sizeof(errbuf));
			if (rc < 0) {
				bl_diag_add(diag, paths[i], 0, 0, NULL,
					    "cannot fetch: %s", errbuf);
			} else {
				rc = bl_parse_buf(paths[i], buf, len, list,
						  diag);
				free(buf);
			}
		} else if (!strcmp(paths[i], "-") || is_regular(paths[i])) {
			size_t len = 0;
			char *buf = slurp(paths[i], &len);
			const char *name = strcmp(paths[i], "-") ? paths[i] :
					   "<stdin>";

			if (!buf || len > BL_MAX_FILE_SIZE) {
				free(buf);
				if (!strcmp(paths[i], "-")) {
					bl_diag_add(diag, name, 0, 0, NULL,
						    "cannot read, or larger "
						    "than %u bytes",
						    BL_MAX_FILE_SIZE);
					rc = BL_E_PARSE;
				} else {
					rc = bl_parse_path(paths[i], list,
							   diag);
				}
			} else {
				rc = parse_json_list(name, buf, len, list,
						     diag);
				if (rc == 1)
					rc = strcmp(paths[i], "-") ?
					     bl_parse_path(paths[i], list,
							   diag) :
					     bl_parse_buf(name, buf, len, list,
							  diag);
				free(buf);
			}
		} else {
			rc = bl_parse_path(paths[i], list, diag);
		}
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}
