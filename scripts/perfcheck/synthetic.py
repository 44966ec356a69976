"""Synthetic results folders with known distributions, in the exact layout the runner writes.

Used by the tests of the compare tool and by scripts/ci/validate-gates.sh --self-test to check the
statistics without a machine quiet enough for real runs. A repetition's service cost is
    cost_us * slowdown * exp(N(0, noise)) * exp(run_offset)
and every metric follows from it (throughput = concurrency / latency, CPU per request = cost, ...),
so a slowdown moves all wall-clock metrics the way a slower server would.
"""
import math
import os
import random

from c10k import results

SCENARIO = {"name": "synthetic", "description": "synthetic results for tests", "repeats": 8,
            "duration_s": 2, "series": [{"name": "epoll", "server": "epoll"}],
            "concurrency": [10, 100]}


def environment(**overrides):
    env = {"cpu_model": "Synthetic CPU", "cores": 2, "kernel": "6.0.0-test", "hostname": "test",
           "nofile_limit": 20000, "somaxconn": 4096, "port_range": [32768, 60999],
           "pid_max": 32768, "tool_versions": {}, "git_revision": None}
    env.update(overrides)
    return env


def repetition(series, concurrency, k, cost_us, rng, noise, memory_kib, status="ok", machine_load=None):
    cost = cost_us * math.exp(rng.gauss(0, noise))
    latency_ms = concurrency * cost / 1000
    throughput = 1e6 / cost
    p99 = latency_ms * 1.6 * math.exp(rng.gauss(0, noise))
    percentiles = {q: latency_ms * f for q, f in
                   (("50", 1.0), ("66", 1.1), ("75", 1.15), ("80", 1.2), ("90", 1.3), ("95", 1.4),
                    ("98", 1.5))}
    percentiles.update({"99": p99, "99.9": p99 * 1.2, "99.99": p99 * 1.3, "100": p99 * 1.5})
    requests = int(throughput * 2)
    # Memory is quantised like the real PSS figures (whole KiB over connections), so ties occur.
    mem = round(memory_kib * (1 + rng.choice((0, 0, 0.01))), 2)
    return {
        "series": series, "server": series, "concurrency": concurrency, "repetition": k,
        "status": status, "server_args": ["--host", "127.0.0.1", "--port", "0"],
        "loadgen_args": ["-c", str(concurrency), "-t", "2", "-k"],
        "loadgen": {
            "schema_version": 1, "tool": "c10k-loadgen",
            "summary": {"complete": requests, "failed": 0, "duration_s": 2.0,
                        "requests_per_sec": throughput, "non_2xx": 0},
            "latency": {"total": {"count": requests, "min_ms": latency_ms * 0.5,
                                  "mean_ms": latency_ms * 1.05, "median_ms": latency_ms,
                                  "max_ms": p99 * 1.5, "percentiles": percentiles}},
            "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "length": 0,
                       "parse": 0, "exceptions": 0},
            "status_codes": {"200": requests},
        },
        "server_usage": {"interval_s": 0.1, "samples": [],
                         "cpu_s": cost * requests / 1e6, "cpu_per_request_us": cost,
                         "peak_rss_kib": int(mem * concurrency) + 2000,
                         "peak_pss_kib": int(mem * concurrency) + 1500,
                         "pss_per_connection_kib": mem, "peak_threads": 1, "peak_processes": 1,
                         "other_cpu_cores": machine_load},
        "server_stats": {"before": {"requests": 0}, "after": {"requests": requests}},
    }


def make_results(root, name, seed, repeats=8, slowdown=1.0, noise=0.03, run_offset=0.0,
                 scenario=None, env=None, series=("epoll",), concurrency=(10, 100),
                 cost_us=20.0, memory_kib=10.0, failed=None, machine_load=None, quick=False):
    """Write <root>/<name> as a results folder; returns its path.

    failed: {(series, concurrency): number of repetitions marked server_died}.
    run_offset: log of the factor the whole run is off by (what the machine did during a separate run).
    machine_load: the cores other processes kept busy (server_usage.other_cpu_cores), None: not recorded.
    quick: as if run with --quick.
    """
    rng = random.Random(seed)
    path = os.path.join(root, name)
    sc = dict(SCENARIO if scenario is None else scenario)
    sc["repeats"] = repeats
    sc["quick"] = quick
    results.write_json_atomic(os.path.join(path, "manifest.json"), {
        "schema_version": 1, "kind": "c10k-bench-results", "scenario": sc, "quick": quick,
        "environment": env or environment(), "started": "2024-01-01T00:00:00Z",
        "finished": "2024-01-01T00:01:00Z", "skipped_points": []})
    failed = failed or {}
    offset = math.exp(run_offset)
    for s in series:
        for c in concurrency:
            n_failed = failed.get((s, c), 0)
            for k in range(1, repeats + 1):
                status = "server_died" if k <= n_failed else "ok"
                doc = repetition(s, c, k, cost_us * slowdown * offset, rng, noise, memory_kib, status,
                                 machine_load)
                results.write_json_atomic(results.rep_path(path, s, c, k), doc)
    return path
