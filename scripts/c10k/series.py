"""A scenario expanded and validated (scenario.py reads and checks the files): frozen Scenario
and Series objects, and the one table from options to the servers' and the loadgen's flags.

A Series carries what it runs, its service time D and its flags, built once; Scenario.to_dict() and
Series.to_dict() give the expanded form the manifest stores, and both read as that form
(obj["key"]) for the readers of manifests.
"""
import collections
import collections.abc
import copy
import dataclasses
import os
import re
import shutil
import types
import urllib.parse

class Field(collections.namedtuple("Field", "kind bound flag description omit", defaults=(None, ()))):
    """One option of a scenario: its kind ("int", "number", "number_pos", "number_or_null", "bool",
    "str", "str_or_null", "str_list"), its lower bound (inclusive for "int" and "number", exclusive
    for the others) or None, the command-line flag it becomes (None: not a flag), what it means,
    and the values that pass no flag at all (a false bool and null never do)."""


# The one table from scenario options to the servers' and the loadgen's flags: argv is built from
# these, in this order.
SERVER_OPTION_FIELDS = {
    "delay_ms": Field("int", 0, "--delay-ms", "the server waits this long before answering"),
    "work_us": Field("int", 0, "--work-us", "CPU work per request (busy loop)"),
    "body_bytes": Field("int", 0, "--body-bytes", "response body size"),
    "backlog": Field("int", 1, "--backlog", "listen() backlog"),
    "max_conns": Field("int", 0, "--max-conns", "connection cap (0 = server default)"),
    # An idle sweep needs connections that stay open for the whole point: these let the scenario
    # lift the servers' own closing of silent connections (0 = never).
    "idle_timeout_ms": Field("int", 0, "--idle-timeout-ms", "keep-alive wait for the next request"),
    "header_timeout_ms": Field("int", 0, "--header-timeout-ms", "wait for a whole request head"),
    "extra_args": Field("str_list", None, None, "more arguments, passed verbatim"),
}
LOADGEN_FIELDS = {
    "timeout_s": Field("number_pos", 0, "-s", "per-request timeout"),
    "keepalive": Field("bool", None, "-k", "reuse connections"),
    "duration_s": Field("number_pos", 0, "--duration", "measured seconds per repetition"),
    "requests": Field("int", 1, "-n", "requests per repetition"),
    # -n = this * concurrency: the one flag whose value depends on the point.
    "requests_per_connection": Field("int", 1, "-n", "requests per connection"),
    "rate": Field("number_or_null", 0, "--rate", "total requests/s (null = closed loop)"),
    "threads": Field("int", 1, "--threads", "loadgen threads", (1,)),
    "warmup_s": Field("number", 0, "--warmup", "unmeasured seconds before each repetition", (0,)),
    "ramp_s": Field("number", 0, "--ramp", "spread opening the connections over this many seconds", (0,)),
    "source": Field("str_or_null", None, "--source", "spread source addresses ADDR-ADDR (null = none)", ("",)),
    "idle_mode": Field("str", None, "--idle-mode", "idle connections: request (answered once) or connect "
                       "(never send)", ("request",)),
    "extra_args": Field("str_list", None, None, "more arguments, passed verbatim"),
}
# {host} and {port} (a free port the runner picks) and {dir} (a fresh temporary folder) are filled in
# when the server starts; {scenario_dir} (the scenario file's folder) when the scenario is loaded.
# A generous bound on opening one idle connection and having it answered, for the point's time
# bound: a server scanning 15,000 fds per wake-up (poll, select) answers each new one slowly.
IDLE_OPEN_S_PER_CONNECTION = 0.002
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
START_PLACEHOLDERS = ("host", "port", "dir")
LOAD_PLACEHOLDERS = ("scenario_dir",)


def fill(text, values, strict_path=None, problems=None):
    """Replaces {name} for the names in `values`. With strict_path, any other {identifier} is a
    problem (a typo like {prot}); without it (file contents: nginx and h2o configs are full of
    braces), anything else is left as it is."""
    def sub(m):
        if m.group(1) in values:
            return values[m.group(1)]
        if strict_path is not None and m.group(1) not in START_PLACEHOLDERS + LOAD_PLACEHOLDERS:
            problems.append(f"{strict_path}: unknown placeholder {{{m.group(1)}}} (known: "
                            + ", ".join("{" + k + "}" for k in START_PLACEHOLDERS + LOAD_PLACEHOLDERS) + ")")
        return m.group(0)
    return PLACEHOLDER_RE.sub(sub, text)


def _num(v):
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _flags(fields, options, skip=()):
    """The command-line flags of a set of options, each as its Field defines it, in table order."""
    argv = []
    for key, spec in fields.items():
        value = options.get(key)
        if spec.flag is None or key in skip or value is None or value is False or value in spec.omit:
            continue
        if value is True:
            argv.append(spec.flag)
        else:
            argv += [spec.flag, value if isinstance(value, str) else _num(value)]
    return tuple(argv)


class _Frozen(collections.abc.Mapping):
    """Read-only access in the manifest's form (obj["key"], .get, ==, iteration): what the manifest
    stores and older readers expect. The attributes are the interface; the form is for writing."""

    def __getitem__(self, key):
        return copy.deepcopy(self._doc[key])

    def __iter__(self):
        return iter(self._doc)

    def __len__(self):
        return len(self._doc)

    def to_dict(self):
        """The manifest's form (the expanded scenario validate() returns)."""
        return copy.deepcopy(self._doc)


@dataclasses.dataclass(frozen=True, eq=False)
class Series(_Frozen):
    """One series of a scenario, expanded: what it runs, its service time D and the flags of its
    server and its loadgen, each built once from the field tables."""
    name: str
    kind: str  # "server" (a model of ours), "command" (a server the runner starts), "url" (one that runs)
    server: object  # the model's name, or None
    description: str
    server_options: types.MappingProxyType
    loadgen: types.MappingProxyType
    concurrency: tuple
    idle: tuple  # idle connections held beside the active ones, one point per level (0: none)
    rates: tuple  # open-loop request rates, one point each; (None,): the loadgen options' own rate
    service_time_s: float  # D in Little's law: what one request costs the server at least (delay + work)
    server_flags: tuple
    loadgen_flags: tuple  # without -c, --json, -n per connection and --idle-mode: those depend on the point
    compare_to: object
    optional: bool
    command: tuple
    env: types.MappingProxyType
    cwd: object
    files: types.MappingProxyType
    ready: object
    start_timeout_s: object
    package: object
    url: object
    pid: object
    pidfile: object
    _doc: dict = dataclasses.field(repr=False)

    @classmethod
    def from_dict(cls, d):
        """A series from its expanded form (a manifest's, or validate()'s); missing keys take their
        empty values, so a partial description (a test's, an older manifest's) reads too."""
        opts, lg = dict(d.get("server_options") or {}), dict(d.get("loadgen") or {})
        server = d.get("server") or None
        return cls(
            name=d.get("name", ""), kind="server" if server else "command" if d.get("command") else "url",
            server=server, description=d.get("description") or "",
            server_options=types.MappingProxyType(opts), loadgen=types.MappingProxyType(lg),
            concurrency=tuple(d.get("concurrency") or ()),
            idle=tuple(d.get("idle") or (0,)), rates=tuple(d.get("rates") or (None,)),
            service_time_s=opts.get("delay_ms", 0) / 1000.0 + opts.get("work_us", 0) / 1e6,
            server_flags=_flags(SERVER_OPTION_FIELDS, opts) + tuple(opts.get("extra_args") or ()),
            loadgen_flags=_flags(LOADGEN_FIELDS, lg, skip=("requests_per_connection", "idle_mode")),
            compare_to=d.get("compare_to"), optional=d.get("optional") is True,
            command=tuple(d.get("command") or ()), env=types.MappingProxyType(dict(d.get("env") or {})),
            cwd=d.get("cwd"), files=types.MappingProxyType(dict(d.get("files") or {})), ready=d.get("ready"),
            start_timeout_s=d.get("start_timeout_s"), package=d.get("package"), url=d.get("url"),
            pid=d.get("pid"), pidfile=d.get("pidfile"), _doc=copy.deepcopy(dict(d)))

    def renamed(self, name):
        return Series.from_dict(dict(self._doc, name=name))

    @property
    def work_us(self):
        return self.server_options.get("work_us", 0)

    def server_argv(self, binary, host="127.0.0.1"):
        """One of our models on a port it picks (its ready line gives the port)."""
        return [binary, "--host", host, "--port", "0", *self.server_flags]

    def points(self):
        """(concurrency, idle, rate) of every point of the series, in run order: each C, at each
        idle level, at each rate."""
        return [(c, i, r) for c in self.concurrency for i in self.idle for r in self.rates]

    def loadgen_argv(self, binary, concurrency, url, json_path, idle=0, rate=None):
        """The loadgen's argv for one point: C active connections, `idle` more held silent beside
        them, and the point's open-loop rate (None: the loadgen options' own)."""
        # -l: error answers (503 from select past FD_SETSIZE) differ in length from the 200s; ab's
        # length check would then count every 200 after a 503 as failed.
        per_connection = self.loadgen.get("requests_per_connection")
        n = [LOADGEN_FIELDS["requests_per_connection"].flag, str(per_connection * concurrency)] \
            if per_connection else []
        mode = _flags({"idle_mode": LOADGEN_FIELDS["idle_mode"]}, self.loadgen) if idle else ()
        point = (["--idle", str(idle), *mode] if idle else []) + \
            ([LOADGEN_FIELDS["rate"].flag, _num(rate)] if rate is not None else [])
        return [binary, "-c", str(concurrency), "-l", "--no-progress", "--json", json_path, *self.loadgen_flags,
                *n, *point, *(self.loadgen.get("extra_args") or ()), url]

    @property
    def label(self):
        """What the series runs, in a few words: 'server-epoll', 'nginx -c ...', 'http://host:80/'."""
        if self.kind == "server":
            return f"server-{self.server}"
        if self.kind == "command":
            text = " ".join(self.command)
            return text if len(text) <= 60 else text[:57] + "..."
        return self.url

    @property
    def program(self):
        """What the series runs, in one word: the model, the command's program, or the URL's host."""
        if self.kind == "server":
            return self.server
        if self.kind == "command":
            return os.path.basename(self.command[0])
        return urllib.parse.urlsplit(self.url).hostname or self.url

    @property
    def uses_port(self):
        return any("{port}" in t for t in (*self.command, *self.env.values(), *self.files.values()))

    def missing_program_reason(self):
        """Why a command series cannot run here (its program is not installed), or None."""
        prog = self.command[0]
        found = (prog if os.access(prog, os.X_OK) else None) if os.sep in prog else shutil.which(prog)
        if found:
            return None
        return (f"{prog} is not installed" + (f" (Debian package {self.package})" if self.package else "")
                + (" or not on PATH" if os.sep not in prog else ""))

    def missing_binary_reason(self, bin_dir):
        """Why an optional model series cannot run here (its binary is not built), or None."""
        path = os.path.join(bin_dir, f"server-{self.server}")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return None
        return f"server-{self.server} is not built in {bin_dir} (this model may not exist in this version)"

    def missing_reason(self, bin_dir):
        """Why none of this series' points can run here, or None."""
        if self.kind == "command":
            return self.missing_program_reason()
        return self.missing_binary_reason(bin_dir) if self.optional else None

    def command_setup(self, values):
        """(argv, env, cwd) of a command series with {host}, {port}, {dir} filled in, after writing
        its files into {dir}."""
        for name, text in self.files.items():
            path = os.path.join(values["dir"], name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(fill(text, values))
        env = dict(os.environ)
        env.update({k: fill(v, values) for k, v in self.env.items()})
        return [fill(a, values) for a in self.command], env, fill(self.cwd, values) if self.cwd else None

    def window_notes(self):
        """What makes the measured window misread a long delay D, or [] (a closed loop over
        keep-alive connections answers each connection once per D: a window of under two D holds
        one or two answers per connection, so its rate depends on where the window falls; a
        warm-up shorter than the ramp plus D opens the window before the first answers)."""
        lg, d = self.loadgen, self.service_time_s
        duration, warmup, ramp = lg.get("duration_s"), lg.get("warmup_s", 0), lg.get("ramp_s", 0)
        if not duration or d < 1.0 or lg.get("rate"):
            return []
        notes = []
        if duration < 2 * d:
            notes.append(f"the measured window ({duration:g} s) is shorter than two delays (2 x {d:g} s): each "
                         "connection answers once or twice in it, so the rate depends on where it falls; "
                         "make duration_s a multiple of D, at least 2 D")
        if warmup < ramp + d:
            notes.append(f"the warm-up ({warmup:g} s) ends before the first answers (ramp {ramp:g} s + D {d:g} s): "
                         "the window opens on the establishment phase; make warmup_s at least ramp_s + D")
        return notes


@dataclasses.dataclass(frozen=True, eq=False)
class Scenario(_Frozen):
    """A validated, expanded scenario: its series in run order and what applies to all of them."""
    name: str
    description: str
    series: tuple
    concurrency: tuple
    repeats: int
    quick: bool
    point_timeout_s: object  # None: each series' own bound (timeout_for)
    _doc: dict = dataclasses.field(repr=False)

    @classmethod
    def from_dict(cls, d):
        return cls(name=d["name"], description=d.get("description", ""),
                   series=tuple(Series.from_dict(s) for s in d["series"]),
                   concurrency=tuple(d.get("concurrency") or ()), repeats=d["repeats"], quick=bool(d.get("quick")),
                   point_timeout_s=d.get("point_timeout_s"), _doc=copy.deepcopy(dict(d)))

    def timeout_for(self, series, idle=0):
        """Hard wall-clock bound for one loadgen run of a series: nothing may hang past it. Idle
        connections open before the load starts: IDLE_OPEN_S_PER_CONNECTION each on top."""
        if self.point_timeout_s:
            return float(self.point_timeout_s)
        lg = series.loadgen
        return (lg.get("warmup_s", 0) + lg.get("ramp_s", 0) + lg.get("duration_s", 0) + lg["timeout_s"] + 30.0
                + idle * IDLE_OPEN_S_PER_CONNECTION)



def as_series(series):
    """A Series from a Series or its expanded form (a dict)."""
    return series if isinstance(series, Series) else Series.from_dict(series)


def as_scenario(scenario):
    return scenario if isinstance(scenario, Scenario) else Scenario.from_dict(scenario)
