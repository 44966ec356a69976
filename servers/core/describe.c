#include "describe.h"

#include <jansson.h>
#include <stdio.h>
#include <sys/resource.h>

static json_t *limit_or_null(long long v)
{
    return v > 0 ? json_integer(v) : json_null();
}

static long long read_proc_number(const char *path)
{
    FILE *f = fopen(path, "r");
    long long v = -1;
    if (f) {
        if (fscanf(f, "%lld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static long long open_files_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return -1;
    return (long long)rl.rlim_cur;
}

static const char *task_name(model_task_t t)
{
    return t == TASK_THREAD ? "thread" : t == TASK_PROCESS ? "process" : NULL;
}

unsigned model_processes(const model_traits_t *m, const server_options_t *opts)
{
    return (m->uses & MODEL_USES_WORKERS) ? opts->workers : 1;
}

unsigned model_instances(const model_traits_t *m, const server_options_t *opts)
{
    return m->loop_per_thread ? opts->threads : model_processes(m, opts);
}

static json_t *max_inflight(const model_traits_t *m, const server_options_t *opts)
{
    switch (m->inflight) {
    case INFLIGHT_ONE:
        return json_integer(1);
    case INFLIGHT_THREADS:
        return json_integer(opts->threads);
    case INFLIGHT_WORKERS:
        return json_integer(opts->workers);
    case INFLIGHT_CONNECTIONS:
        break;
    }
    return json_null(); /* bounded by the connections it holds, not by design */
}

int describe_print(const model_traits_t *m, const server_options_t *opts)
{
    const char *task = task_name(m->task_per_connection);
    json_t *options = json_array();
    if (m->uses & MODEL_USES_THREADS)
        json_array_append_new(options, json_string("threads"));
    if (m->uses & MODEL_USES_WORKERS)
        json_array_append_new(options, json_string("workers"));
    json_t *limits = json_pack(
        "{s:o, s:o, s:o, s:o}",
        "fd_setsize", limit_or_null(m->watch_fd_limit),
        /* per process: a multi-process model holds up to processes x this many connections */
        "open_files_per_process", limit_or_null(open_files_limit()),
        "pid_max", task ? limit_or_null(read_proc_number("/proc/sys/kernel/pid_max")) : json_null(),
        "threads_max", task ? limit_or_null(read_proc_number("/proc/sys/kernel/threads-max")) : json_null());
    json_t *doc = json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:b, s:o, s:o, s:i, s:i, s:o, s:o, s:o}",
        "model", m->name, "rank", (json_int_t)m->rank, "description", m->description,
        "driver", m->driver, "mechanism", m->mechanism, "edge_triggered", m->edge_triggered,
        "task_per_connection", task ? json_string(task) : json_null(),
        "max_inflight", max_inflight(m, opts),
        "processes", (json_int_t)model_processes(m, opts),
        "instances", (json_int_t)model_instances(m, opts),
        "threads", (m->uses & MODEL_USES_THREADS) ? json_integer(opts->threads) : json_null(),
        "options", options, "limits", limits);
    if (!doc)
        return -1;
    int rc = json_dumpf(doc, stdout, JSON_SORT_KEYS) == 0 && putchar('\n') != EOF && fflush(stdout) == 0 ? 0 : -1;
    json_decref(doc);
    return rc;
}
