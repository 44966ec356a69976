/* Parsers for option values; each returns 0, or -1 when the text is not a valid value. */
#ifndef LG_OPTION_VALUES_H
#define LG_OPTION_VALUES_H
#include <stddef.h>
#include <stdint.h>

/* A decimal integer in [min, max], without sign. */
int lg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A finite number of seconds in (min_exclusive, 1e7]. */
int lg_parse_seconds(const char *s, double min_exclusive, double *out);
/* wrk-style duration: a number with an optional unit ms, s, m, h; positive, at most 1e7 s. */
int lg_parse_duration(const char *s, double *out);
/* Reads a whole file into a new buffer (errno set on failure). */
int lg_read_file(const char *path, char **data, size_t *len);

#endif
