/* Local source addresses for client sockets (--source). */
#ifndef LG_SOURCE_RANGE_H
#define LG_SOURCE_RANGE_H
#include <stddef.h>
#include <sys/socket.h>

/* One address, or an inclusive range A-B of the same family (at most 65536 addresses). Fills
 * a new array; returns 0, or -1 for a bad range or out of memory. */
int lg_sources_parse(const char *spec, struct sockaddr_storage **out, size_t *nout);

/* Checks that this machine can bind each address (bind only, nothing is sent). Returns 0, or
 * -1 with a message naming the first address it cannot use. */
int lg_sources_check(const struct sockaddr_storage *s, size_t n, char *err, size_t errlen);

#endif
