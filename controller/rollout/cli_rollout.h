/*
 * cli_rollout.h - `bollard rollout status|pause|resume|undo|history`
 * (cli_rollout.c, linked into build/bollard by controller/rollout/rollout.mk).
 *
 * Exit codes of `status`: 0 the rollout completed (every planned cluster
 * Healthy at the newest revision), 1 halted, failed or rolled back (or an
 * error), 2 --timeout passed first, 3 still in progress (--no-wait only).
 */
#ifndef BL_CLI_ROLLOUT_H
#define BL_CLI_ROLLOUT_H

struct cli;

int cmd_rollout(struct cli *c, int argc, char **argv);
/* `bollard fleet-sim` (fleet_sim.c): simulated clusters for rehearsals. */
int cmd_fleet_sim(struct cli *c, int argc, char **argv);

#endif
