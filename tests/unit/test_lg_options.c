/* The loadgen's command line: ab's flags and defaults, and a usage error (2) for every bad value. */
#include "check.h"
#include "options.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static lg_options o;

static int fabs_diff_ok(double a, double b)
{
    return a - b < 1e-9 && b - a < 1e-9;
}

/* Parses a NULL-terminated argument list after "loadgen". */
static int parse(const char *first, ...)
{
    static char *argv[64];
    int argc = 0;
    argv[argc++] = "loadgen";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    lg_options_free(&o);
    return lg_options_parse(argc, argv, &o);
}

static void test_defaults(void)
{
    CHECK_INT(parse("http://127.0.0.1:8080/x", NULL), 0);
    CHECK_U64(o.requests, 1); /* ab's default: one request */
    CHECK_INT(o.concurrency, 1);
    CHECK_INT(o.threads, 1);
    CHECK_INT(o.keepalive, 0);
    CHECK_STR(o.method, "GET");
    CHECK_INT(o.url.port, 8080);
    CHECK_STR(o.url.path, "/x");
    CHECK(o.timeout_s == 30);
    CHECK(o.rate == 0);
}

static void test_flags(void)
{
    CHECK_INT(parse("-n", "100", "-c", "10", "-k", "-H", "X-A: 1", "-H", "X-B: 2", "-C", "k=v", "-i",
                    "--threads", "4", "--rate", "250.5", "--duration", "500ms", "-s", "2", "--json", "-",
                    "--source", "127.0.0.1-127.0.0.4", "--no-progress", "http://h/", NULL),
              0);
    CHECK_U64(o.requests, 100);
    CHECK_INT(o.concurrency, 10);
    CHECK_INT(o.keepalive, 1);
    CHECK_U64(o.nheaders, 3);
    CHECK_STR(o.headers[0], "X-A: 1");
    CHECK_STR(o.headers[1], "X-B: 2");
    CHECK_STR(o.headers[2], "Cookie: k=v");
    CHECK_STR(o.method, "HEAD");
    CHECK_INT(o.threads, 4);
    CHECK(o.rate == 250.5);
    CHECK(fabs_diff_ok(o.time_limit_s, 0.5));
    CHECK(o.timeout_s == 2);
    CHECK_STR(o.json_path, "-");
    CHECK_U64(o.nsources, 4);
    CHECK_INT(o.progress, 0);

    /* More threads than connections: capped. */
    CHECK_INT(parse("-n", "10", "-c", "2", "-W", "8", "http://h/", NULL), 0);
    CHECK_INT(o.threads, 2);
    /* Duration units. */
    CHECK_INT(parse("--duration", "2m", "http://h/", NULL), 0);
    CHECK(o.time_limit_s == 120);
    CHECK_U64(o.requests, 0); /* time-limited: no request cap */
    CHECK_INT(parse("-m", "PATCH", "-i", "http://h/", NULL), 0);
    CHECK_STR(o.method, "PATCH"); /* an explicit method wins */
    /* --idle: none by default; request mode unless connect is asked for. */
    CHECK_INT(o.idle, 0);
    CHECK_INT(parse("--idle", "15000", "http://h/", NULL), 0);
    CHECK_INT(o.idle, 15000);
    CHECK_INT(o.idle_mode, LG_IDLE_REQUEST);
    CHECK_INT(parse("--idle", "3", "--idle-mode", "connect", "http://h/", NULL), 0);
    CHECK_INT(o.idle_mode, LG_IDLE_CONNECT);
}

static void test_body_file(void)
{
    char path[] = "/tmp/c10k-unit-body-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "a=1&b=2", 7) == 7);
    close(fd);
    CHECK_INT(parse("-p", path, "-T", "application/x-www-form-urlencoded", "http://h/", NULL), 0);
    CHECK_STR(o.method, "POST");
    CHECK_U64(o.body_len, 7);
    CHECK(o.body && memcmp(o.body, "a=1&b=2", 7) == 0);
    CHECK_INT(parse("-u", path, "http://h/", NULL), 0);
    CHECK_STR(o.method, "PUT");
    unlink(path);
    CHECK_INT(parse("-p", path, "http://h/", NULL), 2); /* gone */
}

static void test_merge(void)
{
    CHECK_INT(parse("--merge", "a.json", "b.json", NULL), 0);
    CHECK_U64(o.nmerge, 2);
    CHECK_STR(o.merge_files[1], "b.json");
    CHECK_INT(parse("--merge", NULL), 2);
}

static void test_usage_errors(void)
{
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w"); /* the messages themselves are tested in test_loadgen_cli.py */
    const char *bad[][6] = {
        {NULL},
        {"-n", "0", "http://h/"},
        {"-n", "-5", "http://h/"},
        {"-n", "x", "http://h/"},
        {"-c", "0", "http://h/"},
        {"-n", "2", "-c", "3", "http://h/"},
        {"-t", "0", "http://h/"},
        {"-t", "nan", "http://h/"},
        {"-t", "1e308", "http://h/"},
        {"--duration", "5 parsecs", "http://h/"},
        {"--rate", "-1", "http://h/"},
        {"--idle", "-1", "http://h/"},
        {"--idle", "1000001", "http://h/"},
        {"--idle-mode", "cold", "http://h/"},
        {"--rate", "inf", "http://h/"},
        {"--threads", "0", "http://h/"},
        {"--threads", "257", "http://h/"},
        {"-H", "NoColon", "http://h/"},
        {"-H", "X: a\r\nY: b", "http://h/"},
        {"-m", "GET X", "http://h/"},
        {"-m", "", "http://h/"},
        {"--source", "127.0.0.9-127.0.0.1", "http://h/"},
        {"--source", "10.0.0.0-10.1.0.0", "http://h/"},
        {"--source", "::1", "http://127.0.0.1/"},
        {"--busy-poll", "1000001", "http://h/"},
        {"--bogus", "http://h/"},
        {"-Z", "http://h/"},
        {"-n"},
        {"http://h/", "extra"},
        {"ftp://h/"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4], NULL);
        if (rc != 2)
            fprintf(saved, "case %zu (%s %s) gave %d\n", i, bad[i][0] ? bad[i][0] : "", bad[i][1] ? bad[i][1] : "",
                    rc);
        CHECK_INT(rc, 2);
    }
    fclose(stderr);
    stderr = saved;
}

static void test_help_and_version(void)
{
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    CHECK_INT(parse("-h", NULL), 1);
    CHECK_INT(parse("--version", NULL), 1);
    fclose(stdout);
    stdout = saved;
}

int main(void)
{
    test_defaults();
    test_flags();
    test_body_file();
    test_merge();
    test_usage_errors();
    test_help_and_version();
    lg_options_free(&o);
    return check_exit();
}
