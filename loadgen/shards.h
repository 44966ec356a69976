/* loadgen --processes P: one command, P worker processes. One process holds at most as many
 * connections as its open-file limit allows; past that, the run is split into workers that each
 * take an exact share of -c, -n and --rate and their own source addresses, start together, and
 * whose results the parent merges exactly (merge.c) into one report. */
#ifndef LG_SHARDS_H
#define LG_SHARDS_H
#include "options.h"
#include "result.h"

#define LG_MAX_PROCESSES 256

/* Runs one process's load with o (which it may complete, e.g. with source addresses) and writes
 * its reports; returns its exit status. */
typedef int (*lg_run_fn)(lg_options *o);
/* Writes the text and JSON reports of a result; 0 or -1. */
typedef int (*lg_output_fn)(const lg_result *r, const lg_options *o);

/* Sleeps until the wall-clock time epoch (--start-at); a time already past returns at once,
 * with a note when it is more than 10 ms late. */
void lg_start_at(double epoch);

/* How many processes -c (plus --idle) needs when one process may hold per_process connections. */
int lg_shards_needed(const lg_options *o, long per_process);

/* Forks the workers, waits for them (forwarding SIGINT/SIGTERM once), merges their results and
 * writes one report with output; returns the exit status. */
int lg_shards_run(const lg_options *o, int processes, lg_run_fn run_one, lg_output_fn output);

#endif
