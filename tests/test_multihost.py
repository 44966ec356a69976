"""Multi-host load, end to end, with network namespaces as the hosts.

The test builds a bridge in a server namespace (198.18.0.1/24, the range set aside for network
benchmarks) and three client namespaces on it (198.18.0.11-13), each running its own sshd with a
throwaway host key and authorized key. The runner runs in the server namespace with
--loadgen-hosts: GNU parallel starts one loadgen shard per client over ssh, the runner merges
them, and the merged count must equal the server's own /__stats count exactly. Everything it
starts is ended by PID and every namespace is deleted; where namespaces cannot be made, the test
skips with the reason."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import harness
from c10k import results

ROOT = harness.ROOT
RUN = os.path.join(ROOT, "scripts", "run_scenario.py")
CLIENTS = 3
SERVER_ADDR = "198.18.0.1"


def _client_addr(i):
    return f"198.18.0.{11 + i}"


def _run(*cmd, check=True):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def _missing_tools():
    need = {"ip": "iproute2", "sshd": "openssh-server", "ssh": "openssh-client",
            "ssh-keygen": "openssh-client", "parallel": "parallel"}
    return [f"{tool} ({pkg})" for tool, pkg in need.items()
            if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}")]


SSHD_CONFIG = """\
ListenAddress {addr}
Port 22
HostKey {dir}/host_key
AuthorizedKeysFile {dir}/authorized_keys
PidFile {dir}/sshd-{i}.pid
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel ERROR
"""


class Topology:
    def __init__(self, tmp):
        self.tmp = tmp
        tag = f"c10kmh{os.getpid()}"
        self.server_ns = f"{tag}s"
        self.client_ns = [f"{tag}c{i}" for i in range(CLIENTS)]
        self.created = []
        self.sshd = []

    def build(self):
        for ns in [self.server_ns] + self.client_ns:
            _run("ip", "netns", "add", ns)
            self.created.append(ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        s = self.server_ns
        _run("ip", "-n", s, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", s, "addr", "add", f"{SERVER_ADDR}/24", "dev", "br0")
        _run("ip", "-n", s, "link", "set", "br0", "up")
        for i, ns in enumerate(self.client_ns):
            port = f"vb{i}"
            _run("ip", "-n", s, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _run("ip", "-n", s, "link", "set", port, "master", "br0")
            _run("ip", "-n", s, "link", "set", port, "up")
            _run("ip", "-n", ns, "addr", "add", f"{_client_addr(i)}/24", "dev", "eth0")
            _run("ip", "-n", ns, "link", "set", "eth0", "up")

    def start_sshd(self):
        key = self.tmp / "client_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.tmp / "host_key")
        shutil.copy(f"{key}.pub", self.tmp / "authorized_keys")
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        for i, ns in enumerate(self.client_ns):
            conf = self.tmp / f"sshd-{i}.conf"
            conf.write_text(SSHD_CONFIG.format(addr=_client_addr(i), dir=self.tmp, i=i))
            # `ip netns exec` execs sshd in place: the PID we hold is sshd's own (-D: no fork).
            self.sshd.append(subprocess.Popen(["ip", "netns", "exec", ns, sshd, "-D", "-e", "-f", str(conf)],
                                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=open(self.tmp / f"sshd-{i}.log", "wb")))
        self.ssh = (f"ssh -i {key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                    f"-o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR")
        deadline = time.monotonic() + 60  # a bound on a hang: sshd starts in well under a second
        for i in range(CLIENTS):
            while True:
                r = _run("ip", "netns", "exec", self.server_ns, *self.ssh.split(), f"root@{_client_addr(i)}",
                         "true", check=False)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline or self.sshd[i].poll() is not None:
                    log = (self.tmp / f"sshd-{i}.log").read_text()
                    raise RuntimeError(f"sshd in {self.client_ns[i]} not reachable: {r.stderr.strip()} {log}")
                time.sleep(0.1)

    def cleanup(self):
        for p in self.sshd:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in reversed(self.created):
            _run("ip", "netns", "del", ns, check=False)


@pytest.fixture
def topology(tmp_path):
    missing = _missing_tools()
    if missing:
        pytest.skip("multi-host test needs " + ", ".join(missing))
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    probe = f"c10kmhprobe{os.getpid()}"
    r = _run("ip", "netns", "add", probe, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {r.stderr.strip()}")
    _run("ip", "netns", "del", probe, check=False)
    topo = Topology(tmp_path)
    try:
        topo.build()
        topo.start_sshd()
        yield topo
    finally:
        topo.cleanup()
    assert all(p.poll() is not None for p in topo.sshd)
    listed = _run("ip", "netns", "list").stdout
    assert not any(ns in listed for ns in topo.created)


@pytest.mark.serial  # four sshd, three loadgen shards and a runner
def test_three_hosts_load_one_server_and_merge_exactly(topology, tmp_path):
    scenario = tmp_path / "mh.json"
    scenario.write_text(json.dumps({
        "schema_version": 1, "name": "multihost", "description": "three client hosts, one server",
        "server_options": {}, "loadgen": {"keepalive": True, "requests": 3000, "timeout_s": 10},
        "series": ["epoll"], "concurrency": [30]}))
    hosts = tmp_path / "hosts"
    hosts.write_text("# three namespaces\n" + "".join(
        f"root@{_client_addr(i)} source={_client_addr(i)}\n" for i in range(CLIENTS)))
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, C10K_SSH=topology.ssh)
    r = subprocess.run(["ip", "netns", "exec", topology.server_ns, sys.executable, RUN, str(scenario),
                        "--out", str(out), "--no-plots", "--no-progress", "--bin-dir", harness.BIN_DIR,
                        "--loadgen-hosts", str(hosts), "--server-address", SERVER_ADDR],
                       capture_output=True, text=True, timeout=180, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    (folder,) = [p for p in out.iterdir() if p.name.startswith("multihost-")]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [h["login"] for h in manifest["loadgen_hosts"]] == [f"root@{_client_addr(i)}" for i in range(CLIENTS)]
    # One kernel clock: the offset is 0, give or take where in the ssh round trip the remote read
    # its clock, i.e. at most half that round trip (which a busy machine stretches to seconds).
    for h in manifest["loadgen_hosts"]:
        assert abs(h["clock_offset_s"]) <= h["ssh_round_trip_s"] / 2 + 1e-5, h
    rep = results.read_repetition(results.rep_path(str(folder), "epoll", 30, 1))
    assert rep["status"] == "ok", rep["detail"]
    shards = rep["shards"]
    assert [s["concurrency"] for s in shards] == [10, 10, 10]
    assert [s["exit"] for s in shards] == [0, 0, 0]
    assert [s["complete"] for s in shards] == [1000, 1000, 1000]
    assert len({s["start_at"] for s in shards}) == 1  # one wall-clock instant for all
    merged = rep["loadgen"]
    served = rep["server_stats"]["after"]["requests"] - rep["server_stats"]["before"]["requests"]
    assert merged["summary"]["complete"] == served == 3000
    assert merged["config"]["concurrency"] == 30
    # The merged histogram is the sum of the shards', bucket by bucket.
    docs = [json.loads((folder / "points" / "epoll" / "c30" / s["file"]).read_text()) for s in shards]
    want = {}
    for d in docs:
        assert d["environment"]["hostname"]  # each shard ran loadgen on its host
        for v, n in d["latency"]["total"]["histogram"]["buckets"]:
            want[v] = want.get(v, 0) + n
    assert merged["latency"]["total"]["histogram"]["buckets"] == sorted([k, n] for k, n in want.items())
    # Each shard's connections came from its own host's address.
    assert [d["config"]["source"] for d in docs] == [_client_addr(i) for i in range(CLIENTS)]
    assert all("--start-at" in line for line in (folder / "points" / "epoll" / "c30" / "rep1.shards" /
                                                 "jobs").read_text().splitlines())
