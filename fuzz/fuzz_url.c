/* The loadgen's URL parser: any string is either an error with a message or a URL whose parts
 * are sane (host set, port in range, a path starting with '/' that can go on a request line). */
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bad(const char *what, const char *text)
{
    fprintf(stderr, "%s for URL \"%s\"\n", what, text);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    static lg_url u;
    char err[512] = "";
    if (lg_url_parse(text, &u, err, sizeof err) != 0) {
        if (err[0] == '\0')
            bad("error without a message", text);
    } else {
        if (u.host[0] == '\0')
            bad("empty host", text);
        if (u.port < 1 || u.port > 65535 || atoi(u.port_str) != u.port)
            bad("port out of range", text);
        if (u.path[0] != '/' || strpbrk(u.path, " \r\n"))
            bad("path unfit for a request line", text);
    }
    free(text);
    return 0;
}
