"""Series for any server: a `command` the runner starts on a port it picks, with files in a fresh
folder, and a `url` of a server that runs already. Uses the shipped asyncio peer and our epoll."""
import glob
import json
import os
import sys

import harness
from harness import ROOT
from test_runner import run_runner, sessions_alive, the_folder, rep_files, results

ASYNCIO = os.path.join(ROOT, "scenarios", "peers", "asyncio_http.py")


def scenario(tmp_path, series, concurrency=(1, 4), duration=0.5):
    doc = {"schema_version": 1, "name": "anysrv", "description": "servers that are not ours",
           "loadgen": {"duration_s": duration, "timeout_s": 5}, "series": series,
           "concurrency": list(concurrency)}
    path = tmp_path / "anysrv.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    return str(path), out


def load_rep(folder, series, c):
    return results.read_repetition(results.rep_path(folder, series, c, 1))


def test_command_series_runs_on_a_picked_port_with_files_env_and_samples(tmp_path):
    # The program is a shell that checks its file and env, then execs the asyncio server: the
    # sampled tree and the stopped group are the server's.
    script = ('test "$(cat {dir}/conf/greeting)" = "port {port}" && test "$MARK" = "{dir}" '
              '&& test "$(pwd)" = "{dir}/conf" '
              '&& exec ' + sys.executable + ' ' + ASYNCIO + ' --host {host} --port {port}')
    series = [{"name": "asyncio", "command": ["sh", "-c", script], "env": {"MARK": "{dir}"}, "cwd": "{dir}/conf",
               "files": {"conf/greeting": "port {port}"}, "ready": "tcp"},
              {"name": "asyncio-http-ready", "command": [sys.executable, ASYNCIO, "--port", "{port}"],
               "ready": {"http": "/"}, "concurrency": [2]}]
    path, out = scenario(tmp_path, series)
    r = run_runner(path, "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    folder = the_folder(out)
    pids = set()
    for c in (1, 4):
        doc = load_rep(folder, "asyncio", c)
        assert doc["status"] == "ok", doc["detail"]
        assert doc["server"] is None
        argv = doc["server_args"]
        assert argv[:2] == ["sh", "-c"] and "{port}" not in argv[2] and "{dir}" not in argv[2]
        assert doc["loadgen"]["summary"]["complete"] > 0 and doc["loadgen"]["summary"]["non_2xx"] == 0
        usage = doc["server_usage"]
        assert usage["samples"] and usage["peak_pss_kib"] > 0 and usage["cpu_per_request_us"] > 0
        assert "tcp_mem_kib" in usage["samples"][0] and usage["peak_tcp_mem_kib"] is not None
        # ss: the server's own sockets, counted (a keep-alive-less loadgen may be between two).
        assert "sockets" not in usage["samples"][0] and any("sockets" in s for s in usage["samples"])
        assert usage["peak_sockets"] is not None and usage["sock_mem_per_connection_kib"] is not None
        assert "error" in doc["server_stats"]["before"]  # no JSON /__stats: the columns say n/a
        pids.add(doc["server_pid"])
    assert load_rep(folder, "asyncio-http-ready", 2)["status"] == "ok"
    assert sessions_alive(pids) == []
    html = open(os.path.join(folder, "index.html")).read()
    assert "sh -c" in html


def test_start_timeout_shows_the_output_and_leaves_nothing(tmp_path):
    series = [{"name": "mute", "command": ["sh", "-c", "echo booting on {port}; echo no config >&2; exec sleep 30"],
               "ready": "tcp", "start_timeout_s": 1}]
    path, out = scenario(tmp_path, series, concurrency=(1,))
    r = run_runner(path, "--out", str(out), "--no-progress", "--no-plots")
    assert r.returncode == 1, r.stderr
    assert "did not accept connections on 127.0.0.1:" in r.stderr and "within 1 s" in r.stderr
    assert "booting on" in r.stderr and "no config" in r.stderr
    assert results.read_manifest(the_folder(out))["interrupted"] == "error"


def test_ready_line_gives_the_port(tmp_path):
    prog = ("import socket,sys;s=socket.socket();s.bind(('127.0.0.1',0));s.listen(64);"
            "print('serving at port=%d' % s.getsockname()[1], flush=True);"
            "exec(open(sys.argv[1]).read().split('# SERVE')[1])")
    # A stand-in that says its port its own way, then answers like the asyncio peer would.
    server_py = tmp_path / "srv.py"
    server_py.write_text("# SERVE\n"
                         "while True:\n"
                         "    c, _ = s.accept()\n"
                         "    c.recv(65536)\n"
                         "    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok')\n"
                         "    c.close()\n")
    series = [{"name": "own-line", "command": [sys.executable, "-c", prog, str(server_py)],
               "ready": {"line": r"port=(?P<port>\d+)"}}]
    path, out = scenario(tmp_path, series, concurrency=(1,), duration=0.3)
    r = run_runner(path, "--out", str(out), "--no-progress", "--no-plots")
    assert r.returncode == 0, r.stderr
    doc = load_rep(the_folder(out), "own-line", 1)
    assert doc["status"] == "ok" and doc["loadgen"]["summary"]["complete"] > 0


def test_a_peer_that_is_not_installed_is_skipped_with_the_reason(tmp_path):
    series = ["epoll", {"name": "ghost", "command": ["c10k-no-such-server", "--port", "{port}"],
                        "package": "c10k-ghost"}]
    path, out = scenario(tmp_path, series, concurrency=(1,), duration=0.3)
    r = run_runner(path, "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    reason = "c10k-no-such-server is not installed (Debian package c10k-ghost) or not on PATH"
    assert f"cannot run ghost at c=1 here: {reason}" in r.stderr
    folder = the_folder(out)
    manifest = results.read_manifest(folder)
    assert manifest["skipped_points"] == [{"series": "ghost", "concurrency": 1, "reason": reason}]
    assert [os.path.basename(os.path.dirname(os.path.dirname(f))) for f in rep_files(folder)] == ["epoll"]
    assert "skipped: " + reason in open(os.path.join(folder, "index.html")).read()


def test_url_series_drives_a_running_server_and_samples_only_with_a_pid(tmp_path):
    server = harness.start_server("epoll")
    try:
        pidfile = tmp_path / "srv.pid"
        pidfile.write_text(f"{server.proc.pid}\n")
        series = [{"name": "remote", "url": server.url},
                  {"name": "remote-pid", "url": server.url, "pidfile": str(pidfile)}]
        path, out = scenario(tmp_path, series, concurrency=(2,), duration=0.3)
        r = run_runner(path, "--out", str(out), "--no-progress")
        assert r.returncode == 0, r.stderr
        assert server.proc.poll() is None, "a url series must not stop the server"
        folder = the_folder(out)
        bare, sampled = load_rep(folder, "remote", 2), load_rep(folder, "remote-pid", 2)
        assert bare["status"] == "ok" and bare["server_pid"] is None and bare["server_args"] is None
        assert bare["server_usage"]["samples"] == [] and bare["server_usage"]["cpu_per_request_us"] is None
        assert bare["server_stats"]["after"]["requests"] > bare["server_stats"]["before"]["requests"]
        assert sampled["server_pid"] == server.proc.pid and sampled["server_usage"]["samples"]
        assert sampled["server_usage"]["cpu_per_request_us"] > 0
        assert "n/a" in open(os.path.join(folder, "index.html")).read()
    finally:
        server.stop()


def test_shipped_peers_start_and_send_the_reference_body(tmp_path):
    """The nginx, h2o and asyncio series of scenarios/peers.json, as shipped, at one small point:
    each starts from its generated config, answers 200 with our 64-byte body, is sampled (nginx:
    master and workers), and the summary gives ratios against nginx with 1 worker."""
    from c10k import scenario as scen
    peers = scen.load("peers")
    keep = ["nginx-1-keepalive", "nginx-2-close", "h2o-keepalive", "asyncio-close", "epoll-keepalive"]
    chosen = []
    for s in peers["series"]:
        if s["name"] in keep:
            item = {k: v for k, v in s.items() if k not in ("server", "server_options", "loadgen", "concurrency")
                    and not (k in ("env", "files") and not v) and v is not None}
            item.update({"server": s["server"]} if s["server"] else {})
            item["loadgen"] = {"keepalive": s["loadgen"]["keepalive"]}
            item["compare_to"] = "nginx-1-keepalive"
            chosen.append(item)
    path, out = scenario(tmp_path, chosen, concurrency=(4,), duration=0.3)
    r = run_runner(path, "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    folder = the_folder(out)
    ran = {os.path.basename(os.path.dirname(os.path.dirname(f))) for f in rep_files(folder)}
    skipped = {p["series"]: p["reason"] for p in results.read_manifest(folder)["skipped_points"]}
    assert ran | set(skipped) == set(keep) and "epoll-keepalive" in ran and "asyncio-close" in ran
    for name in ran:
        doc = load_rep(folder, name, 4)
        assert doc["status"] == "ok", (name, doc["detail"], doc["server_stderr_tail"])
        summary = doc["loadgen"]["summary"]
        assert summary["complete"] > 0 and summary["non_2xx"] == 0 and summary["failed"] == 0, name
        assert summary["document_length"] == 64, name
        assert doc["server_usage"]["cpu_per_request_us"] > 0, name
        if name.startswith("nginx-2"):
            assert doc["server_usage"]["peak_processes"] == 3  # master and two workers
    for name, reason in skipped.items():
        assert "is not installed" in reason, (name, reason)
    summary_md = open(os.path.join(folder, "summary.md")).read()
    if "nginx-1-keepalive" in ran:
        assert "| nginx-1-keepalive (vs nginx-1-keepalive) | 1.00x, 1.00x |" in summary_md
