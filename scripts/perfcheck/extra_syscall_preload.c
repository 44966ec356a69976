/* LD_PRELOAD shim that makes a program issue exactly one more system call per read, without
 * editing or rebuilding it: the known-bad candidate that validates the syscall gate
 * (scripts/perfcheck/slowdown.py builds it on demand, like the slowdown shim).
 *
 *   C10K_EXTRA_FCNTL_MATCH=S  programs whose name contains S (default "server-") make one
 *                             fcntl(fd, F_GETFL) before every read() and recv(); others are left as is.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static int extra_enabled;
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);

static void *extra_next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "c10k extra-syscall shim: dlsym(%s) failed: %s\n", name, dlerror());
        abort();
    }
    return f;
}

__attribute__((cold, noinline)) static void extra_resolve(void)
{
    real_read = (ssize_t (*)(int, void *, size_t))extra_next("read");
    real_recv = (ssize_t (*)(int, void *, size_t, int))extra_next("recv");
}

__attribute__((constructor)) static void extra_init(void)
{
    extra_resolve();
    const char *match = getenv("C10K_EXTRA_FCNTL_MATCH");
    if (!match || !*match)
        match = "server-";
    extra_enabled = strstr(program_invocation_short_name, match) != NULL;
}

/* errno is kept as the caller left it, so only the number of system calls changes. */
static inline void extra_syscall(int fd)
{
    if (!extra_enabled)
        return;
    int saved = errno;
    (void)fcntl(fd, F_GETFL);
    errno = saved;
}

ssize_t read(int fd, void *buf, size_t len)
{
    if (__builtin_expect(!real_read, 0))
        extra_resolve();
    extra_syscall(fd);
    return real_read(fd, buf, len);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    if (__builtin_expect(!real_recv, 0))
        extra_resolve();
    extra_syscall(fd);
    return real_recv(fd, buf, len, flags);
}
