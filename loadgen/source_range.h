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

/* With no --source: to a loopback target with more than LG_CONNS_PER_SOURCE connections,
 * spreads them over enough addresses of 127.0.0.0/8 (a block at a random place, so a run right
 * after another does not meet its TIME_WAIT sockets) and sets o->sources, o->source_spec and
 * o->sources_automatic. Elsewhere, when -c nears the local ports one source address has, writes
 * advice (which limit, what --source would fix) into note. Returns -1 only for out of memory. */
#define LG_CONNS_PER_SOURCE 2048
struct lg_options;
int lg_sources_choose(struct lg_options *o, const struct sockaddr_storage *target, char *note,
                      size_t notelen);

/* Refuses (-1, with a message naming the limit) conns connections when one of the source
 * addresses they spread over would need more local ports to the target than it has. A loopback
 * target without --source passes: lg_sources_choose spreads the connections. */
int lg_sources_check_ports(const struct lg_options *o, long conns,
                           const struct sockaddr_storage *target, char *err, size_t errlen);

#endif
