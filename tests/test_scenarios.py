"""The scenario validator: the shipped scenarios, and every kind of bad input it must refuse."""
import copy
import glob
import json
import os
import subprocess
import sys

import pytest

import harness
from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import scenario as scen  # noqa: E402

RUN = os.path.join(ROOT, "scripts", "run_scenario.py")
PY = sys.executable
SHIPPED = ["c10k", "seed", "smoke", "cpu-bound", "keepalive", "peers", "models"]
# The C10K story the c10k, smoke and keepalive scenarios tell (their content, not a model list:
# the models themselves are discovered from the binaries, harness.MODELS).
CLASSIC_MODELS = ["blocking", "threaded", "forking", "select", "epoll", "libuv"]

GOOD = {
    "schema_version": 1,
    "name": "t",
    "description": "a test scenario",
    "server_options": {"delay_ms": 10},
    "loadgen": {"duration_s": 1},
    "series": ["epoll", {"name": "epoll-ka", "server": "epoll", "loadgen": {"keepalive": True}}],
    "concurrency": [1, 10],
}


def problems(doc, quick=False):
    with pytest.raises(scen.ScenarioError) as e:
        scen.validate(doc, "t.json", quick=quick)
    return e.value.problems


def mutate(fn):
    doc = copy.deepcopy(GOOD)
    fn(doc)
    return doc


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_validate_full_and_quick(name):
    for quick in (False, True):
        sc = scen.load(name, quick=quick)
        assert sc["name"] == name and sc["schema_version"] == 1
        assert sc["description"].strip()
        for s in sc["series"]:
            assert s["concurrency"] == sorted(set(s["concurrency"])) and s["concurrency"]
            assert (s["server"] in harness.MODELS or (s["server"] and s.get("optional"))
                    or (s["server"] is None and (s.get("command") or s.get("url"))))


def test_models_scenario_runs_every_model_in_story_order_over_the_c10k_sweep():
    sc = scen.load("models")
    servers = [s["server"] for s in sc["series"]]
    every_model = glob.glob(os.path.join(ROOT, "servers", "models", "*.c"))  # one file each
    assert servers[:len(CLASSIC_MODELS)] == CLASSIC_MODELS and len(servers) == len(every_model)
    ranks = [harness.DESCRIPTIONS[m]["rank"] for m in servers]
    assert ranks == sorted(ranks)
    assert sc["concurrency"][0] == 1 and sc["concurrency"][-1] == 10000
    assert all(s["server_options"]["delay_ms"] == 1000 and s["loadgen"]["keepalive"] for s in sc["series"])


def test_shipped_scenarios_say_what_the_issue_asks():
    c10k = scen.load("c10k")
    assert [s["server"] for s in c10k["series"]] == CLASSIC_MODELS
    assert c10k["concurrency"][0] == 1 and c10k["concurrency"][-1] == 10000
    assert all(s["server_options"]["delay_ms"] == 1000 for s in c10k["series"])
    seed = scen.load("seed")
    assert [s["server"] for s in seed["series"]] == ["blocking", "threaded", "select", "epoll"]
    assert seed["concurrency"] == [5]
    assert all(s["loadgen"]["requests"] == 5 and s["server_options"]["delay_ms"] == 3000 for s in seed["series"])
    smoke = scen.load("smoke")
    assert {s["server"] for s in smoke["series"]} == set(CLASSIC_MODELS)
    cpu = scen.load("cpu-bound")
    assert all(s["server_options"].get("work_us", 0) > 0 and not s["server_options"].get("delay_ms")
               for s in cpu["series"])
    ka = scen.load("keepalive")
    for m in CLASSIC_MODELS:
        modes = {s["loadgen"]["keepalive"] for s in ka["series"] if s["server"] == m}
        assert modes == {True, False}, m


def test_good_scenario_is_expanded_with_defaults_and_merges():
    sc = scen.validate(copy.deepcopy(GOOD))
    plain, ka = sc["series"]
    assert plain["name"] == "epoll" and plain["loadgen"]["keepalive"] is False
    assert ka["loadgen"]["keepalive"] is True and ka["loadgen"]["duration_s"] == 1
    assert ka["server_options"]["delay_ms"] == 10
    assert plain["loadgen"]["timeout_s"] == 30 and plain["concurrency"] == [1, 10]
    assert sc["repeats"] == 1


def test_quick_overrides_apply_only_with_quick():
    doc = mutate(lambda d: d.update(quick={"concurrency": [2], "repeats": 1, "loadgen": {"duration_s": 0.5}}))
    doc["repeats"] = 3
    full, quick = scen.validate(doc), scen.validate(copy.deepcopy(doc), quick=True)
    assert full["series"][0]["concurrency"] == [1, 10] and full["repeats"] == 3
    assert quick["series"][0]["concurrency"] == [2] and quick["repeats"] == 1
    assert quick["series"][0]["loadgen"]["duration_s"] == 0.5 and quick["quick"] is True


def test_log_sweep_expands_and_includes_max():
    sc = scen.validate(mutate(lambda d: d.update(concurrency={"min": 1, "max": 10000, "points_per_decade": 2})))
    assert sc["concurrency"] == [1, 3, 10, 32, 100, 316, 1000, 3162, 10000]
    sc = scen.validate(mutate(lambda d: d.update(concurrency={"min": 5, "max": 70, "points_per_decade": 1})))
    assert sc["concurrency"] == [5, 50, 70]


@pytest.mark.parametrize("fn, expected", [
    (lambda d: d.update(colour="red"), "/colour: unknown key"),
    (lambda d: d["loadgen"].update(keepalve=True), "/loadgen/keepalve: unknown key"),
    (lambda d: d["server_options"].update(delay=3), "/server_options/delay: unknown key"),
    (lambda d: d["series"][1].update(port=80), "/series/1/port: unknown key"),
    (lambda d: d["series"][1]["loadgen"].update(n=5), "/series/1/loadgen/n: unknown key"),
    (lambda d: d.update(quick={"description": "x"}), "/quick/description: unknown key"),
])
def test_unknown_keys_are_refused(fn, expected):
    assert any(expected in p for p in problems(mutate(fn)))


@pytest.mark.parametrize("fn, expected", [
    (lambda d: d["server_options"].update(delay_ms="1000"), "/server_options/delay_ms: must be an integer"),
    (lambda d: d["server_options"].update(delay_ms=1.5), "/server_options/delay_ms: must be an integer"),
    (lambda d: d["server_options"].update(delay_ms=-1), "/server_options/delay_ms: must be >= 0"),
    (lambda d: d["loadgen"].update(keepalive=1), "/loadgen/keepalive: must be true or false"),
    (lambda d: d["loadgen"].update(threads=True), "/loadgen/threads: must be an integer"),
    (lambda d: d["loadgen"].update(duration_s="5s"), "/loadgen/duration_s: must be a number"),
    (lambda d: d["loadgen"].update(duration_s=0), "/loadgen/duration_s: must be > 0"),
    (lambda d: d["loadgen"].update(rate="fast"), "/loadgen/rate: must be a number or null"),
    (lambda d: d["loadgen"].update(extra_args="-v 2"), "/loadgen/extra_args: must be a list"),
    (lambda d: d.update(repeats=0), "/repeats: must be >= 1"),
    (lambda d: d.update(repeats="3"), "/repeats: must be an integer"),
    (lambda d: d.update(name="has space"), "/name: must be"),
    (lambda d: d.update(description=7), "/description: must be a string"),
    (lambda d: d.update(series="epoll"), "/series: must be a list"),
    (lambda d: d["series"].append(42), "/series/2: must be a string or an object"),
    (lambda d: d["series"].append({"server": "Epoll!"}), "/series/2/server: must be a model name"),
    (lambda d: d.update(loadgen=[]), "/loadgen: must be an object"),
])
def test_wrong_types_and_ranges_are_refused(fn, expected):
    assert any(expected in p for p in problems(mutate(fn))), problems(mutate(fn))


@pytest.mark.parametrize("key", ["name", "description", "series", "concurrency", "loadgen"])
def test_missing_top_level_keys_are_refused(key):
    assert f"/{key}: missing key" in problems(mutate(lambda d: d.pop(key)))


def test_missing_server_in_series_object_is_refused():
    assert any("/series/1: give exactly one of server (a model of ours), command (a server to start) or url"
               in p for p in problems(mutate(lambda d: d["series"][1].pop("server"))))


def test_peers_puts_each_peer_beside_epoll_in_both_connection_modes():
    peers = scen.load("peers")
    names = [s["name"] for s in peers["series"]]
    for peer in ("epoll", "reuseport", "nginx-1", "nginx-2", "h2o", "asyncio"):
        for mode, ka in (("keepalive", True), ("close", False)):
            (s,) = [s for s in peers["series"] if s["name"] == f"{peer}-{mode}"]
            assert s["loadgen"]["keepalive"] is ka
    assert len(names) == 12 and all(s.get("optional") for s in peers["series"] if s["server"] == "reuseport")
    assert peers["concurrency"][0] == 1 and peers["concurrency"][-1] == 10000
    assert all(not s["server_options"].get("delay_ms") for s in peers["series"])
    (asyncio_peer,) = [s for s in peers["series"] if s["name"] == "asyncio-close"]
    assert os.path.isfile(asyncio_peer["command"][1])  # {scenario_dir} filled in: the shipped script
    for s in peers["series"]:
        if s["name"].startswith("nginx-"):
            assert 'return 200 "c10k-bench reference response body' in s["files"]["nginx.conf"]


def cmd_series(**kw):
    return mutate(lambda d: d["series"].append(dict({"name": "x", "command": ["srv", "--port", "{port}"]}, **kw)))


@pytest.mark.parametrize("doc, expected", [
    (cmd_series(command="srv --port {port}"), "/series/2/command: must be a list"),
    (cmd_series(command=[]), "/series/2/command: must not be empty"),
    (cmd_series(command=["srv", "--port", "{prot}"]), "/series/2/command/2: unknown placeholder {prot}"),
    (cmd_series(env={"A": 1}), "/series/2/env/A: must be a string"),
    (cmd_series(env={"A": "{hots}"}), "/series/2/env/A: unknown placeholder {hots}"),
    (cmd_series(ready="http"), "/series/2/ready: must be \"tcp\", {\"line\": REGEX} or {\"http\": PATH}"),
    (cmd_series(ready={"line": "("}), "/series/2/ready/line: not a valid regular expression"),
    (cmd_series(ready={"http": "health"}), "/series/2/ready/http: must be a path starting with '/'"),
    (cmd_series(ready={"tcp": True}), "/series/2/ready/tcp: unknown key"),
    (cmd_series(command=["srv"], ready="tcp"), "/series/2/ready: the command has no {port}"),
    (cmd_series(start_timeout_s=0), "/series/2/start_timeout_s: must be > 0"),
    (cmd_series(files={"../etc/passwd": "x"}), "/series/2/files/..~1etc~1passwd: must be a relative path"),
    (cmd_series(files={"a": 3}), "/series/2/files/a: must be a string"),
    (cmd_series(server_options={"delay_ms": 1}), "/series/2/server_options: not for a command series"),
    (cmd_series(url="http://x/"), "/series/2: give exactly one of server"),
    (cmd_series(pid=3), "/series/2/pid: not for a command series"),
    (cmd_series(colour=3), "/series/2/colour: unknown key"),
    (mutate(lambda d: d["series"].append({"command": ["srv", "{port}"]})), "/series/2/name: missing key"),
    (mutate(lambda d: d["series"].append({"name": "u", "url": "ftp://h/"})), "/series/2/url: must be an http://"),
    (mutate(lambda d: d["series"].append({"name": "u", "url": "http://h:99999/"})), "/series/2/url:"),
    (mutate(lambda d: d["series"].append({"name": "u", "url": "http://h/", "pid": 0})), "/series/2/pid: must be >= 1"),
    (mutate(lambda d: d["series"].append({"name": "u", "url": "http://h/", "pid": 2, "pidfile": "f"})),
     "/series/2: give pid or pidfile, not both"),
    (mutate(lambda d: d["series"].append({"name": "u", "url": "http://h/", "ready": "tcp"})),
     "/series/2/ready: not for a url series"),
])
def test_bad_command_and_url_series_name_the_key(doc, expected):
    got = problems(doc)
    assert any(expected in p for p in got), got


def test_command_series_is_expanded_and_round_trips_through_the_manifest(tmp_path):
    doc = cmd_series(env={"HOME": "{dir}"}, files={"a/b.conf": "listen {port}; events {}"},
                     command=["{scenario_dir}/srv", "--port", "{port}"])
    sc = scen.validate(doc, "t.json", scenario_dir="/opt/sc")
    s = sc["series"][2]
    assert s["server"] is None and s["command"] == ["/opt/sc/srv", "--port", "{port}"]
    assert s["server_options"] == {} and s["ready"] is None and s["loadgen"]["duration_s"] == 1
    assert scen.check_expanded(json.loads(json.dumps(sc)), "manifest") == sc
    argv, env, cwd = scen.command_setup(s, {"host": "127.0.0.1", "port": "8080", "dir": str(tmp_path)})
    assert argv == ["/opt/sc/srv", "--port", "8080"] and env["HOME"] == str(tmp_path) and cwd is None
    assert (tmp_path / "a" / "b.conf").read_text() == "listen 8080; events {}"  # other braces stay
    assert scen.label(s).startswith("/opt/sc/srv --port")


@pytest.mark.parametrize("version", [None, 0, 2, "1", 1.0])
def test_other_schema_versions_are_refused(version):
    doc = mutate(lambda d: d.pop("schema_version") if version is None else d.update(schema_version=version))
    (msg,) = problems(doc)
    assert "schema_version" in msg and ("missing" in msg or "reads schema_version 1" in msg)


@pytest.mark.parametrize("sweep, expected", [
    ([], "/concurrency: must not be empty"),
    ([10, 1], "strictly increasing"),
    ([1, 1], "strictly increasing"),
    ([0, 10], "/concurrency/0: must be >= 1"),
    ([1, "10"], "/concurrency/1: must be an integer"),
    ([1, 2.5], "/concurrency/1: must be an integer"),
    ([1, 2_000_000], "/concurrency/1: must be <= 1000000"),
    ("1..100", "/concurrency: must be a list or an object"),
    ({"min": 10, "max": 1, "points_per_decade": 1}, "max (1) is below min (10)"),
    ({"min": 1, "max": 100}, "/concurrency/points_per_decade: missing key"),
    ({"min": 1, "max": 100, "points_per_decade": 1, "step": 2}, "/concurrency/step: unknown key"),
    ({"min": 0, "max": 100, "points_per_decade": 1}, "/concurrency/min: must be >= 1"),
])
def test_bad_sweeps_are_refused(sweep, expected):
    assert any(expected in p for p in problems(mutate(lambda d: d.update(concurrency=sweep)))), \
        problems(mutate(lambda d: d.update(concurrency=sweep)))


def test_series_own_bad_sweep_is_refused():
    ps = problems(mutate(lambda d: d["series"][1].update(concurrency=[])))
    assert any("/series/1/concurrency: must not be empty" in p for p in ps)


def test_duplicate_series_names_are_refused():
    ps = problems(mutate(lambda d: d["series"].append("epoll")))
    assert any("series name 'epoll' is used twice" in p for p in ps)


def test_exactly_one_run_bound_is_required():
    none = problems(mutate(lambda d: d["loadgen"].pop("duration_s")))
    assert any("exactly one of duration_s, requests, requests_per_connection (got none)" in p for p in none)
    both = problems(mutate(lambda d: d["loadgen"].update(requests=100)))
    assert any("(got duration_s, requests)" in p for p in both)


def test_requests_below_concurrency_is_refused():
    doc = mutate(lambda d: (d["loadgen"].pop("duration_s"), d["loadgen"].update(requests=5)))
    assert any("loadgen.requests (5) is below the highest concurrency (10)" in p for p in problems(doc))


def test_every_problem_is_reported_at_once():
    def break_many(d):
        d["loadgen"]["keepalve"] = True
        d["server_options"]["delay_ms"] = "x"
        d.pop("description")
    ps = problems(mutate(break_many))
    assert len(ps) >= 3


def test_invalid_json_and_missing_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1,,}')
    with pytest.raises(scen.ScenarioError, match="not valid JSON.*line 1"):
        scen.load(str(bad))
    with pytest.raises(scen.ScenarioError, match="no such scenario file.*shipped scenarios: .*c10k"):
        scen.load("no-such-scenario")
    with pytest.raises(scen.ScenarioError, match="must be a JSON object"):
        bad.write_text("[1, 2]")
        scen.load(str(bad))


def test_missing_server_binary_is_refused(tmp_path):
    sc = scen.validate(copy.deepcopy(GOOD))
    with pytest.raises(scen.ScenarioError) as e:
        scen.check_binaries(sc, str(tmp_path))
    text = str(e.value)
    assert "server-epoll (series epoll, epoll-ka): binary not found" in text
    assert "loadgen: binary not found" in text
    exe = tmp_path / "server-epoll"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    (tmp_path / "loadgen").write_text("not executable")
    with pytest.raises(scen.ScenarioError, match="loadgen: binary not found") as e:
        scen.check_binaries(sc, str(tmp_path))
    assert "server-epoll" not in str(e.value)


def test_arguments_map_to_the_cli():
    sc = scen.validate(mutate(lambda d: (d["server_options"].update(work_us=5, backlog=64, extra_args=["-x"]),
                                         d["loadgen"].update(rate=100.5, threads=2, warmup_s=0.5, ramp_s=1,
                                                             source="127.0.0.1-127.0.0.9", timeout_s=7))))
    s = sc["series"][1]
    assert scen.server_args("/b/server-epoll", s) == [
        "/b/server-epoll", "--host", "127.0.0.1", "--port", "0", "--delay-ms", "10", "--work-us", "5",
        "--backlog", "64", "-x"]
    args = scen.loadgen_args("/b/loadgen", s, 10, "http://127.0.0.1:1/", "/t/j.json")
    assert args[0] == "/b/loadgen" and args[-1] == "http://127.0.0.1:1/"
    joined = " ".join(args)
    for part in ("-c 10", "-s 7", "--json /t/j.json", "-k", "--duration 1", "--rate 100.5", "--threads 2",
                 "--warmup 0.5", "--ramp 1", "--source 127.0.0.1-127.0.0.9", "--no-progress"):
        assert part in joined
    per_conn = scen.validate(mutate(lambda d: (d["loadgen"].pop("duration_s"),
                                               d["loadgen"].update(requests_per_connection=3))))
    args = scen.loadgen_args("/b/loadgen", per_conn["series"][0], 10, "http://h/", "j")
    assert args[args.index("-n") + 1] == "30" and "-k" not in args


def _run(*args, **kw):
    return subprocess.run([PY, RUN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60, **kw)


def test_cli_refuses_a_bad_scenario_before_starting_anything(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(mutate(lambda d: d["loadgen"].update(keepalve=True))))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    r = _run(str(bad), "--out", str(out_dir), "--bin-dir", str(tmp_path))
    assert r.returncode == 2
    assert f"{bad}: /loadgen/keepalve: unknown key" in r.stderr
    assert os.listdir(out_dir) == []


def test_cli_refuses_missing_binaries_before_starting_anything(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    r = _run("smoke", "--out", str(out_dir), "--bin-dir", str(tmp_path))
    assert r.returncode == 2
    assert "server-blocking" in r.stderr and "binary not found" in r.stderr
    assert os.listdir(out_dir) == []


def test_cli_other_schema_version(tmp_path):
    f = tmp_path / "v2.json"
    f.write_text(json.dumps(mutate(lambda d: d.update(schema_version=2))))
    r = _run(str(f), "--check", "--bin-dir", str(tmp_path))
    assert r.returncode == 2 and "reads schema_version 1, the file has 2" in r.stderr


def test_cli_list_shows_every_shipped_scenario():
    r = _run("--list")
    assert r.returncode == 0
    for name in SHIPPED:
        assert name in r.stdout
    assert "INVALID" not in r.stdout


def test_compare_to_must_name_a_series():
    got = problems(mutate(lambda d: d["series"][1].update(compare_to="nginx")))
    assert "/series/1/compare_to: no series is named 'nginx'" in got
    got = problems(mutate(lambda d: d["series"][1].update(compare_to=3)))
    assert any(p.startswith("/series/1/compare_to: must be a string") for p in got)
    sc = scen.validate(mutate(lambda d: d["series"][1].update(compare_to="epoll")))
    assert sc["series"][1]["compare_to"] == "epoll" and "compare_to" not in sc["series"][0]


def test_optional_model_series_is_skipped_when_its_binary_is_missing(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("server-epoll", "loadgen"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    doc = mutate(lambda d: d["series"].append({"server": "newmodel", "optional": True}))
    sc = scen.validate(doc)
    scen.check_binaries(sc, str(bin_dir))  # no error: the optional series is skipped instead
    assert scen.missing_binary_reason(sc["series"][2], str(bin_dir)).startswith("server-newmodel is not built")
    assert scen.missing_binary_reason(sc["series"][0], str(bin_dir)) is None
    got = problems(mutate(lambda d: d["series"].append({"name": "c", "command": ["x", "{port}"], "optional": True})))
    assert "/series/2/optional: not for a command series" in got
    f = tmp_path / "s.json"
    f.write_text(json.dumps(doc))
    r = _run(str(f), "--check", "--bin-dir", str(bin_dir))
    assert r.returncode == 0, r.stderr
    assert "cannot run newmodel at c=1, 10 here: server-newmodel is not built" in r.stderr


SCHEMA = os.path.join(ROOT, "scenarios", "scenario.schema.json")


def schema_keys(node):
    """Every key name the schema defines (under any "properties"), wherever it is."""
    keys = set()
    if isinstance(node, dict):
        keys |= set(node.get("properties", {}))
        for value in node.values():
            keys |= schema_keys(value)
    elif isinstance(node, list):
        for value in node:
            keys |= schema_keys(value)
    return keys


def documented_keys():
    """The keys docs/scenario-format.md documents: the first column of its `| key |` tables."""
    import re
    keys, in_key_table = set(), False
    with open(os.path.join(ROOT, "docs", "scenario-format.md"), encoding="utf-8") as f:
        for line in f:
            if not line.startswith("|"):
                in_key_table = False
                continue
            first = line.split("|")[1].strip()
            if first == "key":
                in_key_table = True
            elif in_key_table and not first.startswith("---"):
                keys |= set(re.findall(r"`([a-z_]+)`", first))
    return keys


def test_the_documentation_and_the_schema_name_the_same_keys():
    with open(SCHEMA, encoding="utf-8") as f:
        defined = schema_keys(json.load(f))
    documented = documented_keys()
    assert defined - documented == set(), "defined in the schema but not documented"
    assert documented - defined == set(), "documented but not in the schema"


def test_the_schema_knows_every_option_that_becomes_a_flag():
    from c10k.series import LOADGEN_FIELDS, SERVER_OPTION_FIELDS
    with open(SCHEMA, encoding="utf-8") as f:
        defs = json.load(f)["$defs"]
    assert set(defs["loadgen"]["properties"]) == set(LOADGEN_FIELDS)
    assert set(defs["server_options"]["properties"]) == set(SERVER_OPTION_FIELDS)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.json"))
                                        + glob.glob(os.path.join(ROOT, "scenarios", "peers", "*.json"))))
def test_every_shipped_scenario_file_validates_against_the_schema(path):
    if path == SCHEMA:
        import jsonschema
        with open(path, encoding="utf-8") as f:
            jsonschema.Draft202012Validator.check_schema(json.load(f))
        return
    with open(path, encoding="utf-8") as f:
        assert scen._schema_problems(scen.parse(f.read(), path)) == []
    assert os.path.basename(path)[:-5] in scen.available()


def test_the_schema_is_not_listed_as_a_scenario():
    assert "scenario.schema" not in scen.available()


def test_a_duplicate_key_is_an_error_naming_the_file_and_the_key(tmp_path):
    f = tmp_path / "dup.json"
    f.write_text(json.dumps(GOOD)[:-1].replace('"loadgen": {"duration_s": 1}',
                                               '"loadgen": {"warmup_s": 1, "duration_s": 1, "warmup_s": 2}')
                 + ', "repeats": 2, "repeats": 3}')
    with pytest.raises(scen.ScenarioError) as e:
        scen.load(str(f))
    assert sorted(e.value.problems) == sorted([
        "/loadgen/warmup_s: duplicate key (given more than once in one object; JSON readers keep only the last)",
        "/repeats: duplicate key (given more than once in one object; JSON readers keep only the last)"])
    assert str(e.value).startswith(f"{f}: /")


def test_nan_and_infinity_are_not_numbers(tmp_path):
    f = tmp_path / "nan.json"
    f.write_text(json.dumps(GOOD).replace('"duration_s": 1', '"duration_s": NaN'))
    with pytest.raises(scen.ScenarioError, match="NaN is not a JSON number"):
        scen.load(str(f))


def test_errors_name_the_file_and_the_key_as_a_json_pointer(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(mutate(lambda d: d["series"][1]["loadgen"].update(warmup_s=-1))))
    with pytest.raises(scen.ScenarioError) as e:
        scen.load(str(f))
    assert str(e.value) == f"{f}: /series/1/loadgen/warmup_s: must be >= 0, got -1"
