/* The io_uring engine's pure bookkeeping (uring_parts.h): completion tags keep index, socket
 * generation and op apart; ring sizes are clamped powers of two; a completed receive's bytes are
 * handed over as recv() would hand them, before the close or the error that followed. */
#include "check.h"
#include "uring_parts.h"

static void tags(void)
{
    uint64_t t = lg_utag(19999u, 65535u, LG_UOP_SEND);
    CHECK_INT(lg_utag_idx(t), 19999);
    CHECK_INT(lg_utag_gen(t), 65535);
    CHECK_INT(lg_utag_op(t), LG_UOP_SEND);
    t = lg_utag(0xffffffffu, 0, LG_UOP_RECV);
    CHECK_INT(lg_utag_idx(t), 0xffffffffu);
    CHECK_INT(lg_utag_gen(t), 0);
    CHECK_INT(lg_utag_op(t), LG_UOP_RECV);
    /* A closed socket's completions must not match the next one's. */
    CHECK(lg_utag(7, 1, LG_UOP_CONNECT) != lg_utag(7, 2, LG_UOP_CONNECT));
    CHECK(lg_utag(0, 0, LG_UOP_WAKE) != 0); /* 0 is never a tag: a zeroed sqe would look like it */
}

static void sizes(void)
{
    CHECK_INT(lg_upow2_clamp(0, 16, 512), 16);
    CHECK_INT(lg_upow2_clamp(16, 16, 512), 16);
    CHECK_INT(lg_upow2_clamp(17, 16, 512), 32);
    CHECK_INT(lg_upow2_clamp(100, 16, 512), 128);
    CHECK_INT(lg_upow2_clamp(512, 16, 512), 512);
    CHECK_INT(lg_upow2_clamp(20000, 16, 512), 512);
}

static void take(void)
{
    char dst[8];
    int err = 0;
    lg_urx rx = {0};
    CHECK_INT(lg_urx_take(&rx, dst, sizeof dst, &err), -1);
    CHECK_INT(err, EAGAIN); /* nothing completed: as an empty non-blocking socket */

    rx.data = "0123456789AB";
    rx.len = 12;
    rx.eof = 1; /* the close came after the bytes */
    CHECK_INT(lg_urx_take(&rx, dst, sizeof dst, &err), 8);
    CHECK(memcmp(dst, "01234567", 8) == 0);
    CHECK_INT(lg_urx_take(&rx, dst, sizeof dst, &err), 4);
    CHECK(memcmp(dst, "89AB", 4) == 0);
    CHECK_INT(lg_urx_take(&rx, dst, sizeof dst, &err), 0);
    CHECK_INT(lg_urx_take(&rx, dst, sizeof dst, &err), 0); /* the close stays said */

    lg_urx bad = {.data = "xy", .len = 2, .err = ECONNRESET};
    err = 0;
    CHECK_INT(lg_urx_take(&bad, dst, sizeof dst, &err), 2);
    CHECK_INT(lg_urx_take(&bad, dst, sizeof dst, &err), -1);
    CHECK_INT(err, ECONNRESET);
}

int main(void)
{
    tags();
    sizes();
    take();
    return check_exit();
}
