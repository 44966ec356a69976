/* Signal handling shared by the models: SIGPIPE ignored, SIGINT/SIGTERM request a clean stop. */
#ifndef C10K_SIGNALS_H
#define C10K_SIGNALS_H

#include <signal.h>
#include <stdatomic.h>

/* Set by the stop handler, read by every thread: an atomic (lock-free, so async-signal-safe)
 * rather than a volatile, which orders nothing between threads. */
extern atomic_int g_stop;

/* Ignores SIGPIPE and installs the stop handler for SIGINT and SIGTERM without SA_RESTART, so a
 * blocked system call returns EINTR. When listen_fd >= 0 the handler also shuts that socket down:
 * a thread blocked in accept() then wakes up even if the signal landed just before the call.
 * Returns 0, or -1 (reported). */
int signals_init(int listen_fd);

/* Blocking models: the connection being served in this (single-threaded) process is shut down by
 * the stop handler, so a blocked read() returns at once. Pass -1 when the connection is done. */
void signals_watch_conn(int fd);

/* Several loops in one process: an eventfd that becomes readable (and stays so) once a stop is
 * requested, for every loop to watch. A signal wakes only the one thread it lands on; the others
 * learn of the stop from this fd. Made on the first call; -1 (reported) if it cannot be. */
int signals_stop_fd(void);

/* Requests a stop as the signal handler does (sets g_stop, makes the stop fd readable): a loop
 * that failed takes the others down with it. Async-signal-safe. */
void signals_request_stop(void);

/* Fills *set with SIGINT and SIGTERM. */
void signals_stop_set(sigset_t *set);

/* Blocks SIGINT/SIGTERM in the calling thread and stores in *wait_mask the mask to use while
 * waiting (pselect/epoll_pwait), so a stop request can only arrive while the loop sleeps.
 * Returns 0, or -1 with errno. */
int signals_block_stop(sigset_t *wait_mask);

#endif
