"""What an installed prefix gives a user: one version line from every binary and from `c10k`, the
docs and uring-floor in place, and both benchmarks running for real in --quick mode from there."""
import os
import re
import subprocess
import sys

import pytest

import harness

C10K = os.path.join(harness.ROOT, "bin", "c10k")
BUILD_DIR = os.path.dirname(os.path.abspath(harness.BIN_DIR))
VERSION_LINE = re.compile(r"^(\S+) \(c10k-bench\) (\d+\.\d+\.\d+ \(.+\))$")

needs_cmake_build = pytest.mark.skipif(not os.path.exists(os.path.join(BUILD_DIR, "CMakeCache.txt")),
                                       reason="the binaries are not from a CMake build directory")


def version_of(cmd, env=None):
    r = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    m = VERSION_LINE.match(r.stdout.strip())
    assert m, f"{cmd[-1]} --version printed {r.stdout!r}"
    return m.group(1), m.group(2)


def binaries(bin_dir):
    return sorted(n for n in os.listdir(bin_dir)
                  if n == "loadgen" or n.startswith("server-") or n == "uring-floor")


@needs_cmake_build
def test_every_binary_and_the_command_print_the_build_version():
    names = binaries(harness.BIN_DIR)
    assert "loadgen" in names and "server-epoll" in names
    versions = {}
    for name in names:
        prog, versions[name] = version_of([os.path.join(harness.BIN_DIR, name)])
        assert prog == name
    prog, command_version = version_of([sys.executable, C10K],
                                       env={**os.environ, "C10K_BIN_DIR": harness.BIN_DIR})
    assert prog == "c10k"
    assert set(versions.values()) == {command_version}, versions
    with open(os.path.join(BUILD_DIR, "generated", "VERSION"), encoding="utf-8") as f:
        assert f.read().strip() == command_version


def test_version_without_a_build_is_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, C10K, "--version"], capture_output=True, text=True, timeout=30,
                       env={**os.environ, "C10K_BIN_DIR": str(tmp_path / "bin")})
    assert r.returncode == 2 and "build first" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    if not os.path.exists(os.path.join(BUILD_DIR, "CMakeCache.txt")):
        pytest.skip("the binaries are not from a CMake build directory")
    p = tmp_path_factory.mktemp("install") / "prefix"
    r = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", str(p)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return p


def installed_env(prefix):
    env = {k: v for k, v in os.environ.items() if not k.startswith("C10K_")}
    env["PATH"] = f"{prefix / 'bin'}:{env.get('PATH', '')}"
    return env


def test_install_holds_the_docs_uring_floor_and_one_version(prefix):
    doc = prefix / "share" / "doc" / "c10k-bench"
    assert (doc / "README.md").is_file()
    for name in os.listdir(os.path.join(harness.ROOT, "docs")):
        if name.endswith(".md"):
            assert (doc / "docs" / name).is_file(), name
    # The README's relative links to docs/ resolve inside the installed doc folder too.
    readme = (doc / "README.md").read_text(encoding="utf-8")
    for target in set(re.findall(r"\]\((docs/[^)#]+)", readme)):
        assert (doc / target).is_file(), target
    assert os.access(prefix / "bin" / "uring-floor", os.X_OK) or not os.path.exists(
        os.path.join(harness.BIN_DIR, "uring-floor"))
    env = installed_env(prefix)
    _, command_version = version_of(["c10k"], env=env)
    for name in binaries(prefix / "bin"):
        assert version_of([str(prefix / "bin" / name)])[1] == command_version, name
    assert (prefix / "share" / "c10k-bench" / "VERSION").read_text().strip() == command_version


@pytest.mark.serial  # it opens some 20,000 connections at a time and pins itself to both CPUs
@pytest.mark.skipif(bool(os.environ.get("C10K_SANITIZE")), reason="benchmarks of sanitizer builds mean nothing")
def test_bench_loadgen_quick_runs_from_the_install(prefix, tmp_path):
    """The real --quick run: every section, nginx as the target, the per-process connection limit
    read from the loadgen's own refusal, uring-floor's row from the installed binary."""
    out = tmp_path / "bench.md"
    r = subprocess.run(["c10k", "bench", "loadgen", "--quick", "--out", str(out)], cwd=tmp_path,
                       env=installed_env(prefix), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = out.read_text()
    assert "could not read the connection limit" not in text, text
    assert re.search(r"loadgen reports open-file limit [\d,]+ and at most -c [\d,]+", text), text
    assert "largest -c held with zero errors" in text or "no tested -c was held" in text
    if os.access(prefix / "bin" / "uring-floor", os.X_OK):
        assert re.search(r"\| uring-floor .*\| [\d,]+ \|", text), text
    # TLS: the same nginx on https, keep-alive and a connection per request, none failed.
    assert re.search(r"^\| loadgen -k \| [\d,]+ \| [\d.]+ µs \| 1.00x \| 0 \|", text, re.M), text
    assert re.search(r"^\| loadgen --tls-resume \| [\d,]+ \| [\d.]+ µs \| [\d,]+ \| 0 \|", text, re.M), text


@pytest.mark.serial  # both CPUs pinned: server on one, wrk on the other
@pytest.mark.skipif(bool(os.environ.get("C10K_SANITIZE")), reason="benchmarks of sanitizer builds mean nothing")
def test_bench_servers_quick_runs_from_the_install_with_progress(prefix, tmp_path):
    out = tmp_path / "bench.md"
    r = subprocess.run(["c10k", "bench", "servers", "--quick", "--models", "blocking epoll", "--out", str(out)],
                       cwd=tmp_path, env=installed_env(prefix), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = out.read_text()
    for model in ("blocking", "epoll"):
        assert re.search(rf"^\| {model} \| [\d,]+ \|", text, re.M), text
    # Progress on stderr: each item with a count and an ETA, the last one with nothing left.
    lines = [line for line in r.stderr.splitlines() if " ETA " in line]
    items = 2 * 1 + 2 + (1 if "nginx" in text else 0)
    assert len(lines) == items, r.stderr
    assert lines[0].split()[1] == f"0/{items}" and lines[-1].split()[1] == f"{items - 1}/{items}"
