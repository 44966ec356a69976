/* The limits -c plus --idle meet: file descriptors per process, processes, ports per source
 * address. A run that cannot hold them all is refused before it starts: one that held fewer idle
 * connections than asked would measure another experiment. */
#include "idle_limits.h"

#include <stdio.h>

#include "shards.h"
#include "source_range.h"

/* Processes: as many as the open-file limit asks for, at most LG_MAX_PROCESSES, and each one
 * carries part of -c (a process without load would have no run to hold its connections for). */
static int check_processes(const lg_options *o, long conns, long per_process, long nofile,
                           char *err, size_t errlen)
{
    long needed = (conns + per_process - 1) / per_process;
    if (needed > LG_MAX_PROCESSES) {
        snprintf(err, errlen, "-c %d plus --idle %d need %ld processes under the open-file limit "
                 "(RLIMIT_NOFILE %ld: %ld connections per process), but a run has at most %d "
                 "processes: use a smaller --idle", o->concurrency, o->idle, needed, nofile,
                 per_process, LG_MAX_PROCESSES);
        return -1;
    }
    if (needed > o->concurrency) {
        snprintf(err, errlen, "-c %d plus --idle %d need %ld processes under the open-file limit "
                 "(RLIMIT_NOFILE %ld: %ld connections per process), but each process carries part "
                 "of -c, so -c must be at least %ld: use a larger -c or a smaller --idle",
                 o->concurrency, o->idle, needed, nofile, per_process, needed);
        return -1;
    }
    return 0;
}

int lg_idle_check_limits(const lg_options *o, int processes, long per_process, long nofile,
                         const struct sockaddr_storage *target, char *err, size_t errlen)
{
    long conns = (long)o->concurrency + o->idle;
    if (per_process > 0) {
        if (check_processes(o, conns, per_process, nofile, err, errlen))
            return -1;
        long share = (conns + processes - 1) / processes;
        if (share > per_process) {
            snprintf(err, errlen, "-c %d plus --idle %d in %d process%s need %ld file descriptors in "
                     "one process, but the open-file limit (RLIMIT_NOFILE) is %ld: use --processes "
                     "%ld or more", o->concurrency, o->idle, processes, processes == 1 ? "" : "es",
                     share + (nofile - per_process), nofile, (conns + per_process - 1) / per_process);
            return -1;
        }
    }
    return lg_sources_check_ports(o, conns, target, err, errlen);
}
