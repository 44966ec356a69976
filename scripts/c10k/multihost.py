"""Load from several hosts: loadgen shards started over ssh by GNU parallel, merged exactly.

The runner's `--loadgen-hosts FILE` lists one ssh destination per line, optionally followed by
`source=A[-B]` (the shard's --source range on that host) and `loadgen=PATH` (the loadgen binary
there; default: the runner's own path). Blank lines and `#` comments are ignored:

    # ssh destination     options
    root@198.18.0.11      source=198.18.0.11
    bench@client-2        loadgen=/opt/c10k/bin/loadgen

GNU parallel runs one ssh per host at once (the fan-out), openssh carries the command (no agent
or daemon of ours on the hosts), and every shard starts at one wall-clock instant
(`loadgen --start-at`, corrected by the host's measured clock offset). The ssh command comes from $C10K_SSH (default
`ssh -o BatchMode=yes`), e.g. `ssh -i KEY -p 2222`. Each shard writes its JSON to stdout; the
runner keeps each shard's document beside the point and merges them with `loadgen --merge`.
The hosts' clock offsets are measured over ssh once per run (for the manifest).
"""
import json
import os
import shlex
import shutil
import subprocess
import time

from .nested import dig

SSH_ENV = "C10K_SSH"
# Shards start together at a wall-clock instant this far ahead (loadgen --start-at), in each
# host's own clock (its measured offset added), so that ssh set-up times do not stagger them.
START_AHEAD_S = 2.0
DEFAULT_SSH = "ssh -o BatchMode=yes"


class HostsError(Exception):
    """A bad --loadgen-hosts file or a missing tool: exit status 2 with the message."""


def ssh_command():
    return shlex.split(os.environ.get(SSH_ENV) or DEFAULT_SSH)


def read_hosts(path, default_loadgen):
    """[{"login", "source", "loadgen"}] from a hosts file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise HostsError(f"cannot read --loadgen-hosts file {path}: {e.strerror}")
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise HostsError(f"--loadgen-hosts file {path} is not UTF-8 text (line {line})")
    hosts = []
    for n, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        host = {"login": words[0], "source": None, "loadgen": default_loadgen}
        for w in words[1:]:
            key, eq, value = w.partition("=")
            if not eq or key not in ("source", "loadgen") or not value:
                raise HostsError(f"{path}:{n}: unknown option {w!r} (expected source=A[-B] or loadgen=PATH)")
            host[key] = value
        if host["login"].startswith("-"):
            raise HostsError(f"{path}:{n}: {host['login']!r} is not an ssh destination")
        hosts.append(host)
    if not hosts:
        raise HostsError(f"{path}: no hosts")
    for tool in ("parallel", ssh_command()[0]):
        if not shutil.which(tool):
            raise HostsError(f"--loadgen-hosts needs {tool!r} on PATH (Debian: apt-get install parallel openssh-client)")
    return hosts


def clock_offsets(hosts, timeout_s=10.0):
    """Each host's clock minus ours, measured over ssh at the midpoint of the round trip."""
    ssh = ssh_command()
    for h in hosts:
        t0 = time.time()
        try:
            out = subprocess.run(ssh + [h["login"], "date +%s.%N"], capture_output=True, text=True,
                                 timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            h["clock_offset_s"], h["clock_error"] = None, f"ssh did not answer within {timeout_s:g} s"
            continue
        t1 = time.time()
        try:
            remote = float(out.stdout.strip())
        except ValueError:
            h["clock_offset_s"] = None
            h["clock_error"] = f"ssh exited {out.returncode}: {out.stderr.strip()[-300:]}"
            continue
        h["clock_offset_s"] = round(remote - (t0 + t1) / 2, 6)
        h["ssh_round_trip_s"] = round(t1 - t0, 6)
    return hosts


def _split(total, k, n):
    return total // n + (1 if k < total % n else 0)


def _option_value(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def shard_args(lg_args, host, k, n, start_at=None):
    """The runner's loadgen command with shard k's share of -c, -n, --rate and --idle, its JSON on
    stdout, its source range, its start time and its host's loadgen binary."""
    c = int(_option_value(lg_args, "-c"))
    out, i = [host["loadgen"]], 1
    while i < len(lg_args):
        a = lg_args[i]
        if a in ("-c", "-n", "--rate", "--idle", "--json", "--source") and i + 1 < len(lg_args):
            v = lg_args[i + 1]
            if a == "-c":
                out += ["-c", str(_split(c, k, n))]
            elif a in ("-n", "--idle"):
                out += [a, str(_split(int(v), k, n))]
            elif a == "--rate":
                out += ["--rate", repr(float(v) * _split(c, k, n) / c)]
            i += 2
            continue
        out.append(a)
        i += 1
    out[-1:-1] = (["--json", "-"] + (["--source", host["source"]] if host["source"] else []) +
                  (["--start-at", f"{start_at + (host.get('clock_offset_s') or 0):.6f}"] if start_at else []))
    return out


def run_point(hosts, lg_args, json_path, timeout_s, local_loadgen):
    """The runner's hook: one repetition's load from the hosts. Its shards are kept in
    rep<k>.shards/ beside the repetition. Returns (processes.LoadgenResult, shards)."""
    from .processes import LoadgenResult
    name = os.path.basename(json_path).lstrip(".").split(".")[0]  # .rep3.loadgen.json.tmp -> rep3
    t0 = time.monotonic()
    status, timed_out, tail, shards = run_shards(hosts, lg_args, json_path,
                                                 os.path.join(os.path.dirname(json_path), name + ".shards"),
                                                 timeout_s, local_loadgen)
    return LoadgenResult(None if timed_out else status, timed_out, tail, time.monotonic() - t0), shards


def run_shards(hosts, lg_args, json_path, shard_dir, timeout_s, local_loadgen):
    """Runs one shard per host at once, merges their JSON into json_path.

    Returns (exit_status, timed_out, stderr_tail, shards): exit_status 0 only when every shard
    succeeded and the merge did; shards lists each host's outcome."""
    c = int(_option_value(lg_args, "-c"))
    n = min(len(hosts), c)
    os.makedirs(shard_dir, exist_ok=True)
    jobs = os.path.join(shard_dir, "jobs")
    rtt = max((h.get("ssh_round_trip_s") or 0) for h in hosts[:n])
    start_at = time.time() + START_AHEAD_S + 2 * rtt
    with open(jobs, "w", encoding="utf-8") as f:
        for k in range(n):
            f.write(f"{hosts[k]['login']}\t{shlex.join(shard_args(lg_args, hosts[k], k, n, start_at))}\n")
    joblog = os.path.join(shard_dir, "joblog")
    # parallel quotes {1} and {2} as one word each: ssh gets the destination and the command line.
    cmd = ["parallel", "--will-cite", "-j", str(n), "--colsep", "\t", "--joblog", joblog,
           "--timeout", str(int(timeout_s + START_AHEAD_S + 2 * rtt) + 1), "--results", os.path.join(shard_dir, "{#}"),
           shlex.join(ssh_command()) + " {1} {2}", "::::", jobs]
    timed_out = False
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s + START_AHEAD_S + 30,
                              stdin=subprocess.DEVNULL)
        parallel_err = proc.stderr
    except subprocess.TimeoutExpired:
        timed_out, parallel_err = True, "GNU parallel did not finish in time"
    exits = _read_joblog(joblog)
    shards, files, failures = [], [], []
    for k in range(n):
        out = os.path.join(shard_dir, str(k + 1))
        err = _tail(out + ".err")
        doc = read_json_object(out)
        shard = {"host": hosts[k]["login"], "source": hosts[k]["source"], "start_at": round(start_at, 6),
                 "concurrency": _split(c, k, n), "exit": exits.get(k + 1),
                 "complete": dig(doc, "summary", "complete"),
                 "file": os.path.relpath(out, os.path.dirname(json_path)), "stderr_tail": err}
        if doc is not None:
            files.append(out)
        if shard["exit"] != 0 or doc is None:
            failures.append(f"{shard['host']}: exit {shard['exit']}{': ' + err.splitlines()[-1] if err else ''}")
        shards.append(shard)
    merge_err = ""
    if files:
        m = subprocess.run([local_loadgen, "-q", "--merge", *files, "--json", json_path],
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if m.returncode != 0:
            merge_err = m.stderr.strip()
            failures.append(f"merge: {merge_err}")
    status = 0 if not failures and not timed_out else 1
    tail = "\n".join(failures) + ("\n" + parallel_err[-1000:] if failures and parallel_err else "")
    return status, timed_out, tail, shards


def _read_joblog(path):
    exits = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f.read().splitlines()[1:]:
                cols = line.split("\t")
                if len(cols) > 7 and cols[0].isdigit():
                    exits[int(cols[0])] = int(cols[6]) if cols[7] == "0" else 128 + int(cols[7])
    except (OSError, ValueError):
        pass
    return exits


def read_json_object(path):
    """A loadgen's --json document, or None when it is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return None


def _tail(path, limit=2000):
    try:
        with open(path, "rb") as f:
            return f.read()[-limit:].decode("utf-8", "replace").strip()
    except OSError:
        return ""
