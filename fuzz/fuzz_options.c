/* The loadgen's command line: the input is a list of NUL-separated arguments. Every list either
 * parses into consistent options or is a usage error (2); help and version give 1.
 * Arguments that could name a body file to read (-p, -u) are left out: the parser would read
 * whatever file they name, which is not what is being fuzzed. */
#include "options.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 32

static void bad(const char *what)
{
    fprintf(stderr, "inconsistent options: %s\n", what);
    abort();
}

/* A short-option cluster such as "-kp" that includes a file-reading flag. */
static int reads_a_file(const char *arg)
{
    return arg[0] == '-' && arg[1] != '-' && strpbrk(arg + 1, "pu") != NULL;
}

static int null_fd = -1, saved_out = -1, saved_err = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    saved_out = dup(STDOUT_FILENO);
    saved_err = dup(STDERR_FILENO);
    if (null_fd < 0 || saved_out < 0 || saved_err < 0)
        abort();
    return 0;
}

/* Usage messages and help text would drown libFuzzer's output: silenced during the parse only. */
static void quiet(int on)
{
    fflush(stdout);
    fflush(stderr);
    dup2(on ? null_fd : saved_out, STDOUT_FILENO);
    dup2(on ? null_fd : saved_err, STDERR_FILENO);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "loadgen";
    for (char *p = buf; p < buf + size && argc <= MAX_ARGS; p += strlen(p) + 1) {
        if (reads_a_file(p)) {
            free(buf);
            return 0;
        }
        argv[argc++] = p;
    }
    argv[argc] = NULL;
    static lg_options o;
    quiet(1);
    int rc = lg_options_parse(argc, argv, &o);
    quiet(0);
    if (rc == 0 && o.nmerge == 0) {
        if (o.concurrency < 1 || o.threads < 1 || o.threads > o.concurrency)
            bad("concurrency or threads");
        if (!o.method || !o.method[0])
            bad("method");
        if (o.url.path[0] != '/' || o.url.port < 1 || o.url.port > 65535)
            bad("url");
        if (o.requests_set && (uint64_t)o.concurrency > o.requests)
            bad("more connections than requests");
        if (!(o.rate >= 0) || !(o.time_limit_s >= 0) || !(o.timeout_s > 0))
            bad("a negative or NaN number");
        if (o.nsources > 0 && !o.sources)
            bad("sources");
    } else if (rc != 0 && rc != 1 && rc != 2) {
        bad("exit status");
    }
    lg_options_free(&o);
    free(buf);
    return 0;
}
