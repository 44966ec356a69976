/* The servers' strict number parsers (options and /?delay_ms=&bytes= overrides) and the request
 * plan built from a parsed request. */
#include "check.h"
#include "request_plan.h"

#include <stdlib.h>

static void test_u64(void)
{
    uint64_t v = 7;
    CHECK_INT(parse_u64_in("0", 1, 0, 10, &v), 0);
    CHECK_U64(v, 0);
    CHECK_INT(parse_u64_in("18446744073709551615", 20, 0, UINT64_MAX, &v), 0);
    CHECK_U64(v, UINT64_MAX);
    CHECK_INT(parse_u64_in("18446744073709551616", 20, 0, UINT64_MAX, &v), -1); /* overflow */
    CHECK_INT(parse_u64_in("11", 2, 0, 10, &v), -1);
    CHECK_INT(parse_u64_in("", 0, 0, 10, &v), -1);
    CHECK_INT(parse_u64_in("-1", 2, 0, 10, &v), -1);
    CHECK_INT(parse_u64_in("+1", 2, 0, 10, &v), -1);
    CHECK_INT(parse_u64_in("1 ", 2, 0, 10, &v), -1);
    CHECK_INT(parse_u64_in("123", 2, 0, 100, &v), 0); /* only the given length counts */
    CHECK_U64(v, 12);
}

static void test_double(void)
{
    double d = -1;
    CHECK_INT(parse_double_in("2.5", 3, 0, 10, &d), 0);
    CHECK(d == 2.5);
    CHECK_INT(parse_double_in("10.0001", 7, 0, 10, &d), -1);
    const char *bad[] = {"", "inf", "nan", "0x10", "1e3", "-1", " 1", "1.2.3", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(parse_double_in(bad[i], strlen(bad[i]), 0, 1e9, &d), -1);
    static char long_num[100];
    memset(long_num, '1', sizeof long_num - 1);
    CHECK_INT(parse_double_in(long_num, strlen(long_num), 0, 1e300, &d), -1);
}

/* Parses one complete request and plans it. */
static int plan_for(const char *text, request_plan_t *plan)
{
    static const server_options_t opts = {.body_bytes = 64, .delay_ns = 1000};
    http_request_t *r = malloc(sizeof *r);
    http_request_init(r);
    size_t used;
    int status = 0;
    CHECK_INT(http_request_feed(r, text, strlen(text), &used, &status), REQ_COMPLETE);
    int rc = request_plan_make(r, &opts, plan);
    free(r);
    return rc;
}

static void test_plan(void)
{
    request_plan_t p;
    CHECK_INT(plan_for("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &p), 0);
    CHECK(!p.stats && !p.head && p.keep_alive && !p.custom_body);
    CHECK_U64(p.body_bytes, 64);
    CHECK_U64(p.delay_ns, 1000);
    CHECK_INT(plan_for("HEAD /?delay_ms=1.5&bytes=7&other=x HTTP/1.0\r\n\r\n", &p), 0);
    CHECK(p.head && !p.keep_alive && p.custom_body);
    CHECK_U64(p.body_bytes, 7);
    CHECK_U64(p.delay_ns, 1500000);
    CHECK_INT(plan_for("GET /__stats HTTP/1.1\r\nHost: x\r\n\r\n", &p), 0);
    CHECK(p.stats);
    CHECK_U64(p.delay_ns, 0);
    CHECK_INT(plan_for("GET /?bytes=99999999 HTTP/1.1\r\nHost: x\r\n\r\n", &p), 400);
    CHECK_INT(plan_for("GET /?delay_ms=60001 HTTP/1.1\r\nHost: x\r\n\r\n", &p), 400);
    CHECK_INT(plan_for("GET /?delay_ms= HTTP/1.1\r\nHost: x\r\n\r\n", &p), 400);
}

int main(void)
{
    http_request_global_init();
    test_u64();
    test_double();
    test_plan();
    return check_exit();
}
