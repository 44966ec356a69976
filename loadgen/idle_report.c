/* What the reports say about --idle connections: the config fields, the "idle" JSON object, the
 * text report's lines, and how --merge adds the config of several parts. The counts themselves
 * are summary counters (counts.h), so threads, processes and hosts add them like the others. */
#include <inttypes.h>
#include <string.h>

#include "idle_report.h"
#include "report.h"

static const char *const mode_names[] = {[LG_IDLE_REQUEST] = "request", [LG_IDLE_CONNECT] = "connect"};

void lg_idle_config_json(json_t *config, const lg_options *o)
{
    json_object_set_new(config, "idle", json_integer(o->idle));
    json_object_set_new(config, "idle_mode", json_string(mode_names[o->idle_mode]));
}

json_t *lg_idle_json(const lg_counts *c)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}}", "requested",
                     (json_int_t)c->idle_requested, "opened", (json_int_t)c->idle_opened,
                     "held_at_end", (json_int_t)c->idle_held_at_end, "failed_to_open",
                     (json_int_t)c->idle_failed_to_open, "closed_by_server", "eof",
                     (json_int_t)c->idle_closed_eof, "reset", (json_int_t)c->idle_closed_reset,
                     "timeout_answer", (json_int_t)c->idle_closed_timeout_answer);
}

void lg_idle_merge_config(json_t *merged, const json_t *part)
{
    json_t *a = json_object_get(merged, "idle"), *b = json_object_get(part, "idle");
    if (json_is_integer(a) && json_is_integer(b))
        json_object_set_new(merged, "idle", json_integer(json_integer_value(a) + json_integer_value(b)));
}

void lg_idle_report_text(FILE *f, const lg_result *r)
{
    const lg_counts *c = &r->counts;
    if (!c->idle_requested)
        return;
    json_t *mode = json_object_get(r->config, "idle_mode");
    uint64_t closed = c->idle_closed_eof + c->idle_closed_reset + c->idle_closed_timeout_answer;
    fprintf(f, "Idle connections:       %" PRIu64 " requested (%s), %" PRIu64 " opened, %" PRIu64
               " held at the end, %" PRIu64 " failed to open\n",
            c->idle_requested, json_is_string(mode) ? json_string_value(mode) : "request",
            c->idle_opened, c->idle_held_at_end, c->idle_failed_to_open);
    fprintf(f, "Idle closed by server:  %" PRIu64 " (EOF: %" PRIu64 ", reset: %" PRIu64
               ", timeout answer: %" PRIu64 ")\n",
            closed, c->idle_closed_eof, c->idle_closed_reset, c->idle_closed_timeout_answer);
}
