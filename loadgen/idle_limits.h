/* Whether -c plus --idle can run here: checked before anything starts (no fork, no connect). */
#ifndef LG_IDLE_LIMITS_H
#define LG_IDLE_LIMITS_H
#include <stddef.h>
#include <sys/socket.h>

#include "options.h"

/* processes: how many the run will use; per_process: connections one process can hold under the
 * open-file limit nofile (<= 0: unknown). Returns 0, or -1 with a message in err naming the limit
 * that makes the run impossible: file descriptors (RLIMIT_NOFILE), processes, or the local ports
 * of a source address to target. */
int lg_idle_check_limits(const lg_options *o, int processes, long per_process, long nofile,
                         const struct sockaddr_storage *target, char *err, size_t errlen);

#endif
