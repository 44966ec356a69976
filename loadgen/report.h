/* Reports of a result: ab-style text and the JSON document (docs/loadgen-json.md). */
#ifndef LG_REPORT_H
#define LG_REPORT_H
#include <jansson.h>
#include <stdio.h>

#include "options.h"
#include "result.h"

void lg_report_text(FILE *f, const lg_result *r);
/* One row of the "Connection Times" table: min, mean, sd, median, max of h in milliseconds. */
void lg_report_table_row(FILE *f, const char *name, const hist *h);
/* report_tls.c: whether the run was https://, and its TLS lines of the text report. */
int lg_report_is_tls(const lg_result *r);
void lg_report_tls_text(FILE *f, const lg_result *r);

/* The JSON "config" object for a run's options. */
json_t *lg_config_json(const lg_options *o);
/* Writes the result document to path ("-" = stdout), streaming the time series so that the
 * document is never whole in memory; 0 or -1 with a message on stderr. */
int lg_write_json(const lg_result *r, const char *path);

#endif
