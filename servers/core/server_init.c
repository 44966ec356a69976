#include "server_init.h"

#include "http_request.h"
#include "response.h"
#include "stats.h"
#include "work.h"

void server_init(int argc, char **argv, const char *model, server_options_t *opts)
{
    options_parse(argc, argv, model, opts);
    stats_init(model);
    responses_init(model, opts);
    http_request_global_init();
    work_init();
}
