/* A stand-in for the loop's backend (backend.h), so the loop runs in a unit test without any fd:
 * registrations are accepted and forgotten. The test defines backend_wait(), which scripts what
 * each wait reports. Included by one file per test executable. */
#ifndef C10K_STANDIN_BACKEND_H
#define C10K_STANDIN_BACKEND_H

#include "backend.h"

const model_traits_t backend_model = {.name = "unit"};
static int standin_backend;

backend_t *backend_new(void) { return (backend_t *)&standin_backend; }
void backend_free(backend_t *b) { (void)b; }
long backend_fd_limit(void) { return 1024; }
int backend_add(backend_t *b, int fd, unsigned events) { (void)b, (void)fd, (void)events; return 0; }
int backend_mod(backend_t *b, int fd, unsigned o, unsigned e) { (void)b, (void)fd, (void)o, (void)e; return 0; }
void backend_del(backend_t *b, int fd, unsigned o) { (void)b, (void)fd, (void)o; }

#endif
