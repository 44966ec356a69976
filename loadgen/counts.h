/* What a run counts: its counters and latency histograms, one struct for a thread, a process and
 * a merge of several results, added together by one function.
 *
 * The summary counters are listed once, in LG_SUMMARY_COUNTERS: the struct, lg_counts_add, the
 * JSON writer and the JSON reader (--merge) all expand that list. A new summary counter is one
 * line here, the code that counts it, and its line in the text report. */
#ifndef LG_COUNTS_H
#define LG_COUNTS_H
#include <stddef.h>
#include <stdint.h>

#include "hist.h"

enum lg_err {
    LG_ERR_CONNECT, LG_ERR_READ, LG_ERR_WRITE, LG_ERR_TIMEOUT, LG_ERR_LENGTH, LG_ERR_PARSE,
    LG_ERR_EXCEPTION, LG_ERR_COUNT
};
extern const char *const lg_err_names[LG_ERR_COUNT]; /* JSON keys */

/* Why a connect failed, once per attempt (their sum is errors[LG_ERR_CONNECT]). */
enum lg_connfail {
    LG_CF_REFUSED, LG_CF_TIMED_OUT, LG_CF_UNREACHABLE, LG_CF_NO_LOCAL_ADDRESS, LG_CF_RESET,
    LG_CF_OTHER, LG_CF_COUNT
};
extern const char *const lg_connfail_names[LG_CF_COUNT]; /* JSON keys */
enum lg_connfail lg_connfail_class(int err);

#define LG_STATUS_MAX 1000 /* llhttp rejects a status code above 999 */

/* X(field, optional): the field is also its key in the JSON "summary"; optional ones may be
 * absent from a result written by an older loadgen (the reader takes 0 or derives them). */
#define LG_SUMMARY_COUNTERS(X)                                                                    \
    X(complete, 0)            /* responses complete (non-2xx and length failures included) */    \
    X(attempts, 1)            /* requests that ended: complete + failed - length failures */     \
    X(bytes_total, 0)         /* every response byte read, failed requests included */           \
    X(body_bytes, 0)          /* body bytes of complete responses */                             \
    X(keepalive_requests, 0)  /* requests sent on a reused connection */                         \
    X(connections_opened, 0)  /* successful connects */                                          \
    X(non_2xx, 0)             /* complete responses with a status outside 200-299 */             \
    X(warmup_requests, 1)     /* requests that ended during --warmup (not counted otherwise) */ \
    X(junk_after_response, 1) /* complete responses followed by bytes that frame no response */ \
    X(connects_abandoned, 1)  /* -n: connects still pending once the n requests were taken */   \
    /* --idle (idle.h): connections held beside the load; never in the counters above. The JSON  \
     * also gives them as the "idle" object. */                                                  \
    X(idle_requested, 1)      /* idle connections asked for */                                   \
    X(idle_opened, 1)         /* connected (and, --idle-mode request, answered) */               \
    X(idle_held_at_end, 1)    /* still open when the load ended */                               \
    X(idle_failed_to_open, 1) /* connect or the one request failed */                            \
    X(idle_closed_eof, 1)     /* opened, then closed by the server (FIN) */                      \
    X(idle_closed_reset, 1)   /* opened, then reset (or another error) */                        \
    X(idle_closed_timeout_answer, 1) /* opened, then the server sent something (e.g. a 408) */ \
    X(tls_handshakes, 1)      /* handshakes completed (TLS), resumed ones included */           \
    X(tls_resumed, 1)         /* of those, the ones where the server resumed a session */       \
    X(tls_failed_verify, 1)   /* handshakes failed: certificate not verified (--tls-verify) */  \
    X(tls_failed_protocol, 1) /* failed: not TLS, or no common version or cipher */             \
    X(tls_failed_reset, 1)    /* failed: the server closed or reset during the handshake */     \
    X(tls_failed_timeout, 1)  /* failed: not done within --connect-timeout */

typedef struct lg_counts {
#define LG_COUNTS_FIELD(name, optional) uint64_t name;
    LG_SUMMARY_COUNTERS(LG_COUNTS_FIELD)
#undef LG_COUNTS_FIELD
    uint64_t answered; /* connection slots that got a 2xx answer (JSON: establishment) */
    uint64_t errors[LG_ERR_COUNT];
    uint64_t connect_failures[LG_CF_COUNT]; /* errors[LG_ERR_CONNECT] by cause */
    uint64_t status[LG_STATUS_MAX];
    /* total_uncorrected: --rate only, from the actual send; total_2xx: 2xx answers only, so a
     * fast refusal (503) does not lower the latency of the answers that succeeded. */
    hist connect, waiting, processing, total, total_uncorrected, total_2xx;
    /* For complete requests that opened their connection: tls_handshake, from TCP connected to
     * ready for the request (when the transport has a handshake); first_byte, from the request's
     * start to its first response byte, connect and handshake included. */
    hist tls_handshake, first_byte;
} lg_counts;

/* The summary counters as a table (key and place), for code that walks them. */
typedef struct lg_counter_field {
    const char *key;
    size_t offset;
    int optional;
} lg_counter_field;
extern const lg_counter_field lg_summary_counters[];
extern const size_t lg_nsummary_counters;

static inline uint64_t *lg_counter_at(lg_counts *c, const lg_counter_field *f)
{
    return (uint64_t *)((char *)c + f->offset);
}

static inline uint64_t lg_counter_get(const lg_counts *c, const lg_counter_field *f)
{
    return *(const uint64_t *)((const char *)c + f->offset);
}

void lg_counts_init(lg_counts *c);
/* lg_counts_init for memory already zeroed (calloc). */
void lg_counts_init_zeroed(lg_counts *c);
/* dst += src, every counter and histogram. Returns -1, and changes nothing, when a sum would
 * wrap around (*wrapped, if given, names it: its JSON key; NULL on success): a merge then reports
 * an error instead of a wrong total. */
int lg_counts_add(lg_counts *dst, const lg_counts *src, const char **wrapped);
uint64_t lg_counts_failed(const lg_counts *c);

#endif
