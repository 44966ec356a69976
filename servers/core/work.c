#include "work.h"

#include "clock.h"
#include "signals.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned spins_per_check = 256;
/* Keeps the compiler from deleting the loop. Threads of one process burn at once: relaxed
 * atomic accesses make that well defined at the cost of plain loads and stores. */
static _Atomic uint64_t burn_sink;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        perror("clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        abort();
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t spin(uint64_t x, unsigned n)
{
    /* A serial dependency chain: cannot be vectorised or folded away. */
    for (unsigned i = 0; i < n; i++)
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x;
}

void work_init(void)
{
    /* Size one spin chunk to about half a microsecond so the burn overshoots its target by little
     * while the clock (a real system call for CPU clocks) is read rarely. */
    const unsigned probe = 200000;
    uint64_t t0 = thread_cpu_ns();
    atomic_store_explicit(&burn_sink, spin(atomic_load_explicit(&burn_sink, memory_order_relaxed), probe),
                          memory_order_relaxed);
    uint64_t dt = thread_cpu_ns() - t0;
    if (dt == 0)
        dt = 1;
    uint64_t per_half_us = (uint64_t)probe * 500 / dt;
    spins_per_check = per_half_us < 16 ? 16 : per_half_us > 100000 ? 100000 : (unsigned)per_half_us;
}

void work_burn_us(unsigned us)
{
    if (us == 0)
        return;
    uint64_t target = thread_cpu_ns() + (uint64_t)us * 1000u;
    uint64_t x = atomic_load_explicit(&burn_sink, memory_order_relaxed);
    do
        x = spin(x, spins_per_check);
    while (thread_cpu_ns() < target);
    atomic_store_explicit(&burn_sink, x, memory_order_relaxed);
}

int work_sleep_ns(uint64_t ns)
{
    uint64_t deadline = now_ns() + ns;
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u), .tv_nsec = (long)(deadline % 1000000000u)};
    for (;;) {
        int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (rc == 0)
            return 0;
        if (rc != EINTR) {
            errno = rc;
            perror("clock_nanosleep");
            return -1;
        }
        if (g_stop)
            return -1;
    }
}
