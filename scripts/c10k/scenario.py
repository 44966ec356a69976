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
from .series import LOADGEN_FIELDS, SERVER_OPTION_FIELDS, Scenario, as_scenario, as_series, fill

SCHEMA_VERSION = 1

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MODEL_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ScenarioError(Exception):
    """A scenario that cannot run; str() lists every problem, one per line."""

    def __init__(self, source, problems):
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


SERIES_KEYS = {"name", "server", "server_options", "loadgen", "concurrency", "idle", "rates", "description",
               "compare_to", "optional"}
# A series names one of: a model of ours (`server`), any server to start (`command`), or a server
# that already runs (`url`). These keys go with the last two.
COMMAND_KEYS = {"command", "env", "cwd", "ready", "start_timeout_s", "files", "package"}
URL_KEYS = {"url", "pid", "pidfile"}
TARGET_KEYS = ("server", "command", "url")
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


def _pointer(parts):
    """A JSON pointer (RFC 6901) to a key of the file: ('loadgen', 'warmup_s') -> /loadgen/warmup_s."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


SCHEMA_PATH = os.path.join(SCENARIOS_DIR, "scenario.schema.json")
_validator = None

# What a failed "pattern" means, in words (the schema says it as a regular expression).
_PATTERN_WORDS = {
    "^[A-Za-z0-9][A-Za-z0-9_.-]*$": "letters, digits, '_', '.', '-' (starting with a letter or digit)",
    "^[a-z0-9][a-z0-9_-]*$": "a model name like \"epoll\"",
    "\\S": "a non-empty string",
    "^tcp$": "\"tcp\", {\"line\": REGEX} or {\"http\": PATH}",
    "^/": "a path starting with '/'",
    "^http://": "an http://HOST[:PORT]/PATH URL",
    "^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$": "a relative path inside {dir}",
}
_TYPE_WORDS = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
               "array": "a list", "object": "an object", "null": "null"}


def schema():
    """The format's one definition (scenarios/scenario.schema.json), read once."""
    global _validator
    if _validator is None:
        import jsonschema  # Debian's python3-jsonschema (scripts/install-deps.sh)
        try:
            with open(SCHEMA_PATH, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise ScenarioError(SCHEMA_PATH, [f"cannot read the scenario schema: {e}"]) from None
        _validator = jsonschema.Draft202012Validator(doc)
    return _validator


def _schema_problems(doc):
    """Every way the document breaks the schema, each as '/json/pointer: what is wrong'."""
    problems = []
    for e in schema().iter_errors(doc):
        path, kind, value, got = list(e.absolute_path), e.validator, e.validator_value, e.instance
        shown = f", got {_type_name(got)} {json.dumps(got)[:40]}"
        if kind == "additionalProperties":
            known = sorted(e.schema.get("properties", {}))
            for key in got:
                if key not in known:
                    problems.append(f"{_pointer(path + [key])}: unknown key (known: {', '.join(known)})")
        elif kind == "required":
            problems += [f"{_pointer(path + [key])}: missing key" for key in value if key not in got]
        elif "propertyNames" in e.absolute_schema_path:
            problems.append(f"{_pointer(path + [got])}: must be {_PATTERN_WORDS.get(value, value)}")
        elif kind == "type":
            words = " or ".join(_TYPE_WORDS[t] for t in ([value] if isinstance(value, str) else value))
            problems.append(f"{_pointer(path)}: must be {words}{shown}")
        elif kind in ("minimum", "maximum", "exclusiveMinimum"):
            op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">"}[kind]
            problems.append(f"{_pointer(path)}: must be {op} {value}, got {got}")
        elif kind == "pattern":
            problems.append(f"{_pointer(path)}: must be {_PATTERN_WORDS.get(value, value)}{shown}")
        elif kind in ("minLength", "minItems"):
            problems.append(f"{_pointer(path)}: must not be empty")
        elif kind in ("minProperties", "maxProperties"):
            problems.append(f"{_pointer(path)}: must be {_PATTERN_WORDS['^tcp$']}{shown}")
        else:
            problems.append(f"{_pointer(path)}: {e.message}")
    return problems


def expand_sweep(path, sweep, problems):
    """A concurrency sweep the schema accepted -> strictly increasing list of ints (or [] after
    recording problems): what the schema cannot say is the order and max >= min."""
    if isinstance(sweep, list):
        return increasing(path, sweep, "concurrencies", problems)
    lo, hi, ppd = sweep["min"], sweep["max"], sweep["points_per_decade"]
    if hi < lo:
        problems.append(f"{path}: max ({hi}) is below min ({lo})")
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


def increasing(path, values, what, problems):
    """A list the schema accepted (idle levels, rates), when strictly increasing; else [] after a
    problem."""
    if any(b <= a for a, b in zip(values, values[1:])):
        problems.append(f"{path}: {what} must be strictly increasing, got {values}")
        return []
    return list(values)


def _axis(doc, quick_doc, quick, key, what, default, problems):
    """An extra sweep axis (idle, rates) of the top level: its list, the quick one with --quick."""
    values = increasing(f"/{key}", doc[key], what, problems) if key in doc else default
    if key in quick_doc:
        q = increasing(f"/quick/{key}", quick_doc[key], what, problems)
        if quick:
            values = q
    return values


def _series_axis(path, item, key, what, top, quick, quick_doc, problems):
    """A series' own idle levels or rates. With --quick: those the quick top level also lists,
    else its first and last (a quick run still crosses the axis)."""
    if key not in item:
        return top
    own = increasing(f"{path}/{key}", item[key], what, problems)
    if quick:
        shared = [v for v in own if v in quick_doc.get(key, ())]
        own = shared or sorted({own[0], own[-1]}) if own else own
    return own


def _check_regex(path, text, problems):
    try:
        re.compile(text)
    except re.error as e:
        problems.append(f"{path}: not a valid regular expression ({e})")


def _command_series(path, item, scenario_dir, problems):
    """The fields of a `command` series, {scenario_dir} filled in, or None after problems."""
    before = len(problems)
    load_values = {"scenario_dir": scenario_dir}
    cmd = [fill(a, load_values, f"{path}/command/{i}", problems) for i, a in enumerate(item["command"])]
    env = {k: fill(v, load_values, path + _pointer(["env", k]), problems)
           for k, v in item.get("env", {}).items()}
    cwd = item.get("cwd")
    if cwd is not None:
        cwd = fill(cwd, load_values, f"{path}/cwd", problems)
    files = item.get("files", {})
    for name in files:
        if ".." in name.split("/"):
            problems.append(f"{path}{_pointer(['files', name])}: must be a relative path inside {{dir}}")
    files = {k: fill(v, load_values) for k, v in files.items()}
    ready = item.get("ready")
    if isinstance(ready, dict) and "line" in ready:
        _check_regex(f"{path}/ready/line", ready["line"], problems)
    uses_port = any("{port}" in t for t in cmd + list(env.values()) + list(files.values()))
    port_from_line = isinstance(ready, dict) and "(?P<port>" in str(ready.get("line", ""))
    if cmd and not uses_port and ready is not None and not port_from_line:
        problems.append(f"{path}/ready: the command has no {{port}}, so the port must come from its output: "
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
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError as e:
        parts = None
        problems.append(f"{path}/url: {e}")
    if parts is not None and not parts.hostname:
        problems.append(f"{path}/url: must be an http://HOST[:PORT]/PATH URL, got {json.dumps(url)[:60]}")
    if "pid" in item and "pidfile" in item:
        problems.append(f"{path}: give pid or pidfile, not both")
    if len(problems) > before:
        return None
    return {"url": url, "pid": item.get("pid"), "pidfile": item.get("pidfile")}


def _merge(base, override):
    out = dict(base)
    out.update(override)
    return out


def _check_version(doc, source):
    if not isinstance(doc, dict):
        raise ScenarioError(source, [f"the scenario must be a JSON object, got {_type_name(doc)}"])
    if "schema_version" not in doc:
        raise ScenarioError(source, ["/schema_version: missing key (this runner reads schema_version 1)"])
    version = doc["schema_version"]
    if not _is_int(version) or version != SCHEMA_VERSION:
        raise ScenarioError(source, [f"/schema_version: this runner reads schema_version {SCHEMA_VERSION}, "
                                     f"the file has {json.dumps(version)}"])


def validate(doc, source="<scenario>", quick=False, scenario_dir=None):
    """Validates a parsed scenario and returns the expanded one (see docs/scenario-format.md).

    First the schema (scenarios/scenario.schema.json: keys, types, ranges), then what it cannot
    express (sweep order, the run bound after merging, placeholders, names). Expanded: every series
    is an object with complete server_options/loadgen and its own list of concurrencies; defaults
    filled in; with quick=True the "quick" overrides are applied first.
    """
    _check_version(doc, source)
    problems = _schema_problems(doc)
    if problems:
        raise ScenarioError(source, problems)
    top_server, top_loadgen = doc.get("server_options", {}), doc["loadgen"]
    repeats, point_timeout = doc.get("repeats", 1), doc.get("point_timeout_s")
    quick_doc = doc.get("quick", {})
    q_sweep = expand_sweep("/quick/concurrency", quick_doc["concurrency"], problems) \
        if "concurrency" in quick_doc else None
    sweep = expand_sweep("/concurrency", doc["concurrency"], problems)
    if quick:
        top_server = _merge(top_server, quick_doc.get("server_options", {}))
        top_loadgen = _merge(top_loadgen, quick_doc.get("loadgen", {}))
        if q_sweep is not None:
            sweep = q_sweep
        repeats = quick_doc.get("repeats", repeats)
        point_timeout = quick_doc.get("point_timeout_s", point_timeout)
    idle = _axis(doc, quick_doc, quick, "idle", "idle levels", [0], problems)
    rates = _axis(doc, quick_doc, quick, "rates", "rates", None, problems)

    series, seen = [], set()
    for i, item in enumerate(doc["series"]):
        path = f"/series/{i}"
        if isinstance(item, str):
            item = {"server": item}
        kinds = [k for k in TARGET_KEYS if k in item]
        if len(kinds) != 1:
            problems.append(f"{path}: give exactly one of server (a model of ours), command (a server to "
                            f"start) or url (a server that runs already); got {', '.join(kinds) or 'none'}")
            continue
        kind = kinds[0]
        allowed = SERIES_KEYS if kind == "server" else \
            (SERIES_KEYS - {"server", "server_options", "optional"}) | {"command": COMMAND_KEYS, "url": URL_KEYS}[kind]
        wrong = [key for key in item if key not in allowed]
        problems += [f"{path}/{key}: not for a {kind} series" for key in wrong]
        server, target = item.get("server"), {}
        if kind != "server":
            target = _command_series(path, item, scenario_dir or SCENARIOS_DIR, problems) \
                if kind == "command" else _url_series(path, item, problems)
            if target is None or wrong:
                continue
            if "name" not in item:
                problems.append(f"{path}/name: missing key (a {kind} series needs a name)")
                continue
        sname = item.get("name", server)
        if sname in seen:
            problems.append(f"{path}/name: series name {sname!r} is used twice")
        seen.add(sname)
        s_sweep = expand_sweep(path + "/concurrency", item["concurrency"], problems) \
            if "concurrency" in item else list(sweep)
        if quick and "concurrency" in item and q_sweep is not None:
            # A series with its own sweep keeps only the quick points it also has.
            s_sweep = [c for c in s_sweep if c in q_sweep] or s_sweep[:1]
        loadgen = _merge(LOADGEN_DEFAULTS, _merge(top_loadgen, item.get("loadgen", {})))
        # The top-level server_options are our servers' flags: they apply to model series only.
        server_options = _merge(SERVER_DEFAULTS, _merge(top_server, item.get("server_options", {}))) \
            if kind == "server" else {}
        s_idle = _series_axis(path, item, "idle", "idle levels", idle, quick, quick_doc, problems)
        s_rates = _series_axis(path, item, "rates", "rates", rates, quick, quick_doc, problems)
        _check_loadgen_semantics(path, loadgen, s_sweep, problems)
        if s_rates and loadgen.get("rate") is not None:
            problems.append(f"{path}: give the open-loop rate once: rates (a sweep) or loadgen.rate, not both")
        series.append({"name": sname, "server": server if kind == "server" else None,
                       "description": item.get("description", ""), **target,
                       **({"compare_to": item["compare_to"]} if "compare_to" in item else {}),
                       **({"optional": True} if item.get("optional") is True else {}),
                       "server_options": server_options, "loadgen": loadgen, "concurrency": s_sweep,
                       "idle": s_idle, **({"rates": s_rates} if s_rates else {})})
    names = {s["name"] for s in series}
    for i, s in enumerate(series):
        ref = s.get("compare_to")
        if ref is not None and ref not in names:
            problems.append(f"/series/{i}/compare_to: no series is named {ref!r}")
    if problems:
        raise ScenarioError(source, problems)

    out = {"schema_version": SCHEMA_VERSION, "name": doc["name"], "description": doc["description"],
           "series": series, "concurrency": sweep, "idle": idle, "repeats": repeats, "quick": bool(quick)}
    out["point_timeout_s"] = point_timeout
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
              and all(_is_int(c) and c >= 1 for c in s["concurrency"])
              and isinstance(s.get("idle", [0]), list) and s.get("idle", [0])
              and all(_is_int(i) and i >= 0 for i in s.get("idle", [0]))
              and isinstance(s.get("rates", [1]), list) and s.get("rates", [1])
              and all(_is_number(r) and r > 0 for r in s.get("rates", [1])))
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
        return sorted(f[:-5] for f in os.listdir(SCENARIOS_DIR)
                      if f.endswith(".json") and f != os.path.basename(SCHEMA_PATH))
    except OSError:
        return []


class _Object(dict):
    """A JSON object as parsed, with the keys the file gave more than once (json keeps the last)."""
    duplicates = ()


def _object_pairs(pairs):
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        names = [k for k, _ in pairs]
        obj.duplicates = sorted({k for k in names if names.count(k) > 1})
    return obj


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _duplicate_keys(doc, path=()):
    """'/pointer: duplicate key' for every key given twice in one object, anywhere in the file."""
    found = []
    if isinstance(doc, _Object):
        found += [f"{_pointer([*path, k])}: duplicate key (given more than once in one object; "
                  f"JSON readers keep only the last)" for k in doc.duplicates]
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        found += _duplicate_keys(value, (*path, key))
    return found


def parse(text, source):
    """A scenario file's text -> its document; a duplicate key, NaN or Infinity is an error."""
    try:
        doc = json.loads(text, object_pairs_hook=_object_pairs, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise ScenarioError(source, [f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"]) from None
    except ValueError as e:
        raise ScenarioError(source, [f"not valid JSON: {e}"]) from None
    duplicates = _duplicate_keys(doc)
    if duplicates:
        raise ScenarioError(source, duplicates)
    return doc


def load(name_or_path, quick=False):
    path = resolve_path(name_or_path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        known = ", ".join(available()) or "none"
        raise ScenarioError(name_or_path, [f"no such scenario file {path} (shipped scenarios: {known})"])
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(path, [f"cannot read: {getattr(e, 'strerror', None) or e}"])
    return Scenario.from_dict(validate(parse(text, path), path, quick=quick,
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
