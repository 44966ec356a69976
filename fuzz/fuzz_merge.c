/* --merge's JSON reader: the input is a result file, merged after itself, so it is read both as
 * the first file and as one added to a result. Bad input must be an error with a message. */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* One result serves every execution: allocating its 1.5 MB of histograms anew each time cost
 * more than the reading. lg_result_reset brings it back to the state lg_result_new gives. */
static lg_result *result;

static void merge(const char *const *files, size_t n)
{
    if (!result && !(result = lg_result_new())) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    char err[512] = "";
    if (lg_merge_files(files, n, result, 0, err, sizeof err) != 0 && err[0] == '\0') {
        fprintf(stderr, "merge failed without a message\n");
        abort();
    }
    lg_result_reset(result);
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
