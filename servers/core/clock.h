/* The one clock every driver and session deadline is measured on. */
#ifndef C10K_CLOCK_H
#define C10K_CLOCK_H

#include <stdint.h>

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);

#endif
