/* --merge's JSON reader: the input is a result file, merged after itself, so it is read both as
 * the first file and as one added to a result. Bad input must be an error with a message. */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void merge(const char *const *files, size_t n)
{
    lg_result *r = lg_result_new();
    char err[512] = "";
    if (lg_merge_files(files, n, r, err, sizeof err) != 0 && err[0] == '\0') {
        fprintf(stderr, "merge failed without a message\n");
        abort();
    }
    lg_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The reader takes file names: hand it an in-memory file. */
    int fd = memfd_create("fuzz-merge", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        perror("memfd");
        abort();
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const char *files[] = {path, path};
    merge(files, 2);
    close(fd);
    return 0;
}
