"""The metrics the wall-clock gate compares. Each is defined once, in c10k.results (METRICS): the
same per-repetition value (2xx latency, the steady-window rate of 2xx responses) that the summary,
the plots and the report show, so a label means one number everywhere."""
from c10k.results import METRIC_BY_KEY as BY_KEY, METRICS, Metric  # noqa: F401  (the gate's names)


def select(keys):
    """Metrics by key, in the order given; unknown keys raise ValueError naming the valid ones."""
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(BY_KEY)}")
    return [BY_KEY[k] for k in keys]
