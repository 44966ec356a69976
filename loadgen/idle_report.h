/* The reports' part about --idle connections (idle_report.c). */
#ifndef LG_IDLE_REPORT_H
#define LG_IDLE_REPORT_H
#include <jansson.h>
#include <stdio.h>

#include "counts.h"
#include "options.h"
#include "result.h"

/* Adds "idle" and "idle_mode" to the JSON "config". */
void lg_idle_config_json(json_t *config, const lg_options *o);
/* The top-level "idle" object: requested, opened, held_at_end, failed_to_open, closed_by_server. */
json_t *lg_idle_json(const lg_counts *c);
/* --merge: the merged config holds the idle connections of every part. */
void lg_idle_merge_config(json_t *merged, const json_t *part);
/* The text report's idle lines (none when no idle connection was asked for). */
void lg_idle_report_text(FILE *f, const lg_result *r);

#endif
