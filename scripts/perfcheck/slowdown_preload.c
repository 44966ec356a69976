/* LD_PRELOAD shim that makes a program slower by a known, deterministic amount, without editing or
 * rebuilding it: used to validate the performance gates honestly (scripts/perfcheck/slowdown.py
 * builds it on demand).
 *
 *   C10K_SLOWDOWN_ITERS=N    before every write(), writev(), send() and sendmsg() the program makes,
 *                            run N iterations of a serial multiply-add chain (about 4 instructions
 *                            and 1-1.5 ns each): a fixed cost per response, the same under valgrind
 *                            and natively.
 *   C10K_SLOWDOWN_MATCH=S    only programs whose name contains S are slowed (default "server-"), so
 *                            the loadgen sharing the environment is not.
 *   C10K_SLOWDOWN_ITERS_<program>=N   a count for one program, e.g. C10K_SLOWDOWN_ITERS_server_epoll
 *                            (characters other than letters and digits become '_'); it wins over
 *                            the two above, so each server can be slowed by its own share.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static uint64_t slowdown_iters;
static volatile uint64_t slowdown_sink; /* keeps the compiler from deleting the chain */

/* getenv("C10K_SLOWDOWN_ITERS_<this program's name, sanitized>"). */
static const char *slowdown_program_iters(void)
{
    static const char prefix[] = "C10K_SLOWDOWN_ITERS_";
    char name[sizeof prefix + 64];
    const char *prog = program_invocation_short_name;
    size_t len = strlen(prog);
    if (len > 64)
        return NULL;
    memcpy(name, prefix, sizeof prefix - 1);
    for (size_t i = 0; i < len; i++) {
        char c = prog[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        name[sizeof prefix - 1 + i] = alnum ? c : '_';
    }
    name[sizeof prefix - 1 + len] = '\0';
    return getenv(name);
}

__attribute__((constructor)) static void slowdown_init(void)
{
    const char *iters = slowdown_program_iters();
    if (!iters) {
        const char *match = getenv("C10K_SLOWDOWN_MATCH");
        if (!match || !*match)
            match = "server-";
        if (!strstr(program_invocation_short_name, match))
            return;
        iters = getenv("C10K_SLOWDOWN_ITERS");
    }
    if (!iters || !*iters)
        return;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(iters, &end, 10);
    if (errno || *end || iters[0] == '-' || n > 1000000000ULL) {
        fprintf(stderr, "c10k slowdown shim: invalid iteration count '%s' for %s: expected 0..1000000000\n",
                iters, program_invocation_short_name);
        exit(2);
    }
    slowdown_iters = n;
}

/* Inlined, and free when the count is 0, so the wrapper itself adds only a few instructions:
 * that sets the smallest slowdown the shim can inject. */
static inline void slowdown_burn(void)
{
    uint64_t n = slowdown_iters;
    if (n == 0)
        return;
    uint64_t x = slowdown_sink;
    for (uint64_t i = 0; i < n; i++)
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    slowdown_sink = x;
}

/* The real functions, resolved in the constructor so the wrappers stay a handful of instructions
 * (the wrapper's own cost is the smallest slowdown the shim can inject). A call that arrives
 * before the constructor ran (another library's constructor writing) resolves them on the spot. */
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);

static void *slowdown_next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "c10k slowdown shim: dlsym(%s) failed: %s\n", name, dlerror());
        abort();
    }
    return f;
}

__attribute__((cold, noinline)) static void slowdown_resolve(void)
{
    real_write = (ssize_t (*)(int, const void *, size_t))slowdown_next("write");
    real_writev = (ssize_t (*)(int, const struct iovec *, int))slowdown_next("writev");
    real_send = (ssize_t (*)(int, const void *, size_t, int))slowdown_next("send");
    real_sendmsg = (ssize_t (*)(int, const struct msghdr *, int))slowdown_next("sendmsg");
}

__attribute__((constructor)) static void slowdown_resolve_early(void)
{
    slowdown_resolve();
}

ssize_t write(int fd, const void *buf, size_t len)
{
    if (__builtin_expect(!real_write, 0))
        slowdown_resolve();
    slowdown_burn();
    return real_write(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
    if (__builtin_expect(!real_writev, 0))
        slowdown_resolve();
    slowdown_burn();
    return real_writev(fd, iov, count);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    if (__builtin_expect(!real_send, 0))
        slowdown_resolve();
    slowdown_burn();
    return real_send(fd, buf, len, flags);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (__builtin_expect(!real_sendmsg, 0))
        slowdown_resolve();
    slowdown_burn();
    return real_sendmsg(fd, msg, flags);
}
