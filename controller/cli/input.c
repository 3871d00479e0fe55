/*
 * input.c - `-f` sources: files, directories, "-" and http(s):// URLs.
 *
 * Files, directories and stdin go straight to bl_parse_path; a URL is
 * fetched whole with libcurl (capped at BL_MAX_FILE_SIZE) and parsed with
 * bl_parse_buf under the URL's name, so messages read "URL:line:col: ...".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "bl_schema.h"
#include "cli.h"

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

int input_fetch_url(const char *url, const char *cacert, const char *cert,
		    const char *key, long timeout_ms, char **buf, size_t *len,
		    char *errbuf, size_t errlen)
{
	struct fetch_buf b = { 0 };
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *h = curl_easy_init();
	CURLcode cc;
	long status = 0;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	if (!h)
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
	if (cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
	if (key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (b.too_big) {
		snprintf(errbuf, errlen, "larger than %u bytes",
			 BL_MAX_FILE_SIZE);
		rc = BL_E_PARSE;
	} else if (cc != CURLE_OK) {
		snprintf(errbuf, errlen, "%s", cerr[0] ? cerr :
			 curl_easy_strerror(cc));
		rc = cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : BL_E_UNAVAILABLE;
	} else if (status < 200 || status > 299) {
		snprintf(errbuf, errlen, "HTTP status %ld", status);
		rc = BL_E_UNAVAILABLE;
	}
	curl_easy_cleanup(h);
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
		} else {
			rc = bl_parse_path(paths[i], list, diag);
		}
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}
