/* loadgen: an ab-compatible, event-driven, multi-threaded HTTP/1.1 load generator.
 * Exit status: 0 when the run completed (failed requests are counted in the report),
 * 1 when it could not start or could not write its result, 2 for usage errors. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "env.h"
#include "idle_limits.h"
#include "merge.h"
#include "options.h"
#include "report.h"
#include "result.h"
#include "shards.h"
#include "source_range.h"
#include "transport.h"

/* File descriptors needed besides the connections: stdio, per-thread epoll + eventfd, files. */
#define FD_RESERVE 16

static int output(const lg_result *r, const lg_options *o)
{
    if (r->counts.junk_after_response)
        fprintf(stderr, "loadgen: warning: %llu responses were followed by bytes that belong to no "
                        "response; loadgen closed each such connection%s\n",
                (unsigned long long)r->counts.junk_after_response,
                r->keepalive ? ", so -k reopened it (the server sends more than it frames)" : "");
    int to_stdout = o->json_path && strcmp(o->json_path, "-") == 0;
    if (!to_stdout) {
        lg_report_text(stdout, r);
        if (fflush(stdout) != 0) {
            perror("loadgen: writing the report");
            return -1;
        }
    }
    if (o->json_path && lg_write_json(r, o->json_path))
        return -1;
    return 0;
}

static int run_merge(const lg_options *o)
{
    lg_result *r = lg_result_new();
    if (!r) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    char err[1024];
    if (lg_merge_files(o->merge_files, o->nmerge, r,
                       o->allow_mixed_targets ? LG_MERGE_ALLOW_MIXED_TARGETS : 0, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        lg_result_free(r);
        return 2;
    }
    int rc = output(r, o) ? 1 : 0;
    lg_result_free(r);
    return rc;
}

static int run_load(lg_options *o)
{
    long nofile = lg_env_raise_nofile();
    int threads = o->threads;
    if (nofile > 0 && (long)o->concurrency + 2L * threads + FD_RESERVE > nofile) {
        fprintf(stderr,
                "loadgen: -c %d needs %d file descriptors but the open-file limit (RLIMIT_NOFILE) is "
                "%ld: use -c %ld or less here, or several processes and --merge\n",
                o->concurrency, o->concurrency + 2 * threads + FD_RESERVE, nofile,
                nofile - 2L * threads - FD_RESERVE);
        return 2;
    }
    struct sockaddr_storage target;
    socklen_t tlen;
    char err[1024] = "";
    if (lg_url_resolve(&o->url, &target, &tlen, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        return 2;
    }
    char note[512];
    int warning;
    if (lg_sources_choose(o, &target, note, sizeof note, &warning)) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    /* A note says what loadgen chose, which the report and the JSON say too: -q hides it. A
     * warning explains failures to come: -q keeps it. Worker processes choose alike, so only the
     * first one speaks: one line, not one per worker. */
    if (*note && o->worker <= 1 && (warning || !o->quiet))
        fprintf(stderr, "loadgen: %s%s%s\n", warning ? "warning: " : "note: ",
                o->worker ? "in each worker process (the first one's figures): " : "", note);
    if (lg_sources_check(o->sources, o->nsources, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        return 2;
    }
    if (o->url.tls && lg_tls_check_options(o, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        return 2;
    }
    lg_result *r = lg_result_new();
    if (!r) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    snprintf(r->host, sizeof r->host, "%s", o->url.host);
    r->port = o->url.port;
    snprintf(r->path, sizeof r->path, "%s", o->url.path);
    r->concurrency = o->concurrency;
    r->keepalive = o->keepalive;
    r->rate = o->rate;
    r->config = lg_config_json(o);
    r->environment = lg_env_json(nofile);
    if (!o->quiet && !o->worker) /* workers: their parent said it */
        fprintf(stderr, "Benchmarking %s (be patient)\n", o->url.host);
    if (lg_engine_run(o, &target, tlen, r, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        lg_result_free(r);
        return 1;
    }
    if (*err)
        fprintf(stderr, "loadgen: %s\n", err);
    int rc = output(r, o) ? 1 : 0;
    if (strcmp(r->stop_reason, "refused") == 0 || strcmp(r->stop_reason, "error") == 0)
        rc = 1; /* the run could not really start (or broke): say so in the status too */
    lg_result_free(r);
    return rc;
}

/* -c plus --idle against the limits of this machine, before anything starts; 0 or -1 (said). */
static int check_idle_limits(const lg_options *o, int processes, long per_process, long nofile)
{
    struct sockaddr_storage target;
    socklen_t tlen;
    char err[1024];
    if (lg_url_resolve(&o->url, &target, &tlen, err, sizeof err) ||
        lg_idle_check_limits(o, processes, per_process, nofile, &target, err, sizeof err)) {
        fprintf(stderr, "loadgen: %s\n", err);
        return -1;
    }
    return 0;
}

/* One process, or as many worker processes as --processes asks or -c needs here. */
static int run(lg_options *o)
{
    long nofile = lg_env_raise_nofile();
    long per_process = nofile > 0 ? nofile - 2L * o->threads - FD_RESERVE : 0;
    int processes = o->processes ? o->processes : lg_shards_needed(o, per_process);
    if (processes > o->concurrency)
        processes = o->concurrency;
    if (o->idle > 0 && check_idle_limits(o, processes, per_process, nofile))
        return 2;
    if (o->start_at > 0)
        lg_start_at(o->start_at);
    if (processes <= 1)
        return run_load(o);
    if (!o->processes && !o->quiet)
        fprintf(stderr, "loadgen: note: -c %d%s is more than one process can hold under the open-file "
                        "limit of %ld: running %d worker processes (--processes %d)\n",
                o->concurrency, o->idle ? " plus --idle" : "", nofile, processes, processes);
    return lg_shards_run(o, processes, run_load, output);
}

int main(int argc, char **argv)
{
    /* A peer that resets must give EPIPE from write(), not kill us. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) < 0) {
        perror("loadgen: sigaction");
        return 1;
    }
    lg_options o;
    int prc = lg_options_parse(argc, argv, &o);
    if (prc) {
        lg_options_free(&o);
        return prc == 1 ? 0 : 2;
    }
    int rc = o.merge_files ? run_merge(&o) : run(&o);
    lg_options_free(&o);
    return rc;
}
