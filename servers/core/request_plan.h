/* What to do with one parsed request: the stats page or the workload response, and its overrides. */
#ifndef C10K_REQUEST_PLAN_H
#define C10K_REQUEST_PLAN_H

#include "http_request.h"
#include "options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUERY_DELAY_MS_MAX 60000.0  /* /?delay_ms= up to one minute */
#define QUERY_BYTES_MAX (1u << 20)  /* /?bytes= up to 1 MiB */

typedef struct request_plan {
    bool stats;        /* GET /__stats: answered at once, never delayed nor counted as workload */
    bool head;         /* HEAD: headers only */
    bool keep_alive;
    bool custom_body;  /* body size differs from --body-bytes */
    size_t body_bytes;
    uint64_t delay_ns;
} request_plan_t;

/* Fills *plan from a complete request; returns 0, or the status to answer instead (400 for a bad
 * URL or an override that is not a number in range). */
int request_plan_make(const http_request_t *r, const server_options_t *opts, request_plan_t *plan);

#endif
