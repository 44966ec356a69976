"""The metrics the wall-clock gate compares, where each comes from, and which direction is worse."""
import math

from c10k.nested import dig


class Metric:
    def __init__(self, key, label, unit, higher_is_better, path, fallback=None, min_concurrency=1):
        self.key, self.label, self.unit = key, label, unit
        self.higher_is_better = higher_is_better
        self.path, self.fallback = path, fallback
        self.min_concurrency = min_concurrency

    def value(self, rep):
        """The metric of one repetition document, or None when the run did not record it."""
        for path in (self.path, self.fallback):
            if path is None:
                continue
            v = dig(rep, *path)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                return float(v)
        return None

    def slowdown(self, ratio):
        """How much worse a candidate/baseline ratio is, as a factor > 1 when worse.

        Cost metrics: the ratio itself. Throughput: its inverse, so a 10 % longer service time
        (throughput x 1/1.1) and a 10 % longer latency both read as 1.10.
        """
        if ratio is None:
            return None
        if self.higher_is_better:
            return float("inf") if ratio == 0 else 1 / ratio
        return ratio


METRICS = [
    Metric("throughput", "throughput", "req/s", True, ("loadgen", "summary", "requests_per_sec")),
    Metric("latency_p50", "p50 latency", "ms", False,
           ("loadgen", "latency", "total", "percentiles", "50"),
           ("loadgen", "latency", "total", "median_ms")),
    Metric("latency_p99", "p99 latency", "ms", False,
           ("loadgen", "latency", "total", "percentiles", "99")),
    Metric("cpu_per_request", "server CPU/request", "us", False,
           ("server_usage", "cpu_per_request_us")),
    # (peak PSS - idle PSS) / c: with few connections the allocator's and the sampler's noise
    # (tens of KiB) swamps the per-connection figure, so it is not compared there.
    Metric("mem_per_connection", "memory/connection", "KiB", False,
           ("server_usage", "pss_per_connection_kib"), min_concurrency=16),
]
BY_KEY = {m.key: m for m in METRICS}


def select(keys):
    """Metrics by key, in the order given; unknown keys raise ValueError naming the valid ones."""
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(BY_KEY)}")
    return [BY_KEY[k] for k in keys]
