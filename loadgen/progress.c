/* Progress lines: rewritten in place on a terminal, one line a second otherwise. */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

void lg_progress_init(lg_progress *p, int mode, int quiet)
{
    p->tty = isatty(STDERR_FILENO);
    p->on = quiet ? 0 : (mode < 0 ? p->tty : mode);
    p->printed = 0;
    p->next_print = 1.0;
    p->last_t = 0;
    p->last_done = 0;
}

void lg_progress_update(lg_progress *p, double elapsed_s, int warming_up, uint64_t done,
                        uint64_t errors)
{
    if (!p->on)
        return;
    if (warming_up) {
        if (p->tty) {
            fprintf(stderr, "\r  warming up...\033[K");
            p->printed = 1;
        }
        return;
    }
    if (elapsed_s < p->next_print)
        return;
    double dt = elapsed_s - p->last_t;
    double rate = dt > 0 ? (double)(done - p->last_done) / dt : 0;
    fprintf(stderr, "%s[%7.1fs] completed %llu  rate %.0f/s  errors %llu%s", p->tty ? "\r" : "",
            elapsed_s, (unsigned long long)done, rate, (unsigned long long)errors,
            p->tty ? "\033[K" : "\n");
    p->printed = 1;
    p->last_t = elapsed_s;
    p->last_done = done;
    while (p->next_print <= elapsed_s)
        p->next_print += 1.0;
}

void lg_progress_finish(lg_progress *p)
{
    if (p->on && p->tty && p->printed)
        fputs("\r\033[K", stderr);
}
