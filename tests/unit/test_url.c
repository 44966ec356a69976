/* The loadgen's URL parser (no name resolution here). */
#include "check.h"
#include "url.h"

static lg_url u;
static char err[512];

static int parse(const char *text)
{
    err[0] = '\0';
    return lg_url_parse(text, &u, err, sizeof err);
}

static void test_valid(void)
{
    CHECK_INT(parse("http://127.0.0.1:8080/a/b?x=1"), 0);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 8080);
    CHECK_STR(u.port_str, "8080");
    CHECK_STR(u.path, "/a/b?x=1");
    CHECK_INT(u.ipv6_literal, 0);

    CHECK_INT(parse("http://localhost"), 0);
    CHECK_STR(u.host, "localhost");
    CHECK_INT(u.port, 80);
    CHECK_STR(u.path, "/");

    CHECK_INT(parse("HTTP://Example.org?q"), 0);
    CHECK_STR(u.path, "/?q");

    CHECK_INT(parse("http://[::1]:9/x"), 0);
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 9);
    CHECK_INT(u.ipv6_literal, 1);

    CHECK_INT(parse("http://h/p#fragment"), 0); /* a fragment is never sent */
    CHECK_STR(u.path, "/p");
    CHECK_INT(parse("http://h:65535/"), 0);
    CHECK_INT(u.port, 65535);
    CHECK_INT(u.tls, 0);

    /* https: TLS, port 443 unless given. */
    CHECK_INT(parse("HTTPS://h/x"), 0);
    CHECK_INT(u.tls, 1);
    CHECK_INT(u.port, 443);
    CHECK_STR(u.path, "/x");
    CHECK_INT(parse("https://[::1]:8443"), 0);
    CHECK_INT(u.tls, 1);
    CHECK_INT(u.port, 8443);
    CHECK_STR(u.host, "::1");
}

static void test_invalid(void)
{
    const char *bad[] = {
        "", "127.0.0.1", "ftp://h/", "http://", "http:///path", "http://h:0/", "http://h:65536/",
        "http://h:-1/", "http://h:/", "http://h:80x/", "http://[::1/", "http://h/a b", "http://h/a\r\nX: y",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i]) == 0)
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK(parse(bad[i]) != 0);
        CHECK(err[0] != '\0'); /* always a message */
    }
    CHECK_INT(parse("https:/h/"), -1);
    CHECK_CONTAINS(err, "http[s]://");

    static char long_host[400];
    memcpy(long_host, "http://", 7);
    memset(long_host + 7, 'h', 300);
    CHECK(parse(long_host) != 0);

    static char long_path[5000];
    int n = snprintf(long_path, sizeof long_path, "http://h/");
    memset(long_path + n, 'p', sizeof long_path - (size_t)n - 1);
    CHECK(parse(long_path) != 0);
}

int main(void)
{
    test_valid();
    test_invalid();
    return check_exit();
}
