#include "workers.h"

#include "clock.h"
#include "signals.h"
#include "stats.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE_NS 5000000000ull
#define RESPAWN_RETRY_S 1

static pid_t *pids; /* by worker index; 0 = not running */
static unsigned n_workers;
static worker_fn body;
static void *body_arg;
static server_stats_t *counters;
static sigset_t run_mask; /* the mask before the master blocked its signals: what workers run with */

static void on_sigchld(int sig)
{
    (void)sig; /* a handler, not SIG_DFL, so the exit is never discarded: reaping is in the loop */
}

static pid_t spawn(unsigned i)
{
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, &run_mask, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != master)
            _exit(1); /* the master is already gone */
        _exit(body(i, body_arg)); /* no atexit handlers: they belong to the master */
    }
    if (pid < 0)
        stats_error(stats_instance(counters, i), ERR_SPAWN);
    pids[i] = pid > 0 ? pid : 0;
    return pid;
}

int workers_start(unsigned n, worker_fn fn, void *arg, server_stats_t *stats)
{
    pids = calloc(n, sizeof *pids);
    if (!pids) {
        perror("workers");
        return -1;
    }
    n_workers = n, body = fn, body_arg = arg, counters = stats;
    struct sigaction sa = {0};
    sa.sa_handler = on_sigchld;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NOCLDSTOP;
    sigset_t block;
    signals_stop_set(&block);
    sigaddset(&block, SIGCHLD);
    /* Blocked in the master, which takes them with sigtimedwait: none is missed between checks. */
    if (sigaction(SIGCHLD, &sa, NULL) != 0 || sigprocmask(SIG_BLOCK, &block, &run_mask) != 0) {
        perror("workers: signals");
        return -1;
    }
    unsigned started = 0;
    for (unsigned i = 0; i < n; i++)
        started += spawn(i) > 0;
    if (started == 0) {
        fprintf(stderr, "workers: fork: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int slot_of(pid_t pid)
{
    for (unsigned i = 0; i < n_workers; i++)
        if (pids[i] == pid)
            return (int)i;
    return -1;
}

/* Reaps exited workers; returns how many are still running. */
static unsigned reap(void)
{
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
        int i = slot_of(pid);
        if (i >= 0)
            pids[i] = 0;
    }
    unsigned running = 0;
    for (unsigned i = 0; i < n_workers; i++)
        running += pids[i] != 0;
    return running;
}

static void signal_all(int sig)
{
    for (unsigned i = 0; i < n_workers; i++)
        if (pids[i])
            kill(pids[i], sig);
}

void workers_supervise(void)
{
    sigset_t waited;
    signals_stop_set(&waited);
    sigaddset(&waited, SIGCHLD);
    while (!g_stop) {
        reap();
        for (unsigned i = 0; i < n_workers; i++)
            if (!pids[i])
                spawn(i); /* a worker died: replace it, as a master process does */
        /* A failed fork is retried after a pause. */
        struct timespec retry = {.tv_sec = RESPAWN_RETRY_S};
        int sig = sigtimedwait(&waited, NULL, reap() < n_workers ? &retry : NULL);
        if (sig == SIGINT || sig == SIGTERM)
            g_stop = 1;
    }
    signal_all(SIGTERM);
    uint64_t deadline = now_ns() + STOP_GRACE_NS;
    while (reap() > 0) {
        if (now_ns() > deadline) {
            signal_all(SIGKILL);
            deadline = UINT64_MAX;
        }
        nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
    }
    free(pids);
    pids = NULL;
}
