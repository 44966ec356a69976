"""Machine-readable outputs validated against their documented shapes.

BMF (https://bencher.dev/docs/reference/bencher-metric-format, JSON schema bmf.json): an object of
benchmarks, each an object of measures, each {"value": number, "lower_value"?: number,
"upper_value"?: number}; benchmark names up to 1024 characters, measure slugs up to 64.
github-action-benchmark custom tools: a JSON array of {"name": string, "unit": string,
"value": number, "range"?: string, "extra"?: string}.
"""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from perfcheck import ci_formats, stats, synthetic  # noqa: E402
from perfcheck.metrics import METRICS  # noqa: E402
from perfcheck.results import Results  # noqa: E402


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def validate_bmf(doc):
    assert isinstance(doc, dict) and doc
    for bench, measures in doc.items():
        assert isinstance(bench, str) and 0 < len(bench) <= 1024
        assert isinstance(measures, dict) and measures
        for slug, metric in measures.items():
            assert isinstance(slug, str) and 0 < len(slug) <= 64
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug  # a valid Bencher slug
            assert isinstance(metric, dict) and "value" in metric
            assert set(metric) <= {"value", "lower_value", "upper_value"}
            assert all(is_number(v) for v in metric.values())
            assert metric.get("lower_value", metric["value"]) <= metric["value"]
            assert metric["value"] <= metric.get("upper_value", metric["value"])


def validate_gab(doc):
    assert isinstance(doc, list) and doc
    names = set()
    for entry in doc:
        assert isinstance(entry, dict)
        assert {"name", "unit", "value"} <= set(entry) <= {"name", "unit", "value", "range", "extra"}
        assert isinstance(entry["name"], str) and entry["name"]
        assert isinstance(entry["unit"], str) and entry["unit"]
        assert is_number(entry["value"])
        for key in ("range", "extra"):
            assert isinstance(entry.get(key, ""), str)
        assert entry["name"] not in names, "github-action-benchmark keys series by name"
        names.add(entry["name"])


@pytest.fixture
def compared(tmp_path):
    a = synthetic.make_results(str(tmp_path), "a", 1)
    b = synthetic.make_results(str(tmp_path), "b", 2, slowdown=1.3)
    out = {k: tmp_path / f"{k}.json" for k in ("bmf", "smaller", "bigger")}
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "compare.py"), a, b, "--aa-spread", "0",
                        "--bmf", out["bmf"], "--gab-smaller", out["smaller"],
                        "--gab-bigger", out["bigger"]], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stdout + p.stderr  # outputs are written on failure too
    return b, {k: json.loads(v.read_text()) for k, v in out.items()}


def test_bmf_shape_and_values(compared):
    cand_path, docs = compared
    bmf = docs["bmf"]
    validate_bmf(bmf)
    assert set(bmf) == {"synthetic/epoll/c10", "synthetic/epoll/c100"}
    assert set(bmf["synthetic/epoll/c100"]) == set(ci_formats.BMF_SLUGS.values())
    # Memory per connection is not meaningful (nor reported) below c=16.
    assert set(bmf["synthetic/epoll/c10"]) == set(ci_formats.BMF_SLUGS.values()) - {"memory-per-connection-kib"}
    # The value is the candidate's median over its repetitions, the bounds its min and max.
    cand = Results(cand_path)
    reps = cand.ok_reps(("epoll", 10))
    thr = [r["loadgen"]["summary"]["requests_per_sec"] for r in reps]
    m = bmf["synthetic/epoll/c10"]["throughput"]
    assert m["value"] == pytest.approx(stats.median(thr))
    assert (m["lower_value"], m["upper_value"]) == (pytest.approx(min(thr)), pytest.approx(max(thr)))


def test_github_action_benchmark_shapes(compared):
    _, docs = compared
    validate_gab(docs["smaller"])
    validate_gab(docs["bigger"])
    # Bigger-is-better holds throughput only; everything else is a cost.
    assert all(e["unit"] == "req/s" for e in docs["bigger"])
    assert len(docs["bigger"]) == 2
    assert {e["unit"] for e in docs["smaller"]} == {"ms", "µs", "KiB"}
    assert len(docs["smaller"]) == 4 + 3  # c=100: p50, p99, CPU, memory; c=10: no memory
    assert all(e["range"].startswith("± ") for e in docs["smaller"] + docs["bigger"])


def test_outputs_skip_metrics_that_were_not_recorded(tmp_path):
    path = synthetic.make_results(str(tmp_path), "a", 1)
    for root, _, files in os.walk(os.path.join(path, "points")):
        for f in files:
            p = os.path.join(root, f)
            with open(p) as fh:
                doc = json.load(fh)
            doc["server_usage"]["pss_per_connection_kib"] = None
            with open(p, "w") as fh:
                json.dump(doc, fh)
    res = Results(path)
    bmf = ci_formats.bmf(res, METRICS)
    validate_bmf(bmf)
    assert "memory-per-connection-kib" not in bmf["synthetic/epoll/c100"]


def fake_insn_report():
    return {"schema_version": 1, "kind": "c10k-insn-counts",
            "params": {"tool": "cachegrind", "n1": 500, "n2": 2500, "concurrency": 1, "keepalive": True},
            "environment": {},
            "targets": {"server-epoll": {"insn_per_request": 15000.5, "min_insn_per_request": 14990.0,
                                         "max_insn_per_request": 15010.0, "spread": 0.0013,
                                         "runs": [{}, {}, {}]},
                        "loadgen": {"insn_per_request": 9000.0, "min_insn_per_request": 9000.0,
                                    "max_insn_per_request": 9000.0, "spread": 0.0, "runs": [{}]}}}


def test_instruction_count_outputs_have_the_documented_shapes():
    report = fake_insn_report()
    bmf = ci_formats.insn_bmf(report)
    validate_bmf(bmf)
    assert bmf["insn/server-epoll"]["instructions-per-request"]["value"] == 15000.5
    gab = ci_formats.insn_github_action_benchmark(report)
    validate_gab(gab)
    assert {e["unit"] for e in gab} == {"instructions"}
