"""Scenario files: load, validate and expand them (the format is docs/scenario-format.md).

Validation collects every problem it finds and raises one ScenarioError listing them, so a user
fixes a file in one go. Nothing is started before a scenario validates. load() gives the frozen
Scenario of series.py; validate() the expanded form a manifest stores.
"""
import json
import math
import os
import re
import urllib.parse

from . import SCENARIOS_DIR
from .series import LOADGEN_FIELDS, SERVER_OPTION_FIELDS, Field, Scenario, as_scenario, as_series, fill

SCHEMA_VERSION = 1

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MODEL_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_CONCURRENCY = 1_000_000


class ScenarioError(Exception):
    """A scenario that cannot run; str() lists every problem, one per line."""

    def __init__(self, source, problems):
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


SWEEP_FIELDS = {
    "min": Field("int", 1, None, "lowest concurrency"),
    "max": Field("int", 1, None, "highest concurrency"),
    "points_per_decade": Field("int", 1, None, "log-spaced points per factor of 10"),
}
SERIES_KEYS = {"name", "server", "server_options", "loadgen", "concurrency", "description", "compare_to",
               "optional"}
# A series names one of: a model of ours (`server`), any server to start (`command`), or a server
# that already runs (`url`). These keys go with the last two.
COMMAND_KEYS = {"command", "env", "cwd", "ready", "start_timeout_s", "files", "package"}
URL_KEYS = {"url", "pid", "pidfile"}
TARGET_KEYS = ("server", "command", "url")
ALL_SERIES_KEYS = SERIES_KEYS | COMMAND_KEYS | URL_KEYS
FILE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
TOP_KEYS = {"schema_version", "name", "description", "series", "server_options", "loadgen",
            "concurrency", "repeats", "point_timeout_s", "quick"}
QUICK_KEYS = {"concurrency", "repeats", "server_options", "loadgen", "point_timeout_s"}
LOADGEN_DEFAULTS = {"keepalive": False, "rate": None, "threads": 1, "timeout_s": 30, "warmup_s": 0,
                    "source": None, "extra_args": []}
SERVER_DEFAULTS = {"extra_args": []}


def _type_name(value):
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return (_is_int(v) or isinstance(v, float)) and not (isinstance(v, float) and not math.isfinite(v))


def _check_field(path, kind, bound, value, problems):
    want = None
    if kind == "int":
        if not _is_int(value):
            want = "an integer"
        elif bound is not None and value < bound:
            problems.append(f"{path}: must be >= {bound}, got {value}")
    elif kind in ("number", "number_pos", "number_or_null"):
        if value is None and kind == "number_or_null":
            return
        if not _is_number(value):
            want = "a number" + (" or null" if kind == "number_or_null" else "")
        elif kind in ("number_pos", "number_or_null") and value <= bound:
            problems.append(f"{path}: must be > {bound}, got {value}")
        elif kind == "number" and value < bound:
            problems.append(f"{path}: must be >= {bound}, got {value}")
    elif kind == "bool":
        if not isinstance(value, bool):
            want = "true or false"
    elif kind in ("str", "str_or_null"):
        if value is None and kind == "str_or_null":
            return
        if not isinstance(value, str) or not value:
            want = "a non-empty string" + (" or null" if kind == "str_or_null" else "")
    elif kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            want = "a list of strings"
    if want:
        problems.append(f"{path}: must be {want}, got {_type_name(value)} {json.dumps(value)[:40]}")


def _check_object(path, obj, fields, problems):
    """Checks an options object against its field specs; returns it (or {} when it is not one)."""
    if not isinstance(obj, dict):
        problems.append(f"{path}: must be an object, got {_type_name(obj)}")
        return {}
    for key, value in obj.items():
        if key not in fields:
            problems.append(f"{path}.{key}: unknown key (known: {', '.join(sorted(fields))})")
            continue
        _check_field(f"{path}.{key}", fields[key].kind, fields[key].bound, value, problems)
    return obj


def _unknown_keys(path, obj, allowed, problems):
    for key in obj:
        if key not in allowed:
            problems.append(f"{path}{'.' if path else ''}{key}: unknown key (known: {', '.join(sorted(allowed))})")


def expand_sweep(path, sweep, problems):
    """A concurrency sweep -> strictly increasing list of ints (or [] after recording problems)."""
    if isinstance(sweep, list):
        if not sweep:
            problems.append(f"{path}: the sweep is empty")
            return []
        bad = [v for v in sweep if not _is_int(v) or v < 1]
        if bad:
            problems.append(f"{path}: every concurrency must be an integer >= 1, got {json.dumps(bad[0])}")
            return []
        if any(b <= a for a, b in zip(sweep, sweep[1:])):
            problems.append(f"{path}: concurrencies must be strictly increasing, got {sweep}")
            return []
        if sweep[-1] > MAX_CONCURRENCY:
            problems.append(f"{path}: concurrency {sweep[-1]} is above {MAX_CONCURRENCY}")
            return []
        return list(sweep)
    if isinstance(sweep, dict):
        before = len(problems)
        _check_object(path, sweep, SWEEP_FIELDS, problems)
        for key in ("min", "max", "points_per_decade"):
            if key not in sweep:
                problems.append(f"{path}.{key}: missing key")
        if len(problems) > before:
            return []
        lo, hi, ppd = sweep["min"], sweep["max"], sweep["points_per_decade"]
        if hi < lo:
            problems.append(f"{path}: max ({hi}) is below min ({lo})")
            return []
        if hi > MAX_CONCURRENCY or ppd > 20:
            problems.append(f"{path}: max must be <= {MAX_CONCURRENCY} and points_per_decade <= 20")
            return []
        values, k = [], 0
        while True:
            v = round(lo * 10 ** (k / ppd))
            if v > hi:
                break
            if not values or v > values[-1]:
                values.append(v)
            k += 1
        if values[-1] != hi:
            values.append(hi)
        return values
    problems.append(f"{path}: must be a list of integers or an object "
                    f"{{\"min\", \"max\", \"points_per_decade\"}}, got {_type_name(sweep)}")
    return []


def _check_ready(path, ready, problems):
    if ready is None or ready == "tcp":
        return
    if isinstance(ready, dict) and len(ready) == 1 and "line" in ready:
        if not isinstance(ready["line"], str) or not ready["line"]:
            problems.append(f"{path}.line: must be a non-empty regular expression string")
            return
        try:
            re.compile(ready["line"])
        except re.error as e:
            problems.append(f"{path}.line: not a valid regular expression ({e})")
        return
    if isinstance(ready, dict) and len(ready) == 1 and "http" in ready:
        if not isinstance(ready["http"], str) or not ready["http"].startswith("/"):
            problems.append(f"{path}.http: must be a path starting with '/'")
        return
    problems.append(f"{path}: must be \"tcp\", {{\"line\": REGEX}} or {{\"http\": PATH}}, "
                    f"got {json.dumps(ready)[:60]}")


def _command_series(path, item, scenario_dir, problems):
    """The fields of a `command` series, {scenario_dir} filled in, or None after problems."""
    before = len(problems)
    load_values = {"scenario_dir": scenario_dir}
    cmd = item["command"]
    if not isinstance(cmd, list) or not cmd or not all(isinstance(a, str) for a in cmd) or not cmd[0]:
        problems.append(f"{path}.command: must be a non-empty list of strings (an argv), got "
                        f"{json.dumps(cmd)[:60]}")
        cmd = []
    cmd = [fill(a, load_values, f"{path}.command[{i}]", problems) for i, a in enumerate(cmd)]
    env = item.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        problems.append(f"{path}.env: must be an object of strings")
        env = {}
    env = {k: fill(v, load_values, f"{path}.env.{k}", problems) for k, v in env.items()}
    cwd = item.get("cwd")
    if cwd is not None:
        if not isinstance(cwd, str) or not cwd:
            problems.append(f"{path}.cwd: must be a non-empty string")
        else:
            cwd = fill(cwd, load_values, f"{path}.cwd", problems)
    files = item.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        problems.append(f"{path}.files: must be an object of file name -> contents (strings)")
        files = {}
    for name in files:
        if not FILE_NAME_RE.match(name) or ".." in name.split("/"):
            problems.append(f"{path}.files.{name}: must be a relative path inside {{dir}}")
    files = {k: fill(v, load_values) for k, v in files.items()}
    ready = item.get("ready")
    _check_ready(f"{path}.ready", ready, problems)
    if "start_timeout_s" in item:
        _check_field(f"{path}.start_timeout_s", "number_pos", 0, item["start_timeout_s"], problems)
    if "package" in item:
        _check_field(f"{path}.package", "str", None, item["package"], problems)
    uses_port = any("{port}" in t for t in cmd + list(env.values()) + list(files.values()))
    port_from_line = isinstance(ready, dict) and "(?P<port>" in str(ready.get("line", ""))
    if cmd and not uses_port and ready is not None and not port_from_line:
        problems.append(f"{path}.ready: the command has no {{port}}, so the port must come from its output: "
                        f"leave ready out (the 'listening on HOST:PORT' line) or give "
                        f"{{\"line\": REGEX}} with a (?P<port>...) group")
    if len(problems) > before:
        return None
    return {"command": cmd, "env": env, "cwd": cwd, "files": files, "ready": ready,
            "start_timeout_s": item.get("start_timeout_s"), "package": item.get("package")}


def _url_series(path, item, problems):
    before = len(problems)
    url = item["url"]
    try:
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        port = parts.port if parts else None
    except ValueError as e:
        parts, port = None, None
        problems.append(f"{path}.url: {e}")
    if parts is None or parts.scheme != "http" or not parts.hostname:
        problems.append(f"{path}.url: must be an http://HOST[:PORT]/PATH URL, got {json.dumps(url)[:60]}")
    del port
    if "pid" in item:
        _check_field(f"{path}.pid", "int", 1, item["pid"], problems)
    if "pidfile" in item:
        _check_field(f"{path}.pidfile", "str", None, item["pidfile"], problems)
    if "pid" in item and "pidfile" in item:
        problems.append(f"{path}: give pid or pidfile, not both")
    if len(problems) > before:
        return None
    return {"url": url, "pid": item.get("pid"), "pidfile": item.get("pidfile")}


def _merge(base, override):
    out = dict(base)
    out.update(override)
    return out


def validate(doc, source="<scenario>", quick=False, scenario_dir=None):
    """Validates a parsed scenario and returns the expanded one (see docs/scenario-format.md).

    Expanded: every series is an object with complete server_options/loadgen and its own list of
    concurrencies; defaults filled in; with quick=True the "quick" overrides are applied first.
    """
    problems = []
    if not isinstance(doc, dict):
        raise ScenarioError(source, [f"the scenario must be a JSON object, got {_type_name(doc)}"])
    version = doc.get("schema_version")
    if "schema_version" not in doc:
        raise ScenarioError(source, ["schema_version: missing key (this runner reads schema_version 1)"])
    if not _is_int(version) or version != SCHEMA_VERSION:
        raise ScenarioError(source, [f"schema_version: this runner reads schema_version {SCHEMA_VERSION}, "
                                     f"the file has {json.dumps(version)}"])
    _unknown_keys("", doc, TOP_KEYS, problems)
    for key in ("name", "description", "series", "concurrency", "loadgen"):
        if key not in doc:
            problems.append(f"{key}: missing key")
    name = doc.get("name", "")
    if "name" in doc and (not isinstance(name, str) or not NAME_RE.match(name)):
        problems.append(f"name: must be a string of letters, digits, '_', '.', '-', got {json.dumps(name)}")
    if "description" in doc and (not isinstance(doc["description"], str) or not doc["description"].strip()):
        problems.append("description: must be a non-empty string")

    top_server = _check_object("server_options", doc.get("server_options", {}), SERVER_OPTION_FIELDS, problems)
    top_loadgen = _check_object("loadgen", doc.get("loadgen", {}), LOADGEN_FIELDS, problems)
    sweep_src = doc.get("concurrency", [])
    repeats = doc.get("repeats", 1)
    point_timeout = doc.get("point_timeout_s")

    quick_doc = doc.get("quick", {})
    if not isinstance(quick_doc, dict):
        problems.append(f"quick: must be an object, got {_type_name(quick_doc)}")
        quick_doc = {}
    _unknown_keys("quick", quick_doc, QUICK_KEYS, problems)
    q_server = _check_object("quick.server_options", quick_doc.get("server_options", {}),
                             SERVER_OPTION_FIELDS, problems)
    q_loadgen = _check_object("quick.loadgen", quick_doc.get("loadgen", {}), LOADGEN_FIELDS, problems)
    q_sweep = expand_sweep("quick.concurrency", quick_doc["concurrency"], problems) \
        if "concurrency" in quick_doc else None
    for key, src in (("repeats", doc), ("repeats", quick_doc)):
        if key in src:
            _check_field(("quick." if src is quick_doc else "") + key, "int", 1, src[key], problems)
    for src in (doc, quick_doc):
        if "point_timeout_s" in src:
            _check_field(("quick." if src is quick_doc else "") + "point_timeout_s", "number_pos", 0,
                         src["point_timeout_s"], problems)
    sweep = expand_sweep("concurrency", sweep_src, problems) if "concurrency" in doc else []
    if quick:
        top_server = _merge(top_server, q_server)
        top_loadgen = _merge(top_loadgen, q_loadgen)
        if q_sweep is not None:
            sweep = q_sweep
        repeats = quick_doc.get("repeats", repeats)
        point_timeout = quick_doc.get("point_timeout_s", point_timeout)

    series_src = doc.get("series", [])
    if "series" in doc and (not isinstance(series_src, list) or not series_src):
        problems.append("series: must be a non-empty list of server models or series objects")
        series_src = []
    series, seen = [], set()
    for i, item in enumerate(series_src):
        path = f"series[{i}]"
        if isinstance(item, str):
            item = {"server": item}
        if not isinstance(item, dict):
            problems.append(f"{path}: must be a model name or an object, got {_type_name(item)}")
            continue
        kinds = [k for k in TARGET_KEYS if k in item]
        if len(kinds) != 1:
            problems.append(f"{path}: give exactly one of server (a model of ours), command (a server to "
                            f"start) or url (a server that runs already); got {', '.join(kinds) or 'none'}")
            continue
        kind = kinds[0]
        allowed = SERIES_KEYS if kind == "server" else \
            (SERIES_KEYS - {"server", "server_options"}) | {"command": COMMAND_KEYS, "url": URL_KEYS}[kind]
        for key in item:
            if key in ALL_SERIES_KEYS and key not in allowed:
                problems.append(f"{path}.{key}: not for a {kind} series")
        _unknown_keys(path, {k: v for k, v in item.items() if k not in ALL_SERIES_KEYS}, ALL_SERIES_KEYS, problems)
        server, target = item.get("server"), {}
        if kind == "server":
            if not isinstance(server, str) or not MODEL_RE.match(server):
                problems.append(f"{path}.server: must be a model name like \"epoll\", got {json.dumps(server)}")
                continue
        else:
            if kind == "command":
                target = _command_series(path, item, scenario_dir or SCENARIOS_DIR, problems)
            else:
                target = _url_series(path, item, problems)
            if target is None or "server_options" in item:  # (the latter reported above)
                continue
            if "name" not in item:
                problems.append(f"{path}.name: missing key (a {kind} series needs a name)")
                continue
        sname = item.get("name", server)
        if not isinstance(sname, str) or not NAME_RE.match(sname):
            problems.append(f"{path}.name: must be letters, digits, '_', '.', '-', got {json.dumps(sname)}")
            continue
        if sname in seen:
            problems.append(f"{path}.name: series name {sname!r} is used twice")
        seen.add(sname)
        if "description" in item and not isinstance(item["description"], str):
            problems.append(f"{path}.description: must be a string")
        s_server = _check_object(path + ".server_options", item.get("server_options", {}),
                                 SERVER_OPTION_FIELDS, problems)
        s_loadgen = _check_object(path + ".loadgen", item.get("loadgen", {}), LOADGEN_FIELDS, problems)
        s_sweep = expand_sweep(path + ".concurrency", item["concurrency"], problems) \
            if "concurrency" in item else list(sweep)
        if quick and "concurrency" in item and q_sweep is not None:
            # A series with its own sweep keeps only the quick points it also has.
            s_sweep = [c for c in s_sweep if c in q_sweep] or s_sweep[:1]
        loadgen = _merge(LOADGEN_DEFAULTS, _merge(top_loadgen, s_loadgen))
        # The top-level server_options are our servers' flags: they apply to model series only.
        server_options = _merge(SERVER_DEFAULTS, _merge(top_server, s_server)) if kind == "server" else {}
        _check_loadgen_semantics(path, loadgen, s_sweep, problems)
        if "compare_to" in item and (not isinstance(item["compare_to"], str) or not item["compare_to"]):
            problems.append(f"{path}.compare_to: must be the name of a series")
        if "optional" in item and (kind != "server" or not isinstance(item["optional"], bool)):
            problems.append(f"{path}.optional: must be true or false, and only for a model series")
        series.append({"name": sname, "server": server if kind == "server" else None,
                       "description": item.get("description", ""), **target,
                       **({"compare_to": item["compare_to"]} if "compare_to" in item else {}),
                       **({"optional": True} if item.get("optional") is True else {}),
                       "server_options": server_options, "loadgen": loadgen, "concurrency": s_sweep})
    names = {s["name"] for s in series}
    for i, s in enumerate(series):
        ref = s.get("compare_to")
        if isinstance(ref, str) and ref and ref not in names:
            problems.append(f"series[{i}].compare_to: no series is named {ref!r}")
    if problems:
        raise ScenarioError(source, problems)

    out = {"schema_version": SCHEMA_VERSION, "name": name, "description": doc["description"],
           "series": series, "concurrency": sweep, "repeats": repeats, "quick": bool(quick)}
    out["point_timeout_s"] = point_timeout if point_timeout is not None else None
    return out


def _check_loadgen_semantics(path, loadgen, sweep, problems):
    bounds = [k for k in ("duration_s", "requests", "requests_per_connection") if k in loadgen]
    if len(bounds) != 1:
        problems.append(f"{path}: the loadgen options must set exactly one of duration_s, requests, "
                        f"requests_per_connection (got {', '.join(bounds) or 'none'})")
    elif bounds == ["requests"] and sweep and _is_int(loadgen["requests"]) and loadgen["requests"] < sweep[-1]:
        problems.append(f"{path}: loadgen.requests ({loadgen['requests']}) is below the highest "
                        f"concurrency ({sweep[-1]}); every connection needs a request")


def check_expanded(scenario, source):
    """Checks a scenario as the runner stored it in a manifest (the expanded form validate()
    returns): a hand-edited or foreign manifest must fail here, not halfway through a resume."""
    problems = []
    if not isinstance(scenario, dict):
        raise ScenarioError(source, ["manifest scenario: not an object"])
    if scenario.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"manifest scenario: schema_version {scenario.get('schema_version')!r} is not {SCHEMA_VERSION}")
    if not isinstance(scenario.get("name"), str) or not NAME_RE.match(scenario.get("name", "")):
        problems.append("manifest scenario: bad or missing name")
    if not _is_int(scenario.get("repeats")) or scenario["repeats"] < 1:
        problems.append("manifest scenario: bad or missing repeats")
    series = scenario.get("series")
    if not isinstance(series, list) or not series:
        problems.append("manifest scenario: no series")
        series = []
    for i, s in enumerate(series):
        ok = (isinstance(s, dict) and isinstance(s.get("name"), str) and NAME_RE.match(s["name"])
              and ((isinstance(s.get("server"), str) and MODEL_RE.match(s["server"]))
                   or (s.get("server") is None and isinstance(s.get("command"), list) and s["command"]
                       and all(isinstance(a, str) for a in s["command"]))
                   or (s.get("server") is None and isinstance(s.get("url"), str)))
              and isinstance(s.get("server_options"), dict) and isinstance(s.get("loadgen"), dict)
              and isinstance(s.get("concurrency"), list) and s["concurrency"]
              and all(_is_int(c) and c >= 1 for c in s["concurrency"]))
        if not ok:
            problems.append(f"manifest scenario: series[{i}] is not a complete expanded series")
            continue
        sub = []
        _check_object("x", s["server_options"], SERVER_OPTION_FIELDS, sub)
        _check_object("x", s["loadgen"], LOADGEN_FIELDS, sub)
        _check_loadgen_semantics("x", s["loadgen"], s["concurrency"], sub)
        if sub or "timeout_s" not in s["loadgen"] or "keepalive" not in s["loadgen"]:
            problems.append(f"manifest scenario: series[{i}] has bad options ({'; '.join(sub) or 'defaults missing'})")
    if problems:
        raise ScenarioError(source, problems)
    return Scenario.from_dict(scenario)


def resolve_path(name_or_path):
    """'c10k' -> scenarios/c10k.json; a path to a file is taken as is."""
    if os.sep in name_or_path or name_or_path.endswith(".json") or os.path.exists(name_or_path):
        return name_or_path
    return os.path.join(SCENARIOS_DIR, name_or_path + ".json")


def available():
    """Names of the scenarios shipped in scenarios/."""
    try:
        return sorted(f[:-5] for f in os.listdir(SCENARIOS_DIR) if f.endswith(".json"))
    except OSError:
        return []


def load(name_or_path, quick=False):
    path = resolve_path(name_or_path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        known = ", ".join(available()) or "none"
        raise ScenarioError(name_or_path, [f"no such scenario file {path} (shipped scenarios: {known})"])
    except OSError as e:
        raise ScenarioError(path, [f"cannot read: {e.strerror}"])
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioError(path, [f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"])
    return Scenario.from_dict(validate(doc, path, quick=quick,
                                       scenario_dir=os.path.dirname(os.path.abspath(path))))


# The expanded form's readers, for callers holding a dict (validate()'s result, a manifest's).
def label(series):
    return as_series(series).label


def server_args(binary, series, host="127.0.0.1"):
    return as_series(series).server_argv(binary, host)


def loadgen_args(binary, series, concurrency, url, json_path):
    return as_series(series).loadgen_argv(binary, concurrency, url, json_path)


def window_notes(series):
    return as_series(series).window_notes()


def command_setup(series, values):
    return as_series(series).command_setup(values)


def missing_binary_reason(series, bin_dir):
    return as_series(series).missing_binary_reason(bin_dir)


def check_binaries(scenario, bin_dir, source="<scenario>"):
    """Every server binary and the loadgen must exist and be executable in bin_dir (an optional
    series' binary may be missing: missing_binary_reason() then skips its points)."""
    scenario = as_scenario(scenario)
    problems = []
    needed = sorted({f"server-{s.server}" for s in scenario.series if s.server and not s.optional}) + ["loadgen"]
    for name in needed:
        path = os.path.join(bin_dir, name)
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            who = [s.name for s in scenario.series if f"server-{s.server}" == name]
            used = f" (series {', '.join(who)})" if who else ""
            problems.append(f"{name}{used}: binary not found in {bin_dir} (build with scripts/build.sh)")
    if problems:
        raise ScenarioError(source, problems)
