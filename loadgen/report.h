/* Reports of a result: ab-style text and the JSON document (docs/loadgen-json.md). */
#ifndef LG_REPORT_H
#define LG_REPORT_H
#include <jansson.h>
#include <stdio.h>

#include "options.h"
#include "result.h"

void lg_report_text(FILE *f, const lg_result *r);

/* The JSON "config" object for a run's options. */
json_t *lg_config_json(const lg_options *o);
/* Writes the result document to path ("-" = stdout), streaming the time series so that the
 * document is never whole in memory; 0 or -1 with a message on stderr. */
int lg_write_json(const lg_result *r, const char *path);

#endif
