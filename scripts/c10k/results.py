"""Results folders (docs/results-format.md): atomic writes, the manifest, reading points back.

Readers: plot.py, the HTML report and the compare tool (`from c10k import results`).
"""
import json
import os
import statistics
import tempfile

SCHEMA_VERSION = 1
KIND = "c10k-bench-results"
STATUSES = ("ok", "server_died", "loadgen_failed")


class ResultsError(Exception):
    """A folder that is not a (readable) results folder."""


def write_json_atomic(path, doc):
    """Writes JSON so that a reader (or a crash) never sees half a file: tmp, fsync, rename."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def point_dir(folder, series, concurrency):
    return os.path.join(folder, "points", series, f"c{concurrency}")


def rep_path(folder, series, concurrency, repetition):
    return os.path.join(point_dir(folder, series, concurrency), f"rep{repetition}.json")


def _read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"{what}: {path} does not exist")
    except json.JSONDecodeError as e:
        raise ResultsError(f"{what}: {path} is not valid JSON ({e.msg} at line {e.lineno})")
    except OSError as e:
        raise ResultsError(f"{what}: cannot read {path}: {e.strerror}")


def read_manifest(folder):
    """The manifest of a results folder; ResultsError when the folder is not one."""
    if not os.path.isdir(folder):
        raise ResultsError(f"{folder} is not a directory")
    path = os.path.join(folder, "manifest.json")
    if not os.path.exists(path):
        raise ResultsError(f"{folder} is not a results folder (no manifest.json)")
    manifest = _read_json(path, "manifest")
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise ResultsError(f"{folder} is not a results folder (manifest.json has no \"kind\": \"{KIND}\")")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"{folder}: results schema_version {manifest.get('schema_version')!r} is not "
                           f"the {SCHEMA_VERSION} this tool reads")
    for key in ("scenario", "environment", "skipped_points"):
        if key not in manifest:
            raise ResultsError(f"{folder}: manifest.json lacks \"{key}\"")
    return manifest


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _get(doc, *keys):
    for k in keys:
        if not isinstance(doc, dict) or k not in doc:
            return None
        doc = doc[k]
    return doc


def ideal_requests_per_sec(series, concurrency):
    """Little's law: C concurrent requests that each take D seconds finish at C / D per second."""
    opts = series.get("server_options", {})
    d = opts.get("delay_ms", 0) / 1000.0 + opts.get("work_us", 0) / 1e6
    return concurrency / d if d > 0 else None


class Folder:
    """A results folder opened for reading."""

    def __init__(self, path):
        self.path = path
        self.manifest = read_manifest(path)
        self.scenario = self.manifest["scenario"]
        self.environment = self.manifest["environment"]
        self.skipped_points = self.manifest.get("skipped_points", [])
        self.warnings = self.manifest.get("warnings", [])

    def series(self):
        return list(self.scenario.get("series", []))

    def repetitions(self):
        """Every finished repetition (parsed rep<k>.json), in scenario order."""
        out = []
        for s in self.series():
            for c in s.get("concurrency", []):
                d = point_dir(self.path, s["name"], c)
                try:
                    names = os.listdir(d)
                except FileNotFoundError:
                    continue
                reps = []
                for n in names:
                    if n.startswith("rep") and n.endswith(".json") and n[3:-5].isdigit():
                        reps.append(int(n[3:-5]))
                for k in sorted(reps):
                    out.append(_read_json(os.path.join(d, f"rep{k}.json"), "point"))
        return out

    def points(self):
        """One summary per (series, concurrency) that has at least one repetition."""
        by_point = {}
        for rep in self.repetitions():
            by_point.setdefault((rep["series"], rep["concurrency"]), []).append(rep)
        out = []
        for s in self.series():
            for c in s.get("concurrency", []):
                reps = by_point.get((s["name"], c))
                if reps:
                    out.append(summarize_point(s, c, reps))
        return out


def summarize_point(series, concurrency, reps):
    ok = [r for r in reps if r.get("status") == "ok"]
    rps = [_get(r, "loadgen", "summary", "requests_per_sec") for r in ok]
    rps = [v for v in rps if v is not None]
    bad = attempts = complete = failed = non2xx = 0
    with_doc = 0
    for r in reps:
        summary = _get(r, "loadgen", "summary")
        if not summary:
            continue
        with_doc += 1
        f, n2, c = summary.get("failed", 0), summary.get("non_2xx", 0), summary.get("complete", 0)
        complete, failed, non2xx = complete + c, failed + f, non2xx + n2
        bad += f + n2
        attempts += summary.get("attempts", c + f)
    if with_doc:
        failed_pct = min(100.0, 100.0 * bad / attempts) if attempts else 0.0
    else:
        failed_pct = 100.0  # nothing came back at all
    usage = [r.get("server_usage") or {} for r in ok]
    return {
        "series": series["name"], "server": series["server"], "concurrency": concurrency,
        "repetitions": len(reps), "ok_repetitions": len(ok),
        "statuses": sorted({r.get("status") for r in reps}),
        "detail": "; ".join(sorted({r["detail"] for r in reps if r.get("detail")})) or None,
        "requests_per_sec": _median(rps),
        "requests_per_sec_min": min(rps) if rps else None,
        "requests_per_sec_max": max(rps) if rps else None,
        "latency_p50_ms": _median([_get(r, "loadgen", "latency", "total", "percentiles", "50") for r in ok
                                   if _get(r, "loadgen", "latency", "total", "count")]),
        "latency_p99_ms": _median([_get(r, "loadgen", "latency", "total", "percentiles", "99") for r in ok
                                   if _get(r, "loadgen", "latency", "total", "count")]),
        "complete": complete, "failed": failed, "non_2xx": non2xx, "failed_pct": round(failed_pct, 3),
        "cpu_per_request_us": _median([u.get("cpu_per_request_us") for u in usage]),
        "peak_pss_kib": _median([u.get("peak_pss_kib") for u in usage]),
        "pss_per_connection_kib": _median([u.get("pss_per_connection_kib") for u in usage]),
        "peak_rss_kib": _median([u.get("peak_rss_kib") for u in usage]),
        "peak_threads": _median([u.get("peak_threads") for u in usage]),
        "peak_processes": _median([u.get("peak_processes") for u in usage]),
        "ideal_requests_per_sec": ideal_requests_per_sec(series, concurrency),
    }


def load(path):
    return Folder(path)
