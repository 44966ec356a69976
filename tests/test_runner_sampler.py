"""The /proc sampler of the runner, on process trees this test starts (and ends, by pid)."""
import os
import signal
import statistics
import subprocess
import sys
import textwrap
import time

import pytest

from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import procsample  # noqa: E402

TREE = textwrap.dedent("""
    import os, sys, threading, time
    kids = []
    for i in range(3):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        kids.append(pid)
    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait) for _ in range(2)]
    for t in threads:
        t.start()
    blob = bytearray(8 * 1024 * 1024)  # touched: 8 MiB of private memory
    for i in range(0, len(blob), 4096):
        blob[i] = 1
    print("ready", flush=True)
    sys.stdin.readline()
    stop.set()
    for k in kids:
        os.kill(k, 9)
        os.waitpid(k, 0)
""")

BURNER = textwrap.dedent("""
    import os, sys, threading, time
    def burn(seconds):
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass
    print("ready", flush=True)
    sys.stdin.readline()
    t = threading.Thread(target=burn, args=(0.3,))
    t.start()
    t.join()
    print("thread done", flush=True)
    sys.stdin.readline()
    pid = os.fork()
    if pid == 0:
        burn(0.3)
        os._exit(0)
    os.waitpid(pid, 0)
    print("child reaped", flush=True)
    sys.stdin.readline()
""")


class Child:
    """A python script in its own session, ended by its process group id when the test ends."""

    def __init__(self, source):
        self.proc = subprocess.Popen([sys.executable, "-c", source], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.expect("ready")

    def expect(self, line):
        got = self.proc.stdout.readline().strip()
        assert got == line, got

    def say(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def end(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def child_factory():
    made = []

    def make(source):
        c = Child(source)
        made.append(c)
        return c
    yield make
    for c in made:
        c.end()


def test_parse_stat_survives_odd_process_names():
    line = b"1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 5 0 99 0 0"
    st = procsample.parse_stat(line)
    assert st == {"state": "S", "ppid": 1, "utime": 7, "stime": 3, "cutime": 2, "cstime": 1, "num_threads": 5}


def test_sample_covers_the_whole_tree(child_factory):
    c = child_factory(TREE)
    tree = procsample.descendants(c.proc.pid)
    assert len(tree) == 4 and list(tree)[0] == c.proc.pid
    assert os.getpid() not in tree
    s = procsample.sample(c.proc.pid)
    assert s["processes"] == 4
    assert s["threads"] == 3 + 3  # main + 2 waiting threads, and one thread per forked child
    assert s["rss_kib"] >= s["pss_kib"] > 8 * 1024  # the 8 MiB blob is private: fully in PSS
    # RSS counts the interpreter pages the children share with the parent once per process; PSS
    # divides them, so the tree's PSS is well below its RSS.
    assert s["pss_kib"] < 0.9 * s["rss_kib"]
    assert s["ctx_voluntary"] > 0
    c.say()
    c.proc.wait(10)
    assert procsample.sample(c.proc.pid) is None  # gone (reaped): no sample, no crash


def test_cpu_counts_exited_threads_and_reaped_children(child_factory):
    c = child_factory(BURNER)
    tracker = procsample.CpuTracker()
    s0 = procsample.sample(c.proc.pid, tracker)
    c.say()
    c.expect("thread done")
    s1 = procsample.sample(c.proc.pid, tracker)
    c.say()
    c.expect("child reaped")
    s2 = procsample.sample(c.proc.pid, tracker)
    assert s1["threads"] == 1  # the burning thread has exited
    assert 0.28 <= s1["cpu_total_s"] - s0["cpu_total_s"] < 0.6
    assert 0.28 <= s2["cpu_total_s"] - s1["cpu_total_s"] < 0.6
    assert s2["cpu_user_s"] + s2["cpu_sys_s"] >= s1["cpu_user_s"] + s1["cpu_sys_s"] + 0.25


def test_cpu_tracker_never_goes_back_when_threads_exit():
    t = procsample.CpuTracker()
    st = {"ppid": 1, "utime": 0, "stime": 0, "cutime": 0, "cstime": 0, "num_threads": 2, "state": "S"}
    tree = {100: st}
    a = t.total(tree, {(100, 100): 1_000_000, (100, 101): 4_000_000})
    assert a == pytest.approx(0.005)
    b = t.total(tree, {(100, 100): 1_500_000})  # thread 101 exited before its ticks showed up
    assert b == pytest.approx(0.0055)
    c = t.total({100: dict(st, utime=2)}, {(100, 100): 1_600_000})  # ticks: 20 ms beats 5.6 ms
    assert c == pytest.approx(0.02)
    child = dict(st, ppid=100)
    d = t.total({100: dict(st, utime=2), 200: child}, {(100, 100): 1_600_000, (200, 200): 30_000_000})
    assert d == pytest.approx(0.05)
    e = t.total({100: dict(st, utime=2)}, {(100, 100): 1_600_000})  # child reaped, cutime not yet seen
    assert e == pytest.approx(0.05)


def test_sampler_thread_samples_every_100_ms_and_summarizes(child_factory):
    c = child_factory(TREE)
    sampler = procsample.Sampler(c.proc.pid, 0.1).start()
    t0 = time.monotonic()
    time.sleep(0.55)
    samples = sampler.stop(t0)
    # Never faster than the interval; on a busy machine a sample may come late (and push the next
    # one back), so the count has a floor well below 0.55 / 0.1 and the gaps are judged by their median.
    assert 4 <= len(samples) <= 9, len(samples)
    assert samples[0]["t_s"] <= 0 < samples[1]["t_s"]
    gaps = [b["t_s"] - a["t_s"] for a, b in zip(samples, samples[1:])]
    assert all(g > 0.05 for g in gaps[:-1]) and 0.08 <= statistics.median(gaps[:-1]) < 0.3, gaps
    usage = procsample.summarize(samples, 0.1, 4, 10)
    assert usage["peak_processes"] == 4 and usage["peak_threads"] == 6
    assert usage["baseline_pss_kib"] == samples[0]["pss_kib"]
    assert usage["pss_per_connection_kib"] == pytest.approx((usage["peak_pss_kib"] - samples[0]["pss_kib"]) / 4)
    assert usage["requests"] == 10 and usage["cpu_per_request_us"] == pytest.approx(usage["cpu_s"] / 10 * 1e6)


def test_summarize_without_samples_or_requests():
    empty = procsample.summarize([], 0.1, 10, 0)
    assert empty["cpu_s"] is None and empty["peak_pss_kib"] is None and empty["samples"] == []
    one = {"t_s": 0, "cpu_user_s": 0, "cpu_sys_s": 0, "cpu_total_s": 0.5, "rss_kib": 10, "pss_kib": 5,
           "threads": 1, "processes": 1, "ctx_voluntary": 0, "ctx_involuntary": 0}
    assert procsample.summarize([one, dict(one, cpu_total_s=0.7)], 0.1, 1, 0)["cpu_per_request_us"] is None


@pytest.mark.serial  # it reads the whole machine's CPU: the other workers' tests would count
def test_other_processes_cpu_is_what_the_machine_spent_beyond_the_harness(child_factory):
    """A process outside the sampled tree burning one core shows as about one core of other work;
    the harness's own children (reaped) do not."""
    burner = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<1.5: pass"])
    try:
        c = child_factory(TREE)
        sampler = procsample.Sampler(c.proc.pid, 0.1).start()
        t0 = time.monotonic()
        time.sleep(1.0)
        samples = sampler.stop(t0)
    finally:
        burner.wait()
    assert all("machine_busy_s" in s and "harness_cpu_s" in s for s in samples)
    usage = procsample.summarize(samples, 0.1, 4, 10)
    # The burner is our child but not yet reaped while sampled, so it counts as other work: close
    # to one core, less what the scheduler gave others on a loaded box (as niced work if the tests
    # themselves run under nice).
    seen = usage["other_cpu_cores"] + usage["niced_cpu_cores"]
    assert 0.5 <= seen <= 2.0, usage


def test_other_cpu_cores_arithmetic():
    first = {"t_s": 0.0, "machine_busy_s": 100.0, "harness_cpu_s": 1.0}
    last = {"t_s": 2.0, "machine_busy_s": 103.0, "harness_cpu_s": 1.5}
    # 3 s busy in 2 s, 1 s of it the server and 0.5 s the harness: 1.5 s of others = 0.75 cores.
    assert procsample.other_cpu_cores(first, last, 1.0) == 0.75
    assert procsample.other_cpu_cores(first, dict(last, machine_busy_s=101.0), 1.0) == 0.0  # clamped
    assert procsample.other_cpu_cores({"t_s": 0.0}, last, 1.0) is None  # an old sample without the figure
    assert procsample.machine_cpu_s("/nonexistent") is None


def test_machine_cpu_keeps_niced_and_stolen_time_apart(tmp_path):
    stat = tmp_path / "stat"
    tick = procsample.CLK_TCK
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text(f"cpu  {1 * tick} {5 * tick} {2 * tick} {9 * tick} {tick} 0 {tick} {3 * tick} 0 0\ncpu0 1 2 3\n")
    assert procsample.machine_cpu_s(str(stat)) == {"busy": 4.0, "nice": 5.0, "steal": 3.0}
    first = {"t_s": 0.0, "machine_steal_s": 3.0}
    assert procsample._machine_rate(first, {"t_s": 2.0, "machine_steal_s": 4.0}, "machine_steal_s") == 0.5
    assert procsample._machine_rate({"t_s": 0.0}, first, "machine_steal_s") is None
