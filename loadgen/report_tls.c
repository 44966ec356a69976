/* The text report's TLS lines: what was negotiated, whether the certificate was checked, and the
 * handshakes (resumed, failed by cause). Printed for https:// runs only. */
#include <inttypes.h>

#include "report.h"

int lg_report_is_tls(const lg_result *r)
{
    return json_is_object(json_object_get(r->config, "tls"));
}

void lg_report_tls_text(FILE *f, const lg_result *r)
{
    if (!lg_report_is_tls(r))
        return;
    json_t *tls = json_object_get(r->config, "tls");
    const lg_counts *n = &r->counts;
    fprintf(f, "TLS:                    %s\n", r->has_negotiated ? r->negotiated : "(no handshake finished)");
    fprintf(f, "TLS certificate:        %s\n",
            json_is_true(json_object_get(tls, "verify"))
                ? "verified (--tls-verify)"
                : "not verified (as ab and wrk; --tls-verify checks it)");
    fprintf(f, "TLS handshakes:         %" PRIu64 " (resumed: %" PRIu64 "%s)\n", n->tls_handshakes,
            n->tls_resumed, json_is_true(json_object_get(tls, "resume")) ? "" : "; --tls-resume off");
    uint64_t failed = n->tls_failed_verify + n->tls_failed_protocol + n->tls_failed_reset +
                      n->tls_failed_timeout;
    if (failed)
        fprintf(f, "TLS handshake failures: %" PRIu64 " (verify: %" PRIu64 ", protocol: %" PRIu64
                   ", reset: %" PRIu64 ", timeout: %" PRIu64 ")\n",
                failed, n->tls_failed_verify, n->tls_failed_protocol, n->tls_failed_reset,
                n->tls_failed_timeout);
}
