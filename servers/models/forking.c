/* Forking model: one child process per connection. Children are reaped from the SIGCHLD handler
 * (no zombies), tracked so a stop can end them, and die with the parent (PR_SET_PDEATHSIG).
 * Build: c10k_blocking */
#include "acceptor.h"
#include "blocking.h"
#include "clock.h"
#include "listener.h"
#include "stats.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const model_traits_t model = {
    .name = "forking", .rank = 30, .driver = "blocking", .mechanism = "accept/read/write",
    .description = "one process per connection (fork), each blocking on its own socket",
    .task_per_connection = TASK_PROCESS,
};

/* Live children. Changed by the main loop only while SIGCHLD is blocked, and by the handler. */
static pid_t *children;
static size_t n_children, cap_children;
static stats_t *counters; /* one instance: children count into their parent's shared block */

static void forget_child(pid_t pid)
{
    for (size_t i = 0; i < n_children; i++) {
        if (children[i] == pid) {
            children[i] = children[--n_children];
            break;
        }
    }
    stats_conn_closed(counters);
}

static void on_sigchld(int sig)
{
    (void)sig;
    int saved = errno;
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
        forget_child(pid);
    errno = saved;
}

static bool remember_child(pid_t pid)
{
    if (n_children == cap_children) {
        size_t cap = cap_children ? cap_children * 2 : 256;
        pid_t *p = realloc(children, cap * sizeof *p);
        if (!p)
            return false;
        children = p, cap_children = cap;
    }
    children[n_children++] = pid;
    return true;
}

static void install_sigchld(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_sigchld;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) != 0) {
        perror("sigaction(SIGCHLD)");
        exit(1);
    }
}

static void run_child(int fd, int lfd, acceptor_t *acc, const server_options_t *opts, pid_t parent)
{
    signal(SIGCHLD, SIG_DFL);
    signal(SIGINT, SIG_DFL); /* a stop from the parent ends the child at once */
    signal(SIGTERM, SIG_DFL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
        _exit(1); /* the parent is already gone */
    close(lfd);
    acceptor_close(acc);
    serve_connection_blocking(fd, opts, acc->stats, now_ns());
    _exit(0); /* no atexit handlers: they belong to the parent */
}

/* SIGTERM every child, give them a moment, SIGKILL the rest, reap all. SIGCHLD is blocked. */
static void stop_children(void)
{
    for (size_t i = 0; i < n_children; i++)
        kill(children[i], SIGTERM);
    uint64_t deadline = now_ns() + 5000000000u;
    while (n_children > 0) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid > 0) {
            forget_child(pid);
            continue;
        }
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0) /* ECHILD: nothing left to wait for */
            break;
        if (now_ns() > deadline) {
            for (size_t i = 0; i < n_children; i++)
                kill(children[i], SIGKILL);
            deadline = UINT64_MAX;
        }
        nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
    }
}

int main(int argc, char **argv)
{
    server_options_t opts;
    server_stats_t *stats;
    int lfd, rc;
    acceptor_t acc;
    if ((rc = blocking_server_open(argc, argv, &model, &opts, &stats, &lfd, &acc)) != 0)
        return rc;
    counters = acc.stats;
    install_sigchld();
    sigset_t chld, unblocked;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pid_t self = getpid();
    if (listener_announce(lfd) != 0)
        return 1;

    int fd;
    while ((fd = acceptor_next_blocking(&acc)) >= 0) {
        if (!acceptor_admit(&acc, fd, opts.max_conns, LONG_MAX))
            continue;
        /* The child must be in the table before the handler can reap it. */
        sigprocmask(SIG_BLOCK, &chld, &unblocked);
        pid_t pid = fork();
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &unblocked, NULL);
            run_child(fd, lfd, &acc, &opts, self);
        }
        if (pid < 0) {
            sigprocmask(SIG_SETMASK, &unblocked, NULL);
            stats_conn_closed(counters);
            refuse_connection(counters, fd, ERR_SPAWN);
            continue;
        }
        if (!remember_child(pid)) {
            /* Untracked, it could not be stopped with the server: end it now. */
            kill(pid, SIGKILL);
            stats_error(counters, ERR_SPAWN);
        }
        sigprocmask(SIG_SETMASK, &unblocked, NULL);
        close(fd);
    }
    close(lfd);
    acceptor_close(&acc);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    stop_children();
    free(children);
    return 0;
}
