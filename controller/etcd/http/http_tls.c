/*
 * http_tls.c - load OpenSSL's libssl (and through it libcrypto) at run
 * time for https:// endpoints; see http_tls.h for why.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "http_tls.h"

struct bl_tls *bl__tls_load(char *msg, size_t len)
{
	struct bl_tls *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	t->lib = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!t->lib) {
		snprintf(msg, len, "https:// endpoints need OpenSSL 3 (libssl3): %s",
			 dlerror());
		free(t);
		return NULL;
	}
#define BL_TLS_LOAD(ret, name, args) \
	*(void **)&t->name = dlsym(t->lib, #name); \
	if (!t->name) { \
		snprintf(msg, len, "libssl.so.3 lacks %s", #name); \
		goto out_unload; \
	}
	BL_TLS_FUNCS(BL_TLS_LOAD)
#undef BL_TLS_LOAD
	return t;

out_unload:
	bl__tls_unload(t);
	return NULL;
}

void bl__tls_unload(struct bl_tls *t)
{
	if (!t)
		return;
	dlclose(t->lib);
	free(t);
}
