/* Command line: ab's flags with ab's meaning, plus long options beyond ab. */
#ifndef LG_OPTIONS_H
#define LG_OPTIONS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "c10k_version.h"
#include "url.h"

#define LG_VERSION C10K_VERSION /* the project's version, as in the User-Agent and the JSON */
#define LG_RATE_MIN 0.001 /* --rate, requests/s; the most is 1e7 */

/* --idle-mode: what an idle connection does once connected. */
enum lg_idle_mode {
    LG_IDLE_REQUEST, /* one keep-alive request, its whole answer, then silence */
    LG_IDLE_CONNECT, /* nothing at all: connected and silent */
};

/* --engine: how the connections wait for the kernel. */
enum lg_engine_kind {
    LG_ENGINE_READINESS, /* epoll: told when a socket is ready, then recv()/send() */
    LG_ENGINE_URING,     /* io_uring: multishot receives into provided buffers, batched sends */
};

typedef struct lg_options {
    uint64_t requests;      /* -n; 0 = unlimited (time limit only) */
    int requests_set;
    int concurrency;        /* -c */
    int idle;               /* --idle: connections held open beside the load, never measured */
    int idle_mode;          /* --idle-mode: enum lg_idle_mode */
    double time_limit_s;    /* -t / --duration; 0 = none */
    double timeout_s;       /* -s: from connected to the complete response */
    double connect_timeout_s; /* --connect-timeout; 0 = the same as -s */
    int keepalive;          /* -k */
    const char **headers;   /* -H, in order */
    size_t nheaders;
    char *cookie_header;    /* every -C in one "Cookie: a=1; b=2" (RFC 6265), owned */
    size_t cookie_slot;     /* its place in headers: where the first -C was */
    const char *method;
    const char *body_file;  /* -p / -u */
    char *body;             /* its contents */
    size_t body_len;
    const char *content_type; /* -T */
    int quiet;              /* -q: no progress, no notes (warnings and errors still print) */
    int worker;             /* --processes: 1 + this worker process's index; 0 otherwise */
    int verbosity;          /* -v */
    int variable_length;    /* -l */
    int threads;            /* --threads / -W (per process) */
    int processes;          /* --processes; 0 = one, or as many as -c needs */
    double start_at;        /* --start-at: wall-clock time (Unix seconds) to start at; 0 = now */
    double rate;            /* --rate, total requests/s; 0 = closed loop */
    double warmup_s;
    double ramp_s;
    int engine;             /* --engine: enum lg_engine_kind */
    int busy_poll_us;       /* --busy-poll: poll this long after the last event before sleeping */
    const char *json_path;  /* --json FILE|- */
    const char *source_spec;
    struct sockaddr_storage *sources;
    size_t nsources;
    int sources_automatic;  /* loadgen chose them (large -c to a loopback target) */
    char auto_source_spec[64];
    int progress;           /* -1 auto (TTY), 0 off, 1 on */
    const char *url_text;
    lg_url url;
    const char **merge_files; /* --merge */
    size_t nmerge;
    int allow_mixed_targets;  /* --allow-mixed-targets: --merge results for different URLs */
    /* https:// only (o->url.tls). */
    const char *tls_ciphers;  /* -Z: OpenSSL cipher list (TLS 1.2 and below) or TLS 1.3 suites */
    const char *tls_protocol; /* -f: SSL3, TLS1, TLS1.1, TLS1.2, TLS1.3 or ALL (NULL = ALL) */
    int tls_verify;           /* --tls-verify: check the certificate and name (off, as in ab) */
    const char *tls_cacert;   /* --cacert: trusted certificates (default: the system's) */
    int tls_resume;           /* --tls-resume: resume the thread's last session (tickets) */
} lg_options;

/* Returns 0 to run, 1 when it printed help or the version (exit 0), 2 on a usage error
 * (message already printed to stderr). */
int lg_options_parse(int argc, char **argv, lg_options *o);
void lg_options_free(lg_options *o);

#endif
