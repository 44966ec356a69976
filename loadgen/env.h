/* The environment a result was measured in (host, kernel, CPU, limits). */
#ifndef LG_ENV_H
#define LG_ENV_H
#include <jansson.h>

/* Raises RLIMIT_NOFILE's soft limit to the hard one and returns the limit in force. */
long lg_env_raise_nofile(void);
/* The JSON "environment" object; NULL on allocation failure. */
json_t *lg_env_json(long nofile_limit);

#endif
