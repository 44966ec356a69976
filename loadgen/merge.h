/* Exact merge of several JSON results (multi-process and multi-host runs). */
#ifndef LG_MERGE_H
#define LG_MERGE_H
#include <stddef.h>

#include "result.h"

/* Adds every file's result into r (created empty by the caller). 0, or -1 with err set. */
int lg_merge_files(const char *const *files, size_t n, lg_result *r, char *err, size_t errlen);

#endif
