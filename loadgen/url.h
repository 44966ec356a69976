/* Parses http[s]://host[:port][/path] (IPv4, [IPv6], host names) and resolves it. */
#ifndef LG_URL_H
#define LG_URL_H
#include <netinet/in.h>
#include <sys/socket.h>

typedef struct lg_url {
    char host[256];   /* without brackets */
    char port_str[8];
    int port;
    char path[4096];  /* path and query, starts with '/' */
    int ipv6_literal;
    int tls;          /* https:// */
} lg_url;

/* 0 on success; on failure -1 with a message in err. */
int lg_url_parse(const char *text, lg_url *u, char *err, size_t errlen);

/* Resolves host:port to one stream address (the first getaddrinfo gives). */
int lg_url_resolve(const lg_url *u, struct sockaddr_storage *ss, socklen_t *len, char *err,
                   size_t errlen);

#endif
