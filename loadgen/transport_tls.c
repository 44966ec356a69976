/* The TLS transport (transport.h): plain TCP's connect, then a non-blocking OpenSSL handshake that
 * the event loop drives step by step, then SSL_read and SSL_write.
 *
 * OpenSSL talks to the socket through a small BIO of our own rather than its socket BIO: it uses
 * recv and send (MSG_NOSIGNAL), and it remembers whether the last recv came back short. With
 * read-ahead, OpenSSL asks for a whole buffer at once, so a short recv means the socket is
 * drained; tls_read can then return without one more recv that would only say EAGAIN, which
 * keeps a keep-alive request at one recv, as on plain TCP. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "transport.h"
#include "worker.h"

/* The run's shared state: one SSL_CTX (OpenSSL makes it safe to share between threads), our BIO
 * method, and what the first finished handshake negotiated. */
typedef struct tls_shared {
    SSL_CTX *ctx;
    BIO_METHOD *bio;
    const char *sni;       /* the URL's host, or NULL for an address literal (RFC 6066) */
} tls_shared;

/* A thread's: the session to resume (--tls-resume) and room for a failure's message. */
typedef struct tls_thread {
    SSL_SESSION *session;
    char msg[256];
} tls_thread;

/* A connection's. */
typedef struct tls_conn {
    SSL *ssl;
    int fd;
    int drained; /* the last recv returned less than asked: the socket had no more */
} tls_conn;

static int bio_read(BIO *b, char *buf, size_t len, size_t *got)
{
    tls_conn *tc = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = recv(tc->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        tc->drained = (size_t)n < len;
        *got = (size_t)n;
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        tc->drained = 1;
        BIO_set_retry_read(b);
    }
    *got = 0;
    return n == 0 ? 0 : -1; /* 0: end of file; -1 with errno for the caller */
}

static int bio_write(BIO *b, const char *buf, size_t len, size_t *put)
{
    tls_conn *tc = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = send(tc->fd, buf, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0) {
        *put = (size_t)n;
        return 1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        BIO_set_retry_write(b);
    *put = 0;
    return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* writes go straight to the socket: nothing to flush */
}

/* -f: the protocol versions to allow (ab's names; 0 = OpenSSL's lowest or highest). */
static int protocol_range(const char *name, int *min, int *max)
{
    static const struct {
        const char *name;
        int version;
    } v[] = {{"SSL3", SSL3_VERSION}, {"TLS1", TLS1_VERSION}, {"TLS1.1", TLS1_1_VERSION},
             {"TLS1.2", TLS1_2_VERSION}, {"TLS1.3", TLS1_3_VERSION}};
    *min = *max = 0;
    if (!name || strcasecmp(name, "ALL") == 0)
        return 0;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcasecmp(name, v[i].name) == 0) {
            *min = *max = v[i].version;
            return 0;
        }
    return -1;
}

/* OpenSSL's first queued error as text, and the queue emptied. */
static const char *ssl_error_text(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error();
    if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "unknown OpenSSL error");
    ERR_clear_error();
    return buf;
}

/* --tls-resume: OpenSSL hands over each new session (a TLS 1.3 ticket arrives after the
 * handshake); the thread keeps the newest for its next connection. */
static int new_session(SSL *ssl, SSL_SESSION *s)
{
    lg_conn *c = SSL_get_app_data(ssl);
    tls_thread *tt = c->thr->tr_state;
    if (tt->session)
        SSL_SESSION_free(tt->session);
    tt->session = s;
    return 1; /* we keep the reference */
}

static int ctx_options(SSL_CTX *ctx, const lg_options *o, char *err, size_t errlen)
{
    char e[256];
    int min, max;
    if (protocol_range(o->tls_protocol, &min, &max) || !SSL_CTX_set_min_proto_version(ctx, min) ||
        !SSL_CTX_set_max_proto_version(ctx, max)) {
        snprintf(err, errlen, "-f %s: not available in this OpenSSL: %s", o->tls_protocol,
                 ssl_error_text(e, sizeof e));
        return -1;
    }
    /* -Z: a cipher list for TLS 1.2 and below, or else TLS 1.3 suites (OpenSSL keeps them apart). */
    if (o->tls_ciphers && !SSL_CTX_set_cipher_list(ctx, o->tls_ciphers) &&
        !SSL_CTX_set_ciphersuites(ctx, o->tls_ciphers)) {
        snprintf(err, errlen, "-Z %s: no cipher OpenSSL knows: %s", o->tls_ciphers,
                 ssl_error_text(e, sizeof e));
        return -1;
    }
    ERR_clear_error(); /* the failed cipher-list attempt before a good suite list */
    static const unsigned char alpn[] = "\x08http/1.1";
    if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {
        snprintf(err, errlen, "cannot set ALPN: %s", ssl_error_text(e, sizeof e));
        return -1;
    }
    if (o->tls_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = o->tls_cacert ? SSL_CTX_load_verify_locations(ctx, o->tls_cacert, NULL)
                               : SSL_CTX_set_default_verify_paths(ctx);
        if (!ok) {
            snprintf(err, errlen, "cannot load trusted certificates%s%s: %s",
                     o->tls_cacert ? " from " : "", o->tls_cacert ? o->tls_cacert : "",
                     ssl_error_text(e, sizeof e));
            return -1;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (o->tls_resume) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, new_session);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    /* Read whole buffers (see the top of this file); a peer that closes without close_notify is
     * an end of file: HTTP's own framing tells a cut response. */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return 0;
}

int lg_tls_check_options(const lg_options *o, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        char e[256];
        snprintf(err, errlen, "cannot set up OpenSSL: %s", ssl_error_text(e, sizeof e));
        return -1;
    }
    int rc = ctx_options(ctx, o, err, errlen);
    SSL_CTX_free(ctx);
    return rc;
}

static void tls_teardown(lg_shared *sh)
{
    tls_shared *ts = sh->tr_ctx;
    if (!ts)
        return;
    SSL_CTX_free(ts->ctx);
    BIO_meth_free(ts->bio);
    free(ts);
    sh->tr_ctx = NULL;
}

static int tls_setup(lg_shared *sh, char *err, size_t errlen)
{
    const lg_options *o = sh->o;
    tls_shared *ts = calloc(1, sizeof *ts);
    if (!ts) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sh->tr_ctx = ts;
    char e[256];
    ts->ctx = SSL_CTX_new(TLS_client_method());
    int type = BIO_get_new_index();
    ts->bio = type > 0 ? BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "loadgen socket") : NULL;
    if (!ts->ctx || !ts->bio || !BIO_meth_set_read_ex(ts->bio, bio_read) ||
        !BIO_meth_set_write_ex(ts->bio, bio_write) || !BIO_meth_set_ctrl(ts->bio, bio_ctrl)) {
        snprintf(err, errlen, "cannot set up OpenSSL: %s", ssl_error_text(e, sizeof e));
        tls_teardown(sh);
        return -1;
    }
    if (ctx_options(ts->ctx, o, err, errlen)) {
        tls_teardown(sh);
        return -1;
    }
    struct in6_addr a;
    int literal = inet_pton(AF_INET, o->url.host, &a) == 1 || inet_pton(AF_INET6, o->url.host, &a) == 1;
    ts->sni = literal ? NULL : o->url.host;
    return 0;
}

static void tls_thread_free(lg_thread *t)
{
    tls_thread *tt = t->tr_state;
    if (!tt)
        return;
    if (tt->session)
        SSL_SESSION_free(tt->session);
    free(tt);
    t->tr_state = NULL;
}

static void free_conn(lg_conn *c)
{
    tls_conn *tc = c->tr_conn;
    if (!tc)
        return;
    SSL_free(tc->ssl); /* frees its BIO too */
    free(tc);
    c->tr_conn = NULL;
}

/* The SSL for a connection whose TCP connect just finished; NULL with *err on failure. */
static tls_conn *new_conn(lg_conn *c, int *err)
{
    lg_thread *t = c->thr;
    tls_shared *ts = t->sh->tr_ctx;
    if (!t->tr_state && !(t->tr_state = calloc(1, sizeof(tls_thread)))) {
        *err = ENOMEM;
        return NULL;
    }
    tls_thread *tt = t->tr_state;
    tls_conn *tc = calloc(1, sizeof *tc);
    BIO *bio = NULL;
    if (!tc || !(tc->ssl = SSL_new(ts->ctx)) || !(bio = BIO_new(ts->bio))) {
        BIO_free(bio);
        if (tc)
            SSL_free(tc->ssl);
        free(tc);
        ERR_clear_error();
        *err = ENOMEM;
        return NULL;
    }
    tc->fd = c->fd;
    BIO_set_data(bio, tc);
    BIO_set_init(bio, 1);
    SSL_set_bio(tc->ssl, bio, bio);
    SSL_set_app_data(tc->ssl, c);
    SSL_set_connect_state(tc->ssl);
    c->tr_conn = tc;
    const lg_options *o = t->sh->o;
    int ok = 1;
    if (ts->sni)
        ok = SSL_set_tlsext_host_name(tc->ssl, ts->sni);
    if (ok && o->tls_verify)
        ok = ts->sni ? SSL_set1_host(tc->ssl, ts->sni)
                     : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tc->ssl), o->url.host);
    if (ok && o->tls_resume && tt->session)
        ok = SSL_set_session(tc->ssl, tt->session);
    if (!ok) {
        snprintf(tt->msg, sizeof tt->msg, "cannot set up the TLS connection: %s",
                 ssl_error_text((char[256]){0}, 256));
        free_conn(c);
        *err = EINVAL;
        return NULL;
    }
    return tc;
}

/* Why SSL_connect failed (rc its return value). */
static enum lg_hs failure(lg_conn *c, int rc, int *err, const char **what)
{
    tls_conn *tc = c->tr_conn;
    tls_thread *tt = c->thr->tr_state;
    int kind = SSL_get_error(tc->ssl, rc);
    int sys = errno;
    *what = tt->msg;
    if (kind == SSL_ERROR_SYSCALL || kind == SSL_ERROR_ZERO_RETURN) {
        *err = kind == SSL_ERROR_SYSCALL && sys ? sys : ECONNRESET;
        snprintf(tt->msg, sizeof tt->msg, "TLS handshake: %s",
                 kind == SSL_ERROR_SYSCALL && sys ? strerror(sys) : "the server closed the connection");
        ERR_clear_error();
        return LG_HS_RESET;
    }
    unsigned long e = ERR_peek_error();
    char text[200];
    ssl_error_text(text, sizeof text);
    long v = SSL_get_verify_result(tc->ssl);
    if (v != X509_V_OK) {
        *err = EPROTO;
        snprintf(tt->msg, sizeof tt->msg, "TLS handshake: certificate not verified: %s",
                 X509_verify_cert_error_string(v));
        return LG_HS_VERIFY;
    }
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        *err = ECONNRESET;
        snprintf(tt->msg, sizeof tt->msg, "TLS handshake: the server closed the connection");
        return LG_HS_RESET;
    }
    *err = EPROTO;
    snprintf(tt->msg, sizeof tt->msg, "TLS handshake: %s", text);
    return LG_HS_PROTOCOL;
}

static enum lg_hs tls_handshake(lg_conn *c, int *err, const char **what)
{
    *what = NULL;
    tls_conn *tc = c->tr_conn;
    if (!tc && !(tc = new_conn(c, err))) {
        tls_thread *tt = c->thr->tr_state;
        *what = tt && tt->msg[0] ? tt->msg : NULL;
        return LG_HS_PROTOCOL;
    }
    errno = 0;
    int rc = SSL_connect(tc->ssl);
    if (rc == 1)
        return SSL_session_reused(tc->ssl) ? LG_HS_RESUMED : LG_HS_DONE;
    int kind = SSL_get_error(tc->ssl, rc);
    if (kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE)
        return LG_HS_AGAIN; /* edge-triggered in both directions: the next event comes */
    return failure(c, rc, err, what);
}

static void tls_describe(const lg_conn *c, char *buf, size_t len)
{
    const tls_conn *tc = c->tr_conn;
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(tc->ssl, &alpn, &alpn_len);
    snprintf(buf, len, "%s, %s, ALPN %.*s", SSL_get_version(tc->ssl),
             SSL_CIPHER_get_name(SSL_get_current_cipher(tc->ssl)), alpn_len ? (int)alpn_len : 4,
             alpn_len ? (const char *)alpn : "none");
}

/* SSL_read until len bytes, or until the socket is drained (a short recv, nothing buffered):
 * one call takes what one recv brought, however many TLS records it held. */
static ssize_t tls_read(lg_conn *c, void *buf, size_t len)
{
    tls_conn *tc = c->tr_conn;
    size_t got = 0;
    while (got < len) {
        size_t n;
        if (SSL_read_ex(tc->ssl, (char *)buf + got, len - got, &n)) {
            got += n;
            if (tc->drained && !SSL_has_pending(tc->ssl))
                break;
            continue;
        }
        int kind = SSL_get_error(tc->ssl, 0);
        if (got)
            break; /* the error, or end of file, comes again on the next call */
        if (kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE) {
            errno = EAGAIN;
            return -1;
        }
        if (kind == SSL_ERROR_ZERO_RETURN)
            return 0;
        if (kind != SSL_ERROR_SYSCALL || !errno)
            errno = EPROTO;
        ERR_clear_error();
        return -1;
    }
    return (ssize_t)got;
}

static ssize_t tls_write(lg_conn *c, const void *buf, size_t len)
{
    tls_conn *tc = c->tr_conn;
    size_t n;
    if (SSL_write_ex(tc->ssl, buf, len, &n))
        return (ssize_t)n;
    int kind = SSL_get_error(tc->ssl, 0);
    if (kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (kind != SSL_ERROR_SYSCALL || !errno)
        errno = EPIPE;
    ERR_clear_error();
    return -1;
}

static void tls_close(lg_conn *c)
{
    tls_conn *tc = c->tr_conn;
    /* close_notify after a finished handshake: a session closed without it may not be resumed. */
    if (tc && SSL_is_init_finished(tc->ssl) && !(SSL_get_shutdown(tc->ssl) & SSL_SENT_SHUTDOWN)) {
        SSL_shutdown(tc->ssl);
        ERR_clear_error();
    }
    free_conn(c);
    lg_transport_tcp.close(c);
}

static int tls_connect(lg_thread *t, lg_conn *c, enum lg_err *cls)
{
    return lg_transport_tcp.connect(t, c, cls);
}

static int tls_connect_error(lg_conn *c)
{
    return lg_transport_tcp.connect_error(c);
}

const lg_transport lg_transport_tls = {
    .name = "tls", .connect = tls_connect, .connect_error = tls_connect_error, .read = tls_read,
    .write = tls_write, .close = tls_close, .handshake = tls_handshake, .describe = tls_describe,
    .setup = tls_setup, .teardown = tls_teardown, .thread_free = tls_thread_free};
