#include "server_init.h"

#include "http_request.h"
#include "response.h"
#include "stats.h"
#include "work.h"

void server_init(int argc, char **argv, const model_traits_t *m, server_options_t *opts)
{
    options_parse(argc, argv, m, opts);
    stats_init(m->name);
    responses_init(m->name, opts);
    http_request_global_init();
    work_init();
}
