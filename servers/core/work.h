/* Per-request costs: the artificial delay (for blocking models) and the CPU burn. */
#ifndef C10K_WORK_H
#define C10K_WORK_H

#include <stdint.h>

/* Calibrates the CPU burn loop; call once at startup. */
void work_init(void);

/* Burns `us` microseconds of this thread's CPU time (a busy loop, never a sleep). */
void work_burn_us(unsigned us);

/* Sleeps `ns` nanoseconds, resuming after signals; returns -1 early when the server is stopping. */
int work_sleep_ns(uint64_t ns);

#endif
