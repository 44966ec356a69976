/* Response building. The common responses are built once at startup, header and body in one
 * buffer, so answering a request costs one iovec and no formatting. */
#ifndef C10K_RESPONSE_H
#define C10K_RESPONSE_H

#include "options.h"
#include "outq.h"
#include "request_plan.h"
#include "stats.h"

#include <stdbool.h>

/* Room a caller must check for (outq_room) before queueing any one response. */
#define RESPONSE_MAX_IOV 2
#define RESPONSE_MAX_ARENA 1024

/* Precomputes the responses for this model and options; returns 0, or -1 (reported) when out of
 * memory. */
int responses_init(const char *model, const server_options_t *opts);

/* Each queueing function returns 0, or -1 when the output arena cannot be allocated. */

/* The workload response: 200 with the planned body (none for HEAD). */
int response_queue_ok(outq_t *q, const request_plan_t *plan);

/* 200 with the /__stats JSON document: the server's counters, all instances totalled. */
int response_queue_stats(outq_t *q, const request_plan_t *plan, const server_stats_t *stats);

/* An error status with a short text body and Connection: close. */
int response_queue_error(outq_t *q, int status);

/* The interim `100 Continue` for a request that sent Expect: 100-continue. */
void response_queue_continue(outq_t *q);

/* A complete 503 response for a connection refused before any request was read. */
size_t response_refusal(const char **msg);

#endif
