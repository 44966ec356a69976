#include "signals.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

atomic_int g_stop;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag is set from a signal handler");
static volatile sig_atomic_t wake_listen_fd = -1;
static volatile sig_atomic_t wake_conn_fd = -1;
static volatile sig_atomic_t stop_event_fd = -1;

void signals_request_stop(void)
{
    int saved = errno;
    g_stop = 1;
    int efd = stop_event_fd;
    if (efd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(efd, &one, sizeof one); /* write() is async-signal-safe; only fails if full */
        (void)n;
    }
    errno = saved;
}

int signals_stop_fd(void)
{
    if (stop_event_fd < 0) {
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
            perror("eventfd (stop)");
        stop_event_fd = fd;
    }
    return stop_event_fd;
}

static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno;
    signals_request_stop();
    /* shutdown() is async-signal-safe; it closes the race between checking g_stop and blocking. */
    int fd = wake_listen_fd;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    fd = wake_conn_fd;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    errno = saved;
}

void signals_stop_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

int signals_init(int listen_fd)
{
    struct sigaction sa = {0};
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) != 0) {
        perror("sigaction(SIGPIPE)");
        return -1;
    }
    wake_listen_fd = listen_fd;
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = 0; /* no SA_RESTART: blocked calls must return EINTR */
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        perror("sigaction(SIGINT/SIGTERM)");
        return -1;
    }
    /* A signal mask survives exec: a launcher that started us with the stop signals blocked would
     * leave them pending forever. Models that wait with them blocked block them again later. */
    sigset_t stop;
    signals_stop_set(&stop);
    int rc = pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    if (rc != 0) {
        fprintf(stderr, "pthread_sigmask(SIG_UNBLOCK): %s\n", strerror(rc));
        return -1;
    }
    return 0;
}

void signals_watch_conn(int fd)
{
    wake_conn_fd = fd;
}

int signals_block_stop(sigset_t *wait_mask)
{
    sigset_t stop;
    signals_stop_set(&stop);
    int rc = pthread_sigmask(SIG_BLOCK, &stop, wait_mask); /* this thread's mask: one loop per thread */
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGTERM);
    return 0;
}
