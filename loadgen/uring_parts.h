/* The io_uring engine's pure bookkeeping, apart so that it is unit-tested without a ring: what a
 * completion's user_data names, how big the rings are, and the bytes a completed receive handed
 * to a connection that the state machine has not read yet. */
#ifndef LG_URING_PARTS_H
#define LG_URING_PARTS_H
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* What a submission was; its completion carries it back in user_data. */
enum lg_uop { LG_UOP_WAKE = 1, LG_UOP_CONNECT, LG_UOP_RECV, LG_UOP_SEND };

/* user_data: the connection's index in its thread, the generation of its socket (a completion
 * for a socket that was closed since must not reach the connection's next socket) and the op. */
static inline uint64_t lg_utag(uint32_t idx, uint16_t gen, unsigned op)
{
    return (uint64_t)idx | (uint64_t)gen << 32 | (uint64_t)(op & 0xffu) << 48;
}
static inline uint32_t lg_utag_idx(uint64_t tag) { return (uint32_t)tag; }
static inline uint16_t lg_utag_gen(uint64_t tag) { return (uint16_t)(tag >> 32); }
static inline unsigned lg_utag_op(uint64_t tag) { return (unsigned)(tag >> 48) & 0xffu; }

/* The smallest power of two >= n, kept within [lo, hi] (both powers of two): the kernel wants
 * ring sizes that are powers of two, and a provided-buffer ring indexes with a mask. */
static inline unsigned lg_upow2_clamp(unsigned long n, unsigned lo, unsigned hi)
{
    unsigned p = lo;
    while (p < n && p < hi)
        p <<= 1;
    return p;
}

/* A connection's side of the receives: the bytes of the completion being handed over, the
 * peer's close, or the error a completion reported. */
typedef struct lg_urx {
    const char *data;
    size_t len;
    int err;
    unsigned char eof;
} lg_urx;

/* recv()'s contract over what completed: up to len bytes into dst; once they are taken, the
 * error (-1, *err set) or the close (0); with nothing to say, -1 and EAGAIN. Bytes come before
 * the close and the error, as they would from the socket. */
static inline ssize_t lg_urx_take(lg_urx *rx, void *dst, size_t len, int *err)
{
    if (rx->len) {
        size_t n = rx->len < len ? rx->len : len;
        memcpy(dst, rx->data, n);
        rx->data += n;
        rx->len -= n;
        return (ssize_t)n;
    }
    if (rx->err) {
        *err = rx->err;
        return -1;
    }
    if (rx->eof)
        return 0;
    *err = EAGAIN;
    return -1;
}

#endif
