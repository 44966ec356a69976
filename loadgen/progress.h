/* Progress on stderr while a run goes on: completed, rate, errors (once a second). */
#ifndef LG_PROGRESS_H
#define LG_PROGRESS_H
#include <stdint.h>

typedef struct lg_progress {
    int on, tty, printed;
    double next_print, last_t;
    uint64_t last_done;
} lg_progress;

/* mode: -1 = on when stderr is a terminal, 0 = off, 1 = on. quiet (-q) turns it off. */
void lg_progress_init(lg_progress *p, int mode, int quiet);
void lg_progress_update(lg_progress *p, double elapsed_s, int warming_up, uint64_t done,
                        uint64_t errors);
void lg_progress_finish(lg_progress *p);

#endif
