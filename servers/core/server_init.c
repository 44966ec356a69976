#include "server_init.h"

#include "http_request.h"
#include "response.h"
#include "work.h"

int server_init(int argc, char **argv, const model_traits_t *m, server_options_t *opts, server_stats_t **stats)
{
    options_parse(argc, argv, m, opts);
    if (!(*stats = stats_create(m->name, model_instances(m, opts))) || responses_init(m->name, opts) != 0)
        return -1;
    http_request_global_init();
    work_init();
    return 0;
}
