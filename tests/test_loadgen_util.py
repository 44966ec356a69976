"""Helpers for the loadgen tests (running it, parsing its text report, validating its JSON
against loadgen/result.schema.json with python3-jsonschema), and tests that the helpers
themselves catch what they must."""
import json
import os
import re
import subprocess

import jsonschema
import pytest

import harness

SCHEMA_PATH = os.path.join(harness.ROOT, "loadgen", "result.schema.json")


def loadgen_path():
    return harness.binary("loadgen")


def run_loadgen(*args, timeout=60, check_rc=None):
    """Runs loadgen with a hard time bound; returns the CompletedProcess."""
    proc = subprocess.run([loadgen_path(), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    # Whatever status a test expects, a sanitizer report (ASan, LSan, UBSan, TSan) fails it.
    why = harness.sanitizer_report(proc.stderr, proc.returncode)
    assert why is None, f"loadgen {why}"
    if check_rc is not None:
        assert proc.returncode == check_rc, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def run_json(*args, timeout=60, check_rc=0):
    """Runs loadgen with --json - and returns (document, CompletedProcess)."""
    proc = run_loadgen("-q", "--json", "-", *args, timeout=timeout, check_rc=check_rc)
    doc = json.loads(proc.stdout)
    validate(doc)
    return doc, proc


# ---- text report ---------------------------------------------------------------------------

def run_json_while(args, during, timeout=30):
    """Starts loadgen with -q --json - and args, calls during(proc) while it runs, then waits for it;
    returns the validated document and what during returned. A loadgen left running is killed."""
    proc = subprocess.Popen([loadgen_path(), "-q", "--json", "-", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        seen = during(proc)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    doc = json.loads(out)
    validate(doc)
    return doc, seen


def parse_text_report(text):
    """Parses the ab-style report into {"fields": {...}, "times": {row: [min, mean, sd, median,
    max]}, "percentiles": {"50": ms, ...}, "failed_breakdown": {...}}."""
    out = {"fields": {}, "times": {}, "percentiles": {}, "failed_breakdown": {}, "status": {}}
    section = None
    for line in text.splitlines():
        if line.startswith("Connection Times (ms)"):
            section = "times"
            continue
        if line.startswith("Percentage of the requests"):
            section = "pct"
            continue
        if line.startswith("Uncorrected percentages"):
            section = "uncorrected_pct"
            continue
        if section == "times":
            m = re.match(r"^(\w+):\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line)
            if m:
                out["times"][m.group(1)] = [float(x) for x in m.groups()[1:]]
                continue
        if section == "pct":
            m = re.match(r"^\s*([\d.]+)%\s+([\d.]+)", line)
            if m:
                out["percentiles"][m.group(1)] = float(m.group(2))
                continue
        m = re.match(r"^\s+\((.*)\)$", line)
        if m:
            for part in m.group(1).split(","):
                k, _, v = part.partition(":")
                out["failed_breakdown"][k.strip()] = int(v)
            continue
        if line.startswith("Status codes:"):
            for part in line.split(":", 1)[1].split(","):
                k, _, v = part.partition(":")
                out["status"][k.strip()] = int(v)
            continue
        m = re.match(r"^([A-Za-z][A-Za-z0-9 -]*):\s+(.*)$", line)
        if m and section is None:
            out["fields"][m.group(1)] = m.group(2).strip()
    return out


def number(field):
    """The leading number of a report field such as '1234.56 [#/sec] (mean)'."""
    return float(field.split()[0])


# ---- JSON Schema ----------------------------------------------------------------------------

SchemaError = jsonschema.ValidationError
_VALIDATOR = None


def validate(doc):
    """Checks doc against loadgen/result.schema.json (draft 2020-12, Debian's python3-jsonschema)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        with open(SCHEMA_PATH) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _VALIDATOR = jsonschema.Draft202012Validator(schema)
    _VALIDATOR.validate(doc)


# ---- tests of the helpers --------------------------------------------------------------------

def _minimal_table():
    hist = {"unit": "us", "lowest_us": 1, "highest_us": 2**36 - 1, "significant_digits": 3,
            "sub_bucket_count": 2048, "count": 1, "min_us": 5, "max_us": 5, "sum_us": 5,
            "sum_sq_us2": 25.0, "buckets": [[5, 1]]}
    pct = {k: 0.005 for k in ["50", "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99", "100"]}
    return {"count": 1, "min_ms": 0.005, "mean_ms": 0.005, "stddev_ms": 0.0, "median_ms": 0.005,
            "max_ms": 0.005, "percentiles": pct, "histogram": hist}


def _minimal_doc():
    t = _minimal_table()
    return {
        "schema_version": 1, "tool": "c10k-loadgen", "version": "x",
        "config": {"url": "http://127.0.0.1:1/", "method": "GET", "requests": 1, "concurrency": 1,
                   "time_limit_s": None, "timeout_s": 30, "keepalive": False, "threads": 1,
                   "rate": None, "warmup_s": 0, "ramp_s": 0, "headers": [], "source": None},
        "environment": {"hostname": "h", "kernel": "k", "cpu_model": "c", "cores": 1,
                        "nofile_limit": 1024, "loadgen_version": "x"},
        "summary": {"complete": 1, "failed": 0, "duration_s": 0.1, "requests_per_sec": 10,
                    "transfer_rate_kib_s": 1, "bytes_total": 10, "body_bytes": 1,
                    "keepalive_requests": 0, "connections_opened": 1, "non_2xx": 0,
                    "interrupted": False},
        "latency": {"connect": t, "waiting": t, "processing": t, "total": t},
        "errors": {k: 0 for k in ["connect", "read", "write", "timeout", "length", "parse", "exceptions"]},
        "status_codes": {"200": 1},
        "timeseries": [],
    }


def test_validator_accepts_a_minimal_document():
    validate(_minimal_doc())


@pytest.mark.parametrize("breakage", ["missing_summary_key", "bad_status_key", "wrong_type",
                                      "bad_bucket", "wrong_tool"])
def test_validator_rejects_broken_documents(breakage):
    doc = _minimal_doc()
    if breakage == "missing_summary_key":
        del doc["summary"]["failed"]
    elif breakage == "bad_status_key":
        doc["status_codes"]["ok"] = 1
    elif breakage == "wrong_type":
        doc["summary"]["complete"] = "1"
    elif breakage == "bad_bucket":
        doc["latency"]["total"]["histogram"]["buckets"] = [[5, 1, 2]]
    elif breakage == "wrong_tool":
        doc["tool"] = "ab"
    with pytest.raises(SchemaError):
        validate(doc)


def test_report_parser_reads_fields_tables_and_percentiles():
    text = """Server Hostname:        127.0.0.1
Complete requests:      10
Failed requests:        2
   (Connect: 1, Receive: 1, Length: 0, Exceptions: 0)

Connection Times (ms)
                   min       mean  [+/-sd]     median        max
Total:           0.044      0.164    0.044      0.171      0.537

Percentage of the requests served within a certain time (ms)
    50%      0.171
   100%      0.537 (longest request)
"""
    r = parse_text_report(text)
    assert r["fields"]["Complete requests"] == "10"
    assert r["failed_breakdown"] == {"Connect": 1, "Receive": 1, "Length": 0, "Exceptions": 0}
    assert r["times"]["Total"] == [0.044, 0.164, 0.044, 0.171, 0.537]
    assert r["percentiles"] == {"50": 0.171, "100": 0.537}
