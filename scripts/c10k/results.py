"""Results folders (docs/results-format.md): atomic writes, the manifest, reading points back.

Readers: plot.py, the HTML report and the compare tool (`from c10k import results`).
"""
import datetime
import json
import math
import os
import statistics
import tempfile
import time

from . import models
from .nested import dig
from .series import Series, as_series

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
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _rate_text(rate):
    return str(int(rate)) if float(rate).is_integer() else repr(float(rate))


def point_name(concurrency, idle=0, rate=None):
    """A point's folder name: c<C>, with -i<I> when it holds idle connections and -r<R> when its
    rate is swept (a point with neither keeps the layout of every scenario without those axes)."""
    return f"c{concurrency}" + (f"-i{idle}" if idle else "") + (f"-r{_rate_text(rate)}" if rate is not None else "")


def parse_point_name(name):
    """(concurrency, idle, rate) of a point folder's name, or None when it is not one."""
    head, *rest = name.split("-")
    if not (head.startswith("c") and head[1:].isdigit()):
        return None
    idle, rate = 0, None
    for part in rest:
        try:
            if part.startswith("i") and part[1:].isdigit() and idle == 0 and rate is None:
                idle = int(part[1:])
            elif part.startswith("r") and rate is None:
                rate = float(part[1:])
                rate = int(rate) if rate.is_integer() else rate
            else:
                return None
        except ValueError:
            return None
    return int(head[1:]), idle, rate


def point_key(series, concurrency, idle=0, rate=None):
    """How readers key a point: (series, C) when it has no idle connections and no swept rate (every
    scenario without those axes), else (series, C, idle, rate)."""
    return (series, concurrency) if not idle and rate is None else (series, concurrency, idle, rate)


def point_label(series, concurrency, idle=0, rate=None):
    """A point in words, for progress lines and messages: 'epoll c=50 idle=10000 rate=2000'."""
    return (f"{series} c={concurrency}" + (f" idle={idle}" if idle else "")
            + (f" rate={_rate_text(rate)}" if rate is not None else ""))


def point_dir(folder, series, concurrency, idle=0, rate=None):
    return os.path.join(folder, "points", series, point_name(concurrency, idle, rate))


def rep_path(folder, series, concurrency, repetition, idle=0, rate=None):
    return os.path.join(point_dir(folder, series, concurrency, idle, rate), f"rep{repetition}.json")


def read_json(path, what):
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
    manifest = read_json(path, "manifest")
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise ResultsError(f"{folder} is not a results folder (manifest.json has no \"kind\": \"{KIND}\")")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"{folder}: results schema_version {manifest.get('schema_version')!r} is not "
                           f"the {SCHEMA_VERSION} this tool reads")
    for key in ("scenario", "environment", "skipped_points"):
        if key not in manifest:
            raise ResultsError(f"{folder}: manifest.json lacks \"{key}\"")
    return manifest


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")


class Manifest:
    """The manifest of a results folder being written. Every write of it goes through here: a new
    folder or a resumed one, the start of a run (begin), its end by a signal or an error
    (interrupt), or its end (finish). Each write is atomic."""

    def __init__(self, folder, doc):
        self.folder, self.doc = folder, doc
        self.path = os.path.join(folder, "manifest.json")
        self._run, self._t0 = None, None

    @classmethod
    def create(cls, parent, scenario, environment):
        """A new results folder <parent>/<scenario>-<timestamp> for a scenario (a Scenario)."""
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = os.path.abspath(os.path.join(parent, f"{scenario.name}-{stamp}"))
        if os.path.exists(folder):
            raise ResultsError(f"{folder} already exists")
        os.makedirs(os.path.join(folder, "points"))
        return cls(folder, {"schema_version": SCHEMA_VERSION, "kind": KIND, "scenario": scenario.to_dict(),
                            "quick": scenario.quick, "environment": environment, "started": now_iso(),
                            "finished": None, "interrupted": None, "runs": [], "skipped_points": [],
                            "warnings": []})

    @classmethod
    def open(cls, folder):
        """The manifest of a folder to resume."""
        return cls(os.path.abspath(folder), read_manifest(folder))

    def unfinished_runs(self):
        """The earlier runs that neither finished nor were interrupted (killed, or still running)."""
        return [run for run in self.doc.get("runs") or []
                if isinstance(run, dict) and not run.get("finished") and not run.get("interrupted")]

    @staticmethod
    def mark_killed(run):
        run["interrupted"] = "killed"  # written with the next begin()

    def begin(self, skipped, warnings, hosts=None):
        """Records the start of a run (this process) and what it cannot run here."""
        self.doc["skipped_points"], self.doc["warnings"] = skipped, warnings
        if hosts:
            self.doc["loadgen_hosts"] = hosts
        self._run = {"started": now_iso(), "finished": None, "interrupted": None, "pid": os.getpid()}
        self._t0 = time.monotonic()
        self.doc.setdefault("runs", []).append(self._run)
        self.doc["finished"], self.doc["interrupted"] = None, None
        self._write()

    def interrupt(self, reason):
        """The run ended early: reason is the signal's name, or "error"."""
        self._end(reason)
        self.doc["interrupted"] = reason
        self._write()

    def finish(self):
        self._end(None)
        self.doc["finished"] = self._run["finished"]
        self._write()

    def _end(self, interrupted):
        self._run["finished"], self._run["interrupted"] = now_iso(), interrupted
        self._run["wall_s"] = round(time.monotonic() - self._t0, 1)

    def _write(self):
        write_json_atomic(self.path, self.doc)


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ideal_requests_per_sec(series, concurrency, server_cpus=None):
    """Little's law: C concurrent requests that each take D seconds finish at C / D per second.

    With CPU work per request (work_us) and the number of CPUs the server may use, the ideal is
    also capped by what those CPUs can do: server_cpus / work."""
    series = as_series(series)
    d = series.service_time_s
    if d <= 0:
        return None
    ideal = concurrency / d
    work_s = series.work_us / 1e6
    if work_s > 0 and server_cpus:
        ideal = min(ideal, server_cpus / work_s)
    return ideal


def server_cpu_count(environment):
    """CPUs the server could run on: its pinned set, else all cores."""
    pinned = dig(environment, "pinning", "server_cpus")
    return len(pinned) if pinned else (environment.get("cores") or 1)


def read_repetitions(folder):
    """Every finished repetition under <folder>/points, by point: {point_key(...): [doc, ...]}
    in repetition order. Files that are not rep<k>.json (temporary files of an unfinished write,
    notes) are skipped; a rep<k>.json that is not a JSON object is an error."""
    root = os.path.join(folder, "points")
    points = {}
    try:
        series_names = sorted(os.listdir(root))
    except (FileNotFoundError, NotADirectoryError):
        return points
    for series in series_names:
        try:
            conc_dirs = os.listdir(os.path.join(root, series))
        except NotADirectoryError:
            continue
        for cdir in conc_dirs:
            parsed = parse_point_name(cdir)
            if parsed is None:
                continue
            d = os.path.join(root, series, cdir)
            try:
                names = os.listdir(d)
            except NotADirectoryError:
                continue
            ks = sorted(int(n[3:-5]) for n in names
                        if n.startswith("rep") and n.endswith(".json") and n[3:-5].isdigit())
            docs = []
            for k in ks:
                path = os.path.join(d, f"rep{k}.json")
                docs.append(read_repetition(path))
            if docs:
                points[point_key(series, *parsed)] = docs
    return points


OBJECT, NUMBER, STRING, LIST = "an object", "a number", "a string", "a list"
_LATENCY = [(f"loadgen.{t}{part}", want) for t in ("latency", "latency_2xx")
            for part, want in (("", OBJECT), (".total", OBJECT), (".total.count", NUMBER),
                               (".total.percentiles", OBJECT), (".total.percentiles.*", NUMBER))]
# What the readers take from a repetition, and what each part must be when it is there (null
# always may be): a hand-edited or foreign file is refused with the key named, instead of failing
# in some sum or format. A parent comes before its parts.
REPETITION_SHAPE = [
    ("detail", STRING), ("loadgen", OBJECT), ("loadgen.summary", OBJECT),
    *((f"loadgen.summary.{k}", NUMBER) for k in ("requests_per_sec", "duration_s", "complete", "failed",
                                                  "non_2xx", "attempts", "warmup_requests")),
    ("loadgen.status_codes", OBJECT), ("loadgen.errors", OBJECT), ("loadgen.config", OBJECT),
    ("loadgen.config.time_limit_s", NUMBER), ("loadgen.config.warmup_s", NUMBER),
    ("loadgen.establishment", OBJECT),
    *((f"loadgen.establishment.{k}", NUMBER) for k in ("all_answered_s", "answered", "connections")),
    ("loadgen.timeseries", LIST), ("loadgen.timeseries.*", OBJECT), ("loadgen.timeseries.*.t_s", NUMBER),
    ("loadgen.timeseries.*.completed", NUMBER),
    *_LATENCY,
    ("loadgen.generator", OBJECT), ("loadgen.generator.warnings", LIST), ("loadgen.generator.warnings.*", STRING),
    ("server_usage", OBJECT),
    *((f"server_usage.{k}", NUMBER) for k in (
        "cpu_s", "cpu_per_request_us", "peak_pss_kib", "pss_per_connection_kib", "tcp_mem_per_connection_kib",
        "sock_mem_per_connection_kib", "peak_rss_kib", "peak_threads", "peak_processes", "other_cpu_cores",
        "niced_cpu_cores", "steal_cores")),
    ("server_usage.steady", OBJECT),
    *((f"server_usage.steady.{k}", NUMBER) for k in ("cpu_cores", "cpu_per_request_us")),
    ("loadgen.idle", OBJECT),
    *((f"loadgen.idle.{k}", NUMBER) for k in ("requested", "opened", "held_at_end", "failed_to_open")),
    ("loadgen.idle.closed_by_server", OBJECT), ("loadgen.idle.closed_by_server.*", NUMBER),
    ("server_usage.samples", LIST), ("server_usage.samples.*", OBJECT), ("server_usage.samples.*.t_s", NUMBER),
    ("server_stats", OBJECT), ("server_stats.before", OBJECT), ("server_stats.after", OBJECT),
    ("server_stats.before.requests", NUMBER), ("server_stats.after.requests", NUMBER),
    ("server_stats.before.errors", OBJECT), ("server_stats.after.errors", OBJECT),
]


def _is_a(value, want):
    if want == NUMBER:  # NaN and Infinity (Python's JSON reads them) are numbers: readers ignore them
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {OBJECT: dict, STRING: str, LIST: list}[want])


def _parts(doc, keys, where=()):
    """(path, value) of every part of doc at keys ("*": each member of an object or a list)."""
    if not keys:
        yield where, doc
        return
    if keys[0] == "*":
        members = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    else:
        members = [(keys[0], doc[keys[0]])] if isinstance(doc, dict) and keys[0] in doc else []
    for name, value in members:
        yield from _parts(value, keys[1:], where + (str(name),))


def check_repetition(doc, path):
    """doc, a repetition read from path, when its parts are what the readers expect; else
    ResultsError naming the file and the key."""
    if not isinstance(doc, dict):
        raise ResultsError(f"point: {path} is not a JSON object")
    if doc.get("status") not in STATUSES:
        got = f"got {json.dumps(doc['status'])[:40]}" if "status" in doc else "it is missing"
        raise ResultsError(f'point: {path}: "status" must be one of {", ".join(STATUSES)}; {got}')
    for dotted, want in REPETITION_SHAPE:
        for where, value in _parts(doc, dotted.split(".")):
            if value is not None and not _is_a(value, want):
                raise ResultsError(f'point: {path}: "{".".join(where)}" must be {want} or null, got '
                                   f"{json.dumps(value)[:40]}")
    return doc


def read_repetition(path):
    """One rep<k>.json, checked (check_repetition): every reader of a repetition reads it here."""
    return check_repetition(read_json(path, "point"), path)


class Folder:
    """A results folder opened for reading."""

    def __init__(self, path):
        self.path = path
        self.manifest = read_manifest(path)
        self.scenario = self.manifest["scenario"]
        self.environment = self.manifest["environment"]
        self.skipped_points = self.manifest.get("skipped_points", [])
        self.warnings = self.manifest.get("warnings", [])
        self._by_point = None

    def series(self):
        """The scenario's series (Series objects), in run order."""
        return [Series.from_dict(s) for s in self.scenario.get("series", [])]

    def repetitions_by_point(self):
        """{(series, concurrency): [finished repetitions in order]}, read once."""
        if self._by_point is None:
            self._by_point = read_repetitions(self.path)
        return self._by_point

    def repetitions(self):
        """Every finished repetition (parsed rep<k>.json), in scenario order."""
        by_point = self.repetitions_by_point()
        return [rep for s in self.series() for c, i, r in s.points()
                for rep in by_point.get(point_key(s.name, c, i, r), [])]

    def model(self, name):
        """The model's own description (--describe) recorded with the run, or {} for older results."""
        return dig(self.environment, "models", name) or {}

    def points(self):
        """One summary per point (series, C, idle level, rate) that has at least one repetition."""
        by_point = self.repetitions_by_point()
        out = []
        for s in self.series():
            for c, i, r in s.points():
                reps = by_point.get(point_key(s.name, c, i, r))
                if reps:
                    out.append(summarize_point(s, c, reps, server_cpu_count(self.environment), self.model(s.server),
                                               idle=i, rate=r))
        return out

    def has_idle_axis(self):
        """True when some series sweeps idle connections or open-loop rates."""
        return any(s.idle != (0,) or s.rates != (None,) for s in self.series())


def success_fraction(loadgen_doc):
    """Share of complete responses that were 2xx (a 503 answered fast is not throughput)."""
    codes = dig(loadgen_doc, "status_codes") or {}
    complete = dig(loadgen_doc, "summary", "complete") or 0
    if not complete:
        return 1.0
    good = sum(v for k, v in codes.items() if str(k).startswith("2") and isinstance(v, int))
    return min(1.0, good / complete)


def establishment(rep):
    """(seconds until every connection had one 2xx answer or None, answered, connections) of a
    repetition; (None, None, None) when its loadgen did not report it."""
    est = dig(rep, "loadgen", "establishment")
    if not isinstance(est, dict):
        return None, None, None
    return est.get("all_answered_s"), est.get("answered"), est.get("connections")


def steady_window(rep, delay_s=0.0):
    """Where a time-bound repetition's steady state starts: (skip_s, bound_hit).

    The measured window should open after the establishment phase (every connection answered
    once: a forking server at C = 10,000 may take seconds to fork them all). When that phase ends
    after the warm-up, the throughput is taken from the loadgen's per-second counts from the
    first whole second after it (skip_s into the window), but at most half the window is skipped
    (the bound): bound_hit says the phase was longer, or never ended. With a delay D of a second
    or more the skip is a whole number of D: each keep-alive connection answers once per D, so a
    window of whole D counts each connection alike, where a cut in mid-round counts some twice."""
    cfg = dig(rep, "loadgen", "config") or {}
    duration = dig(rep, "loadgen", "summary", "duration_s")
    if not cfg.get("time_limit_s") or not duration:
        return 0.0, False  # a request-count run has no window to move
    e, answered, conns = establishment(rep)
    if e is None and answered is None:
        return 0.0, False  # a loadgen that did not report the phase
    return window_skip(e, cfg.get("warmup_s") or 0.0, duration, delay_s)


def window_skip(establishment_s, warmup_s, duration_s, delay_s=0.0):
    """steady_window's rule on its own: (skip_s, bound_hit) of a window of duration_s after warmup_s
    when establishment took establishment_s (None: it never ended) with a delay D of delay_s. The
    scenarios' quick variants are checked against it with establishment_s = D, the least it takes."""
    bound = duration_s / 2
    if establishment_s is None:
        return float(math.floor(bound)), True
    skip = max(0.0, establishment_s - warmup_s)
    if skip == 0:
        return 0.0, False
    # The per-second counts start on whole seconds: skip to the first one after the phase (or
    # the first whole round of D after it).
    step = max(1, math.ceil(delay_s)) if delay_s >= 1.0 else 1
    skip = math.ceil(skip / step) * step
    if skip > bound:
        return float(math.floor(bound / step) * step), True
    return float(skip), False


def repetition_rate(rep, series):
    """2xx responses/s of one repetition, over its steady window (steady_window): the loadgen's
    rate times the share that was 2xx.

    For a time-bound run the loadgen counts every request that ends inside the measured window
    (including one that began during the warm-up), so its rate needs no edge correction."""
    doc = rep.get("loadgen")
    rate = dig(doc, "summary", "requests_per_sec") if isinstance(doc, dict) else None
    if rate is None:
        return None
    skip, _ = steady_window(rep, as_series(series).service_time_s)
    seconds = dig(doc, "timeseries") or []
    duration = dig(doc, "summary", "duration_s") or 0
    if skip > 0 and seconds and duration > skip:
        done = sum(s.get("completed", 0) for s in seconds if s.get("t_s", 0) >= skip)
        rate = done / (duration - skip)
    return rate * success_fraction(doc)


def latency_table(rep):
    """The latency table of the successful (2xx) responses of a repetition: refusals and errors
    answered at once would pull percentiles over all responses down. Older loadgen results have no
    such table; their table of all complete responses stands in."""
    return dig(rep, "loadgen", "latency_2xx", "total") or dig(rep, "loadgen", "latency", "total")


def latency_percentile(rep, q):
    """Percentile q ("50", "99") of the 2xx latency table of a repetition (latency_table), or None
    when it holds no response."""
    table = latency_table(rep)
    if not dig(table, "count"):
        return None
    v = dig(table, "percentiles", q)
    return dig(table, "median_ms") if v is None and q == "50" else v


def _usage(key):
    return lambda rep, series: dig(rep, "server_usage", key)


class Metric:
    """One number the tools report: its value per repetition, defined here once and read by the
    summary (and so the plots, the report and overlays), `c10k compare` and the CI gates alike.

    point_key names it in a point summary (summarize_point: the median over the repetitions);
    min_concurrency is where a comparison starts to trust it; meaning is the label's long form."""

    def __init__(self, key, label, unit, higher_is_better, point_key, of_rep, meaning, min_concurrency=1):
        self.key, self.label, self.unit = key, label, unit
        self.higher_is_better, self.point_key = higher_is_better, point_key
        self._of_rep, self.meaning = of_rep, meaning
        self.min_concurrency = min_concurrency

    def value(self, rep, series):
        """The metric of one repetition of series (a Series or its dict: the steady window depends
        on its delay), or None when the repetition did not record it."""
        v = self._of_rep(rep, series)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
        return None

    def slowdown(self, ratio):
        """How much worse a candidate/baseline ratio is, as a factor > 1 when worse.

        Cost metrics: the ratio itself. Throughput: its inverse, so a 10 % longer service time
        (throughput x 1/1.1) and a 10 % longer latency both read as 1.10."""
        if ratio is None:
            return None
        if self.higher_is_better:
            return float("inf") if ratio == 0 else 1 / ratio
        return ratio


METRICS = [
    Metric("throughput", "2xx throughput, steady window", "req/s", True, "requests_per_sec",
           repetition_rate, "2xx responses per second over the steady window (repetition_rate)"),
    Metric("latency_p50", "2xx p50 latency", "ms", False, "latency_p50_ms",
           lambda rep, series: latency_percentile(rep, "50"), "median time to a full 2xx response"),
    Metric("latency_p99", "2xx p99 latency", "ms", False, "latency_p99_ms",
           lambda rep, series: latency_percentile(rep, "99"), "99th percentile time to a full 2xx response"),
    Metric("cpu_per_request", "server CPU per request", "µs", False, "cpu_per_request_us",
           _usage("cpu_per_request_us"), "server CPU time over the window / requests it answered"),
    # (peak PSS - idle PSS) / c: with few connections the allocator's and the sampler's noise
    # (tens of KiB) swamps the per-connection figure, so comparisons start at c=16.
    Metric("mem_per_connection", "PSS per connection", "KiB", False, "pss_per_connection_kib",
           _usage("pss_per_connection_kib"), "(peak PSS - idle PSS) / C of the server's process tree",
           min_concurrency=16),
]
METRIC_BY_KEY = {m.key: m for m in METRICS}


def idle_summary(reps):
    """What the loadgen says of a point's idle connections, summed over its repetitions that
    report them: asked for, opened, still held at the end, failed to open, and closed by the
    server by cause; None when no repetition had idle connections."""
    docs = [dig(r, "loadgen", "idle") for r in reps]
    docs = [d for d in docs if isinstance(d, dict)]
    if not docs:
        return None
    out = {k: sum(d.get(k) or 0 for d in docs) for k in ("requested", "opened", "held_at_end", "failed_to_open")}
    closed = {}
    for d in docs:
        for cause, n in (d.get("closed_by_server") or {}).items():
            if isinstance(n, (int, float)):
                closed[cause] = closed.get(cause, 0) + n
    out["closed_by_server"] = closed
    out["repetitions"] = len(docs)
    return out


def idle_held_fraction(summary):
    """Share of the idle connections asked for that were still open at the end, or None."""
    if not summary or not summary.get("requested"):
        return None
    return summary["held_at_end"] / summary["requested"]


def summarize_point(series, concurrency, reps, server_cpus=None, model=None, idle=0, rate=None):
    series = as_series(series)
    ok = [r for r in reps if r.get("status") == "ok"]
    rps = [v for v in (METRIC_BY_KEY["throughput"].value(r, series) for r in ok) if v is not None]
    raw_rps = [v for v in (dig(r, "loadgen", "summary", "requests_per_sec") for r in ok) if v is not None]
    bad = attempts = complete = failed = non2xx = 0
    with_doc = 0
    for r in reps:
        summary = dig(r, "loadgen", "summary")
        if not summary:
            continue
        with_doc += 1
        f, n2, c = summary.get("failed", 0), summary.get("non_2xx", 0), summary.get("complete", 0)
        complete, failed, non2xx = complete + c, failed + f, non2xx + n2
        bad += f + n2
        attempts += summary.get("attempts", c + f)
    if with_doc:
        failed_pct = min(100.0, 100.0 * bad / attempts) if attempts else 0.0
        # Each on its own: answered refusals (non-2xx) and requests that got no answer (errors).
        non_2xx_pct = min(100.0, 100.0 * non2xx / attempts) if attempts else 0.0
        errors_pct = min(100.0, 100.0 * failed / attempts) if attempts else 0.0
    else:
        failed_pct = errors_pct = 100.0  # nothing came back at all
        non_2xx_pct = 0.0
    usage = [r.get("server_usage") or {} for r in ok]
    lg_errors, srv_errors = {}, {}
    for r in reps:
        for k, v in (dig(r, "loadgen", "errors") or {}).items():
            if isinstance(v, int):
                lg_errors[k] = lg_errors.get(k, 0) + v
        before = dig(r, "server_stats", "before", "errors") or {}
        after = dig(r, "server_stats", "after", "errors") or {}
        for k, v in after.items():
            if isinstance(v, int) and isinstance(before.get(k, 0), int) and v - before.get(k, 0) > 0:
                srv_errors[k] = srv_errors.get(k, 0) + v - before.get(k, 0)
    offered = rate if rate is not None else series.loadgen.get("rate")
    point = {
        "series": series.name, "server": series.server, "concurrency": concurrency,
        "idle": idle, "rate": offered, "swept_rate": rate,
        "repetitions": len(reps), "ok_repetitions": len(ok),
        "statuses": sorted({r.get("status") for r in reps}),
        "detail": "; ".join(sorted({r["detail"] for r in reps if r.get("detail")})) or None,
        **{m.point_key: _median([m.value(r, series) for r in ok]) for m in METRICS},
        "requests_per_sec_min": min(rps) if rps else None,
        "requests_per_sec_max": max(rps) if rps else None,
        "loadgen_requests_per_sec": _median(raw_rps),
        "duration_s": _median([dig(r, "loadgen", "summary", "duration_s") for r in ok]),
        "complete": complete, "failed": failed, "non_2xx": non2xx, "failed_pct": round(failed_pct, 3),
        "non_2xx_pct": round(non_2xx_pct, 3), "errors_pct": round(errors_pct, 3),
        # Over the measured window alone: what an idle sweep compares (set-up and closing left out).
        "steady_cpu_per_request_us": _median([dig(u, "steady", "cpu_per_request_us") for u in usage]),
        "peak_pss_kib": _median([u.get("peak_pss_kib") for u in usage]),
        "tcp_mem_per_connection_kib": _median([u.get("tcp_mem_per_connection_kib") for u in usage]),
        "sock_mem_per_connection_kib": _median([u.get("sock_mem_per_connection_kib") for u in usage]),
        "peak_rss_kib": _median([u.get("peak_rss_kib") for u in usage]),
        "peak_threads": _median([u.get("peak_threads") for u in usage]),
        "peak_processes": _median([u.get("peak_processes") for u in usage]),
        "ideal_requests_per_sec": ideal_requests_per_sec(series, concurrency, server_cpus),
        "server_cpu_cores": _median([_cpu_cores(u) for u in usage]),
        "other_cpu_cores": _median([u.get("other_cpu_cores") for u in usage]),
        "niced_cpu_cores": _median([u.get("niced_cpu_cores") for u in usage]),
        "steal_cores": _median([u.get("steal_cores") for u in usage]),
        "loadgen_errors": {k: v for k, v in lg_errors.items() if v},
        "server_errors": srv_errors,
        "idle_connections": idle_summary(ok),
    }
    ests = [establishment(r) for r in ok]
    times = [e for e, _, _ in ests if e is not None]
    point["establishment_s"] = _median(times) if len(times) == len(ok) and times else None
    point["establishment_rate_per_s"] = (round(concurrency / point["establishment_s"], 1)
                                         if point["establishment_s"] else None)
    point["establishment_answered"] = min((a for _, a, _ in ests if a is not None), default=None)
    point["establishment_bound_hit"] = sum(1 for r in ok if steady_window(r, series.service_time_s)[1])
    point["diagnosis"] = diagnose(point, series.service_time_s, model)
    return point


def _cpu_cores(usage):
    """Average number of cores the server kept busy while sampled (1.0 = one core saturated)."""
    samples = usage.get("samples") or []
    if len(samples) < 2 or usage.get("cpu_s") is None:
        return None
    window = samples[-1]["t_s"] - samples[0]["t_s"]
    return round(usage["cpu_s"] / window, 3) if window > 0 else None


# What the servers' /__stats error counters mean (servers/core/stats.h).
SERVER_ERROR_MEANING = {
    "accept": "accept() failed {n} times (EMFILE/ENFILE/ENOMEM: out of descriptors or memory)",
    "spawn": "pthread_create()/fork() failed {n} times (threads, processes or memory ran out)",
    "refused": "server refused {n} connections (over --max-conns, or an fd select() cannot watch)",
    "io": "{n} read/write errors or resets",
    "bad_request": "{n} bad requests (400)",
    "header_too_large": "{n} headers too large (431)",
    "body_too_large": "{n} bodies too large (413)",
}


# A point below this share of C/D gets a reason: two runs of one point are meant to agree within
# 5 %, so a shortfall larger than that must be explained, not just shown.
SHORT_OF_IDEAL = 0.95
# Other processes keeping this many cores busy make a point's figures those of a shared machine.
BUSY_MACHINE_CORES = 0.25
# Steal time: the VM itself was not given its cores; the usual cause of a whole phase running slow.
STEAL_CORES = 0.1


def sentence(text):
    """text as a sentence: a capital first letter (unless it starts with a function's name, such as
    accept()) and a full stop."""
    first = text.split(" ", 1)[0]
    if "()" not in first and "--" not in first:
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _fmt_pct(pct):
    return f"{pct:.0f}%" if pct >= 9.5 else f"{pct:.2g}%"


def _plural(n, one, many):
    return f"{n:,} {one if n == 1 else many}"


def diagnose(p, service_time_s=None, model=None):
    """Why a point falls short of C/D, from what was measured (not guessed) and the model's own
    description (its --describe: requests in flight by design, task per connection), as short
    sentences that each say one thing; None when it does not fall short."""
    model = model or {}
    ideal, rps = p["ideal_requests_per_sec"], p["requests_per_sec"]
    if p["ok_repetitions"] == 0:
        return sentence(p["detail"] or "no repetition finished")
    if ideal is None or rps is None or rps >= SHORT_OF_IDEAL * ideal:
        if not p["failed_pct"] and not p.get("establishment_bound_hit"):
            return None
    evidence = []
    if rps is not None and ideal:
        evidence.append(f"throughput reached {_fmt_pct(100 * rps / ideal)} of C/D")
    cores = p.get("server_cpu_cores")
    if cores is not None and cores >= 0.85:
        evidence.append(f"the server's CPU was saturated ({cores:.2f} cores busy)")
    elif cores is not None:
        evidence.append(f"the server's CPU was not saturated ({cores:.2f} cores busy)")
    for kind, n in sorted((p.get("server_errors") or {}).items()):
        evidence.append(SERVER_ERROR_MEANING.get(kind, "server error '{kind}' x{n}").format(kind=kind, n=n))
    d = service_time_s
    cap = models.max_inflight(model)
    if cap and d and rps is not None and rps <= 1.2 * cap / d:
        evidence.append("the model serves one connection at a time by design, so its throughput is 1/D"
                        if cap == 1 else
                        f"the model serves at most {cap} requests at once by design, so its throughput is {cap}/D")
    if p.get("loadgen_errors"):
        evidence.append("the loadgen counted errors: " + ", ".join(
            f"{k} {v:,}" for k, v in sorted(p["loadgen_errors"].items())))
    evidence += establishment_note(p)
    c = p["concurrency"]
    tasks = {"thread": "threads", "process": "processes"}.get(models.task_per_connection(model))
    peak = p.get(f"peak_{tasks}") if tasks else None
    if peak is not None and peak < 0.9 * c:
        evidence.append(f"the server peaked at {peak:,.0f} {tasks}, fewer than C")
    if p["failed_pct"]:
        evidence.append(f"{p['failed_pct']:.1f}% of requests failed")
    other = p.get("other_cpu_cores")
    if other is not None and other >= BUSY_MACHINE_CORES:
        evidence.append(f"other processes kept {other:.2f} cores busy meanwhile (not a quiet machine)")
    steal = p.get("steal_cores")
    if steal is not None and steal >= STEAL_CORES:
        evidence.append(f"the hypervisor gave {steal:.2f} cores to other guests meanwhile (steal time)")
    return " ".join(map(sentence, evidence)) or None


def establishment_note(p):
    """The sentences the report gives when a point's establishment phase outlasted its bound
    (the warm-up plus half the measured window); [] when it did not."""
    hit = p.get("establishment_bound_hit")
    if not hit:
        return []
    answered = p.get("establishment_answered")
    if p.get("establishment_s") is None:
        phase = ("establishment never ended: only "
                 f"{answered:,} of {p['concurrency']:,} connections {'was' if answered == 1 else 'were'} ever answered"
                 if answered is not None else "establishment never ended: not every connection was answered")
    else:
        phase = f"establishing the {p['concurrency']:,} connections took {p['establishment_s']:.2f} s"
    return [phase, "that is longer than its bound, the warm-up plus half the measured window",
            f"the throughput of {_plural(hit, 'repetition', 'repetitions')} therefore comes from the second "
            "half of the window, which may still include establishment"]


def load(path):
    return Folder(path)
