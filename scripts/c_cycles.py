#!/usr/bin/env python3
"""Finds circles of calls between C files: file A calls a function defined in file B, and B,
directly or through other files, calls one defined in A.

Small files with one job each only help if the dependencies between them run one way; a circle
means none of its files can be read, tested or replaced without the others. The graph is built
per linked program from the build tree (CMake's Unix Makefiles layout): each program's link line
(`CMakeFiles/<target>.dir/link.txt`) names its own objects and the static libraries it links, so
a library shared by several programs (the servers' core) is checked with each of its users. For
every object `nm` tells which functions it defines and which symbols it leaves undefined; an
undefined symbol that another object of the same program defines as a function is a call from one
file to the other. Circles are the strongly connected components of that graph.

Usage: scripts/c_cycles.py [--build DIR] [--under DIR ...]
  --build DIR   the build tree (default: ./build of the project)
  --under DIR   only source files under DIR (relative to the project) count (default: servers
                and loadgen); repeatable
Exit status: 0 no circle, 1 at least one circle (each printed with the calls that close it),
2 the build tree cannot be read.
"""
import argparse
import functools
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTION_TYPES = set("TtWi")  # nm: text (code), weak, indirect function


class CycleError(Exception):
    pass


def _run(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise CycleError(f"{argv[0]} is not installed (binutils)") from None
    if p.returncode != 0:
        raise CycleError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


@functools.lru_cache(maxsize=None)  # a library's objects are read once, not once per program
def symbols(obj):
    """(functions defined, symbols undefined) by one object file."""
    defined, undefined = set(), set()
    for line in _run(["nm", "--defined-only", "-P", obj]).splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] in FUNCTION_TYPES and parts[1].isupper():
            defined.add(parts[0])
    for line in _run(["nm", "--undefined-only", "-P", obj]).splitlines():
        parts = line.split()
        if parts:
            undefined.add(parts[0])
    return defined, undefined


@functools.lru_cache(maxsize=None)
def _members(archive):
    return frozenset(_run(["ar", "t", archive]).split())


def _target_dir(path):
    """CMakeFiles/<target>.dir of a static library libNAME.a (same build directory), or None."""
    name = os.path.basename(path)
    if not (name.startswith("lib") and name.endswith(".a")):
        return None
    d = os.path.join(os.path.dirname(path), "CMakeFiles", name[3:-2] + ".dir")
    return d if os.path.isdir(d) else None


def _objects_in(target_dir, members=None):
    """Object files under a target's directory; only the archive's members if given."""
    found = []
    for base, _, files in os.walk(target_dir):
        for f in files:
            if f.endswith(".o") and (members is None or f in members):
                found.append(os.path.join(base, f))
    return sorted(found)


def source_of(obj, target_dir, source_dir):
    """servers/core/session.c for .../CMakeFiles/c10k_core.dir/core/session.c.o."""
    rel = os.path.relpath(obj, target_dir)[:-len(".o")]
    return os.path.normpath(os.path.join(source_dir, rel))


def programs(build):
    """{program: [(object path, source path)]} for every executable linked in the build tree."""
    cache = os.path.join(build, "CMakeCache.txt")
    if not os.path.isfile(cache):
        raise CycleError(f"{build}: not a CMake build tree (no CMakeCache.txt): run scripts/build.sh")
    source_root = None
    with open(cache, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("CMAKE_HOME_DIRECTORY:"):
                source_root = line.split("=", 1)[1].strip()
    if not source_root:
        raise CycleError(f"{cache}: no CMAKE_HOME_DIRECTORY")
    result = {}
    for base, dirs, files in os.walk(build):
        dirs.sort()
        if "link.txt" not in files or not base.endswith(".dir"):
            continue
        with open(os.path.join(base, "link.txt"), encoding="utf-8") as f:
            words = shlex.split(f.read())
        if "-o" not in words:
            continue  # a static library's archive step (ar), not a program
        build_dir = os.path.dirname(os.path.dirname(base))  # where link.txt's paths start
        source_dir = os.path.join(source_root, os.path.relpath(build_dir, build))
        units = []
        for w in words:
            path = os.path.normpath(os.path.join(build_dir, w))
            if w.endswith(".o"):
                units.append((path, source_of(path, base, source_dir)))
            elif w.endswith(".a") and (lib_dir := _target_dir(path)):
                members = _members(path)
                lib_source = os.path.join(source_root, os.path.relpath(os.path.dirname(path), build))
                units += [(o, source_of(o, lib_dir, lib_source)) for o in _objects_in(lib_dir, members)]
        program = os.path.basename(words[words.index("-o") + 1])
        result[program] = (source_root, units)
    return result


def call_graph(units, source_root, under):
    """{file: {file: sorted symbols}}: the calls between the program's files under `under`."""
    keep = [(o, s) for o, s in units
            if any(os.path.relpath(s, source_root).startswith(u.rstrip("/") + "/") for u in under)]
    defs, needs = {}, {}
    for obj, src in keep:
        d, u = symbols(obj)
        rel = os.path.relpath(src, source_root)
        needs[rel] = u
        for sym in d:
            defs[sym] = rel
    graph = {f: {} for f in needs}
    for f, undefined in needs.items():
        for sym in undefined:
            g = defs.get(sym)
            if g and g != f:
                graph[f].setdefault(g, []).append(sym)
    return {f: {g: sorted(s) for g, s in out.items()} for f, out in graph.items()}


def circles(graph):
    """Strongly connected components of more than one file (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    n = stack.pop()
                    on_stack.discard(n)
                    comp.append(n)
                    if n == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return sorted(found)


def find(build, under):
    """[(files of one circle, [programs it is in], {file: {file: symbols}} inside it)], each
    circle once however many programs link it."""
    seen = {}
    linked = programs(build)
    if not linked:
        raise CycleError(f"{build}: no linked program found (is it built?)")
    for program, (source_root, units) in sorted(linked.items()):
        graph = call_graph(units, source_root, under)
        for comp in circles(graph):
            key = tuple(comp)
            if key not in seen:
                inner = {f: {g: s for g, s in graph[f].items() if g in comp} for f in comp}
                seen[key] = ([], inner)
            seen[key][0].append(program)
    return [(list(k), progs, inner) for k, (progs, inner) in sorted(seen.items())]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--under", action="append", help="source directory that counts (repeatable)")
    args = p.parse_args(argv)
    under = args.under or ["servers", "loadgen"]
    try:
        found = find(args.build, under)
    except CycleError as e:
        print(f"c_cycles: {e}", file=sys.stderr)
        return 2
    for files, progs, inner in found:
        print(f"circle of calls between {len(files)} files ({', '.join(files)}), in "
              f"{', '.join(progs)}:")
        for f in files:
            for g, syms in sorted(inner[f].items()):
                print(f"  {f} -> {g}: {', '.join(syms)}")
    if found:
        print(f"c_cycles: {len(found)} circle(s) of calls under {', '.join(under)}")
        return 1
    print(f"c_cycles: no circle of calls between C files under {', '.join(under)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
