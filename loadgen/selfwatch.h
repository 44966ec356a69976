/* The generator watches itself. A load generator at its own limit reports the latencies of its
 * own queueing, so each thread measures how busy its loop was (time not spent waiting in epoll
 * with nothing to do) and its CPU time, every second; with --rate, how late requests went out
 * against their slots and how many came due while every connection was busy (timeseries.h keeps
 * the per-second figures). lg_generator_warnings() turns them into plain warnings. */
#ifndef LG_SELFWATCH_H
#define LG_SELFWATCH_H
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "result.h"

/* A thread whose loop was busy this share of a second or more set the pace of that second. */
#define LG_SATURATED_PM 900

typedef struct lg_selfwatch {
    uint64_t idle_us;                      /* time the loop waited with nothing to do */
    uint64_t start_us, start_cpu_us;       /* when the thread started */
    uint64_t mark_us, mark_idle, mark_cpu; /* at the start of the current second */
    uint64_t idle_since; /* --rate: when a connection last became idle while none was */
} lg_selfwatch;

/* This thread's CPU time in us (CLOCK_THREAD_CPUTIME_ID). */
uint64_t lg_thread_cpu_us(void);
void lg_selfwatch_start(lg_selfwatch *w, uint64_t now);
/* The loop's busy and CPU share (permille) since the last call, which moves the mark to now. */
void lg_selfwatch_second(lg_selfwatch *w, uint64_t now, unsigned *busy_pm, unsigned *cpu_pm);
/* Whole-thread busy and CPU time in us, up to now. */
void lg_selfwatch_totals(const lg_selfwatch *w, uint64_t now, uint64_t *busy_us, uint64_t *cpu_us);

/* Plain warnings when the generator, not the server, set the pace; returns how many were
 * written (at most max lines of len bytes). */
size_t lg_generator_warnings(const lg_result *r, char (*out)[512], size_t max);
/* The text report's last section: the generator's own load, then the warnings. */
void lg_report_generator_text(FILE *f, const lg_result *r);

#endif
