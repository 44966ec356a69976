/* uring-floor: a lower bound on a load generator's CPU per keep-alive request, not a tool.
 *
 * The cheapest request loop io_uring allows on one thread: N connections, each request one send
 * and one recv submitted in batches (one io_uring_enter per batch, deferred task work, poll-first
 * receives), no HTTP parsing, no clocks per request, no statistics. A response counts as done when
 * the given number of bytes has arrived, so it only works against a server whose keep-alive
 * response has a fixed size (nginx `return 200`). scripts/bench-loadgen.sh runs it beside loadgen,
 * wrk and ab to show how much of a generator's CPU per request is the kernel's TCP work, which no
 * user-space design removes.
 *
 * usage: uring-floor PORT CONNECTIONS REQUESTS RESPONSE_BYTES   (127.0.0.1 only)
 * prints: requests, seconds, requests/s, CPU per request (user+sys, getrusage) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "c10k_version.h"

static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

struct conn {
    int fd;
    long got; /* bytes of the current response so far */
    char buf[4096];
};

static long parse_arg(const char *s, long min, long max, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        fprintf(stderr, "uring-floor: %s must be a number from %ld to %ld, got '%s'\n", what, min,
                max, s);
        exit(2);
    }
    return v;
}

static double seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static struct io_uring_sqe *sqe_of(struct io_uring *ring)
{
    struct io_uring_sqe *s = io_uring_get_sqe(ring);
    if (!s) { /* the ring holds 2 entries per connection, so this cannot happen */
        fprintf(stderr, "uring-floor: submission queue full\n");
        exit(1);
    }
    return s;
}

static void queue_request(struct io_uring *ring, struct conn *c, int send_too)
{
    struct io_uring_sqe *s;
    if (send_too) {
        s = sqe_of(ring);
        io_uring_prep_send(s, c->fd, request, sizeof request - 1, MSG_NOSIGNAL);
        s->flags |= IOSQE_CQE_SKIP_SUCCESS; /* only a failed send reports */
        io_uring_sqe_set_data(s, NULL);
    }
    s = sqe_of(ring);
    io_uring_prep_recv(s, c->fd, c->buf, sizeof c->buf, 0);
    s->ioprio |= IORING_RECVSEND_POLL_FIRST; /* the response is not there yet: wait, then read */
    io_uring_sqe_set_data(s, c);
}

/* Opens the connections, runs the loop and prints the figures; returns the exit status. */
static int run(struct io_uring *ring, struct conn *conns, int nconn, int port, long total,
               long resp_bytes)
{
    int rc;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < nconn; i++) {
        int one = 1;
        conns[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (conns[i].fd < 0 ||
            setsockopt(conns[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
            connect(conns[i].fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
            fprintf(stderr, "uring-floor: connection %d to 127.0.0.1:%d: %s\n", i + 1, port,
                    strerror(errno));
            return 1;
        }
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long sent = 0, done = 0;
    for (int i = 0; i < nconn; i++, sent++)
        queue_request(ring, &conns[i], 1);
    while (done < total) {
        rc = io_uring_submit_and_wait(ring, 1);
        if (rc < 0 && rc != -EINTR) {
            fprintf(stderr, "uring-floor: io_uring_submit_and_wait: %s\n", strerror(-rc));
            return 1;
        }
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(ring, head, cqe) {
            seen++;
            struct conn *c = io_uring_cqe_get_data(cqe);
            if (cqe->res <= 0) {
                fprintf(stderr, "uring-floor: %s %s\n", c ? "recv" : "send",
                        cqe->res == 0 ? "hit end of file (the server closed)" : strerror(-cqe->res));
                return 1;
            }
            c->got += cqe->res;
            int complete = c->got >= resp_bytes;
            if (c->got > resp_bytes) {
                fprintf(stderr, "uring-floor: got %ld bytes for a %ld-byte response: the response "
                        "size is not fixed, or RESPONSE_BYTES is wrong\n", c->got, resp_bytes);
                return 1;
            }
            if (complete) {
                c->got = 0;
                done++;
                if (sent >= total)
                    continue;
                sent++;
            }
            queue_request(ring, c, complete);
        }
        io_uring_cq_advance(ring, seen);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0) {
        perror("uring-floor: getrusage");
        return 1;
    }
    double cpu = seconds(&ru.ru_utime) + seconds(&ru.ru_stime);
    printf("requests %ld seconds %.3f requests_per_sec %.0f cpu_us_per_request %.3f "
           "user_s %.3f sys_s %.3f\n",
           done, wall, (double)done / wall, cpu / (double)done * 1e6, seconds(&ru.ru_utime),
           seconds(&ru.ru_stime));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("uring-floor (c10k-bench) %s\n", C10K_VERSION_FULL);
        return 0;
    }
    if (argc != 5) {
        fprintf(stderr, "usage: uring-floor PORT CONNECTIONS REQUESTS RESPONSE_BYTES\n");
        return 2;
    }
    int port = (int)parse_arg(argv[1], 1, 65535, "PORT");
    int nconn = (int)parse_arg(argv[2], 1, 10000, "CONNECTIONS");
    long total = parse_arg(argv[3], 1, 1000000000L, "REQUESTS");
    long resp_bytes = parse_arg(argv[4], 1, 1 << 20, "RESPONSE_BYTES");
    if (total < nconn)
        nconn = (int)total;

    struct io_uring ring;
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int rc = io_uring_queue_init_params((unsigned)(2 * nconn + 8), &ring, &params);
    if (rc < 0) {
        fprintf(stderr, "uring-floor: io_uring_queue_init: %s\n", strerror(-rc));
        return 1;
    }
    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    for (int i = 0; conns && i < nconn; i++)
        conns[i].fd = -1;
    int status = conns ? run(&ring, conns, nconn, port, total, resp_bytes) : 1;
    if (!conns)
        fprintf(stderr, "uring-floor: out of memory\n");
    for (int i = 0; conns && i < nconn; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    free(conns);
    io_uring_queue_exit(&ring);
    return status;
}
