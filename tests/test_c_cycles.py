"""scripts/c_cycles.py: no circle of calls between the C files of servers/ and loadgen/, and the
checker itself catches one (a tiny CMake project with a circle between a library and its user)."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import harness

CHECKER = os.path.join(harness.ROOT, "scripts", "c_cycles.py")
BUILD_DIR = os.path.dirname(os.path.abspath(harness.BIN_DIR))


def check(*args):
    return subprocess.run([sys.executable, CHECKER, *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(not os.path.exists(os.path.join(BUILD_DIR, "CMakeCache.txt")),
                    reason="the binaries do not come from a CMake build tree")
def test_no_circle_of_calls_between_the_c_files_of_servers_and_loadgen():
    r = check("--build", BUILD_DIR)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no circle of calls between C files under servers, loadgen" in r.stdout


TINY_PROJECT = {
    "CMakeLists.txt": """\
        cmake_minimum_required(VERSION 3.13)
        project(circle C)
        add_library(core STATIC servers/core/a.c)
        add_executable(app-circle servers/app/main.c servers/app/b_calls_a.c)
        target_link_libraries(app-circle core)
        add_executable(app-clean servers/app/main.c servers/app/b_alone.c)
        target_link_libraries(app-clean core)
        """,
    # The library calls its user's b_value(); b_calls_a.c calls back into the library.
    "servers/core/a.c": "int b_value(void);\nint a_value(void) { return 1; }\n"
                        "int a_calls_b(void) { return b_value(); }\n",
    "servers/app/b_calls_a.c": "int a_value(void);\nint b_value(void) { return a_value() + 1; }\n",
    "servers/app/b_alone.c": "int b_value(void) { return 2; }\n",
    "servers/app/main.c": "int a_calls_b(void);\nint main(void) { return a_calls_b() == 2 ? 0 : 1; }\n",
}


@pytest.mark.skipif(not (shutil.which("cmake") and shutil.which("nm")), reason="needs cmake and nm")
def test_a_circle_between_a_library_and_its_user_is_found(tmp_path):
    src = tmp_path / "src"
    for name, text in TINY_PROJECT.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(textwrap.dedent(text))
    build = tmp_path / "build"
    for cmd in (["cmake", "-S", src, "-B", build, "-G", "Unix Makefiles"], ["cmake", "--build", build]):
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
    r = check("--build", build)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.splitlines() == [
        "circle of calls between 2 files (servers/app/b_calls_a.c, servers/core/a.c), in app-circle:",
        "  servers/app/b_calls_a.c -> servers/core/a.c: a_value",
        "  servers/core/a.c -> servers/app/b_calls_a.c: b_value",
        "c_cycles: 1 circle(s) of calls under servers, loadgen",
    ]
    # Only files under --under count: the same circle outside them is not reported.
    r = check("--build", build, "--under", "loadgen")
    assert r.returncode == 0 and "no circle" in r.stdout, r.stdout + r.stderr


def test_a_missing_build_tree_is_a_clear_error(tmp_path):
    r = check("--build", tmp_path)
    assert r.returncode == 2
    assert "not a CMake build tree (no CMakeCache.txt)" in r.stderr and "Traceback" not in r.stderr
