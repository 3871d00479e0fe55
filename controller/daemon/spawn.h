/* spawn.h - a fork-free command runner for processes that run gRPC. */
#ifndef BL_SPAWN_H
#define BL_SPAWN_H

#include "exec.h"

/* bl_run_fn (exec.h) built on posix_spawnp; arg is unused. */
int bl_spawn_run(void *arg, const char *const *argv, const char *in,
		 size_t in_len, struct bl_run_out *o);

#endif
