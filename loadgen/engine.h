/* The measuring engine: per-thread epoll loops driving -c connections (wrk's shape). */
#ifndef LG_ENGINE_H
#define LG_ENGINE_H
#include <stddef.h>
#include <sys/socket.h>

#include "options.h"
#include "result.h"

/* Runs the load described by o against target and fills r. Returns 0 when the run happened
 * (whatever failed inside it), -1 when it could not start (message in err). SIGINT/SIGTERM stop
 * the run early; r->interrupted tells. */
int lg_engine_run(const lg_options *o, const struct sockaddr_storage *target, socklen_t target_len,
                  lg_result *r, char *err, size_t errlen);

/* Builds the request bytes sent on every request; NULL on allocation failure. */
char *lg_build_request(const lg_options *o, size_t *len);
/* Whether the user gave header name (-H, -C), case-insensitively. */
int lg_request_has_header(const lg_options *o, const char *name);

#endif
