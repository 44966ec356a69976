/* Exact merge of several JSON results (multi-process and multi-host runs). */
#ifndef LG_MERGE_H
#define LG_MERGE_H
#include <stddef.h>

#include "result.h"

#define LG_MERGE_ALLOW_MIXED_TARGETS 1 /* results for different URLs may be merged */

/* Adds every file's result into r (created empty by the caller). 0, or -1 with err set. Every
 * file must be consistent in itself (counts, histograms and time series agree) and, unless flags
 * has LG_MERGE_ALLOW_MIXED_TARGETS, be for the first file's URL. */
int lg_merge_files(const char *const *files, size_t n, lg_result *r, unsigned flags, char *err,
                   size_t errlen);

#endif
