/* Worker processes of one run: split, fork, start together, wait, merge. */
#include "shards.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "merge.h"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

void lg_start_at(double epoch)
{
    struct timespec at = {(time_t)epoch, (long)((epoch - (double)(time_t)epoch) * 1e9)}, now;
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) == EINTR) {
    }
    clock_gettime(CLOCK_REALTIME, &now);
    double late = (double)now.tv_sec + now.tv_nsec / 1e9 - epoch;
    if (late > 0.01)
        fprintf(stderr, "loadgen: note: started %.3f s after --start-at\n", late);
}

int lg_shards_needed(const lg_options *o, long per_process)
{
    long conns = (long)o->concurrency + o->idle;
    if (per_process <= 0 || conns <= per_process)
        return 1;
    long n = (conns + per_process - 1) / per_process;
    return n > LG_MAX_PROCESSES ? LG_MAX_PROCESSES : (int)n;
}

static uint64_t share(uint64_t total, int k, int n)
{
    return total / (uint64_t)n + ((uint64_t)k < total % (uint64_t)n);
}

/* Worker k's options: its share of -c, -n, --rate, and its own slice of --source. */
static void worker_options(const lg_options *o, int k, int n, lg_options *w)
{
    *w = *o;
    w->concurrency = (int)share((uint64_t)o->concurrency, k, n);
    w->idle = (int)share((uint64_t)o->idle, k, n);
    if (o->requests_set)
        w->requests = share(o->requests, k, n);
    if (o->rate > 0)
        w->rate = o->rate * w->concurrency / o->concurrency;
    if (w->threads > w->concurrency)
        w->threads = w->concurrency;
    w->quiet = 1;
    w->progress = 0;
    if (o->nsources >= (size_t)n) {
        size_t first = o->nsources * (size_t)k / (size_t)n, last = o->nsources * (size_t)(k + 1) / (size_t)n;
        w->sources = o->sources + first;
        w->nsources = last - first;
    } else if (o->nsources) {
        w->sources = o->sources + (size_t)k % o->nsources;
        w->nsources = 1;
    } /* else each worker chooses its own, as one process does (lg_sources_choose) */
}

/* In the child: die with the parent, wait for the start, run, exit. Never returns. */
static void worker_main(const lg_options *o, int k, int n, int go_fd, int json_fd, pid_t parent,
                        lg_run_fn run_one)
{
    /* A killed parent must leave no worker behind. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(1);
    setpgid(0, 0); /* a terminal's Ctrl-C reaches the parent only; it forwards it once */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    char path[64];
    lg_options w;
    worker_options(o, k, n, &w);
    snprintf(path, sizeof path, "/proc/self/fd/%d", json_fd);
    w.json_path = path;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
        _exit(1);
    char c;
    ssize_t r;
    do /* the parent closes the pipe once every worker exists: all start together */
        r = read(go_fd, &c, 1);
    while (r < 0 && errno == EINTR);
    close(go_fd);
    _exit(run_one(&w));
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits for every worker; status[k] and ended_s[k] (seconds after t0) say how each one ended. */
static int wait_all(const pid_t *pids, int n, int *status, double *ended_s, double t0)
{
    int worst = 0, left = n, forwarded = 0;
    while (left > 0) {
        if (stop_signal && !forwarded) {
            for (int k = 0; k < n; k++)
                if (pids[k] > 0)
                    kill(pids[k], SIGINT);
            forwarded = 1;
        }
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            perror("loadgen: waitpid");
            return 1;
        }
        for (int k = 0; k < n; k++)
            if (pids[k] == p) {
                status[k] = st;
                ended_s[k] = mono_s() - t0;
                left--;
                int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
                if (!WIFEXITED(st))
                    fprintf(stderr, "loadgen: worker %d died of signal %d\n", k, WTERMSIG(st));
                if (rc > worst)
                    worst = rc;
            }
    }
    return worst;
}

int lg_shards_run(const lg_options *o, int n, lg_run_fn run_one, lg_output_fn output)
{
    int go[2];
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    int *fds = calloc((size_t)n, sizeof *fds), *status = calloc((size_t)n, sizeof *status);
    double *ended_s = calloc((size_t)n, sizeof *ended_s);
    char (*paths)[64] = calloc((size_t)n, sizeof *paths);
    if (!pids || !fds || !status || !ended_s || !paths || pipe2(go, O_CLOEXEC) < 0) {
        fprintf(stderr, "loadgen: cannot set up %d worker processes: %s\n", n, strerror(errno ? errno : ENOMEM));
        free(pids), free(fds), free(status), free(ended_s), free(paths);
        return 1;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (!o->quiet)
        fprintf(stderr, "Benchmarking %s with %d processes (be patient)\n", o->url.host, n);
    fflush(NULL);
    pid_t parent = getpid();
    int started = 0, rc = 0;
    for (; started < n; started++) {
        char name[32];
        snprintf(name, sizeof name, "loadgen-worker-%d", started);
        fds[started] = memfd_create(name, MFD_CLOEXEC); /* the result dies with us: nothing left on disk */
        if (fds[started] < 0) {
            fprintf(stderr, "loadgen: memfd_create: %s\n", strerror(errno));
            break;
        }
        pid_t p = fork();
        if (p < 0) {
            fprintf(stderr, "loadgen: cannot start worker %d: %s\n", started, strerror(errno));
            close(fds[started]);
            break;
        }
        if (p == 0) {
            close(go[1]);
            worker_main(o, started, n, go[0], fds[started], parent, run_one);
        }
        pids[started] = p;
    }
    if (started < n) { /* no partial run: stop those that exist before they start */
        for (int k = 0; k < started; k++)
            kill(pids[k], SIGKILL);
        rc = 1;
    }
    close(go[0]);
    close(go[1]); /* go */
    int worst = wait_all(pids, started, status, ended_s, mono_s());
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == 0) {
        const char **files = calloc((size_t)n, sizeof *files);
        int *file_worker = calloc((size_t)n, sizeof *file_worker); /* files[i] is worker file_worker[i]'s */
        json_t *lost = json_array();
        size_t nfiles = 0;
        for (int k = 0; files && file_worker && k < n; k++) {
            snprintf(paths[k], sizeof paths[k], "/proc/self/fd/%d", fds[k]);
            if (lseek(fds[k], 0, SEEK_END) > 0) {
                file_worker[nfiles] = k;
                files[nfiles++] = paths[k];
                continue;
            }
            fprintf(stderr, "loadgen: worker %d wrote no result\n", k);
            int killed = WIFSIGNALED(status[k]);
            json_array_append_new(lost, json_pack("{s:i, s:I, s:o, s:o, s:f}", "worker", k, "pid",
                                                  (json_int_t)pids[k], "signal",
                                                  killed ? json_integer(WTERMSIG(status[k])) : json_null(),
                                                  "exit_status",
                                                  killed ? json_null() : json_integer(WEXITSTATUS(status[k])),
                                                  "after_s", ended_s[k]));
        }
        lg_result *r = files ? lg_result_new() : NULL;
        char err[1024];
        if (!r || nfiles == 0 || lg_merge_files(files, nfiles, r, 0, err, sizeof err)) {
            fprintf(stderr, "loadgen: cannot merge the workers' results: %s\n",
                    r && nfiles ? err : "no result");
            rc = 1;
        } else {
            if (stop_signal) {
                r->interrupted = 1;
                r->stop_reason = "interrupted";
            }
            size_t i;
            json_t *m;
            json_array_foreach(r->merged_from, i, m) { /* each part keeps its worker's identity */
                int k = file_worker[i];
                char label[48];
                snprintf(label, sizeof label, "worker %d of %d", k, n);
                json_object_set_new(m, "file", json_string(label));
                json_object_set_new(m, "worker", json_integer(k));
                json_object_set_new(m, "pid", json_integer((json_int_t)pids[k]));
            }
            json_object_set_new(r->config, "processes", json_integer(n));
            r->workers = json_pack("{s:i, s:i, s:O}", "started", n, "finished", (int)nfiles, "lost", lost);
            if (json_array_size(lost))
                fprintf(stderr, "loadgen: %zu of %d workers finished; the report covers those only\n",
                        nfiles, n);
            rc = output(r, o) ? 1 : worst;
        }
        lg_result_free(r);
        json_decref(lost);
        free(files);
        free(file_worker);
    }
    for (int k = 0; k < started; k++)
        close(fds[k]);
    free(pids), free(fds), free(status), free(ended_s), free(paths);
    return rc;
}
