/* fuzz_host.h - in-memory host for the libFuzzer targets (fuzz_host.c). */
#ifndef BT_FUZZ_HOST_H
#define BT_FUZZ_HOST_H

#include "bt_engine.h"

#define FUZZ_TIQN      "iqn.2026-01.io.bollard.fuzz:t"
#define FUZZ_TIQN_CHAP "iqn.2026-01.io.bollard.fuzz:chap"

struct fuzz_conn {
	unsigned long sent;
	int closed;
};

/* The process's engine, created on first use. */
struct bt_engine *fuzz_engine(void);
/* Advance the fake clock and run the engine's timers. */
void fuzz_tick(struct bt_engine *e, u64 advance_ms);

#endif
