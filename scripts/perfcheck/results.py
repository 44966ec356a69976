"""Reading a results folder (layout in docs/results-format.md):

    <dir>/manifest.json
    <dir>/points/<series>/c<concurrency>/rep<k>.json
"""
import json
import os
import re

from . import PerfCheckError

RESULTS_KIND = "c10k-bench-results"
_CONC_DIR = re.compile(r"^c([0-9]+)$")
_REP_FILE = re.compile(r"^rep([0-9]+)\.json$")


def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise PerfCheckError(f"{path}: no such file ({what})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise PerfCheckError(f"{path}: cannot read {what}: {e}") from None
    except json.JSONDecodeError as e:
        raise PerfCheckError(f"{path}: {what} is not valid JSON: {e}") from None


class Results:
    """One results folder: its manifest and every finished repetition, by point."""

    def __init__(self, path):
        self.path = path
        if not os.path.isdir(path):
            raise PerfCheckError(f"{path}: not a results folder (no such directory)")
        self.manifest = read_json(os.path.join(path, "manifest.json"), "results manifest")
        if not isinstance(self.manifest, dict) or self.manifest.get("kind") != RESULTS_KIND:
            raise PerfCheckError(f"{path}/manifest.json: not a c10k-bench results manifest "
                                 f"(kind must be {RESULTS_KIND!r})")
        if self.manifest.get("schema_version") != 1:
            raise PerfCheckError(f"{path}/manifest.json: unsupported schema_version "
                                 f"{self.manifest.get('schema_version')!r} (this tool reads 1)")
        self.scenario = self.manifest.get("scenario")
        if not isinstance(self.scenario, dict):
            raise PerfCheckError(f"{path}/manifest.json: 'scenario' must be an object")
        self.environment = self.manifest.get("environment") or {}
        self.points = self._load_points()
        if not self.points:
            raise PerfCheckError(f"{path}: no finished repetitions under points/")

    @property
    def scenario_name(self):
        name = self.scenario.get("name")
        if isinstance(name, str) and name:
            return name
        # Folder names are <scenario>-<YYYYmmdd-HHMMSS>.
        base = os.path.basename(os.path.normpath(self.path))
        m = re.match(r"^(.*)-[0-9]{8}-[0-9]{6}$", base)
        return m.group(1) if m else base

    def _load_points(self):
        root = os.path.join(self.path, "points")
        points = {}
        if not os.path.isdir(root):
            return points
        for series in sorted(os.listdir(root)):
            sdir = os.path.join(root, series)
            if not os.path.isdir(sdir):
                continue
            for cdir in os.listdir(sdir):
                m = _CONC_DIR.match(cdir)
                if not m or not os.path.isdir(os.path.join(sdir, cdir)):
                    continue
                reps = []
                for fname in os.listdir(os.path.join(sdir, cdir)):
                    rm = _REP_FILE.match(fname)
                    if not rm:
                        continue  # temporary files of an unfinished write, notes, etc.
                    doc = read_json(os.path.join(sdir, cdir, fname), "repetition")
                    if not isinstance(doc, dict):
                        raise PerfCheckError(f"{sdir}/{cdir}/{fname}: a repetition must be an object")
                    reps.append((int(rm.group(1)), doc))
                if reps:
                    reps.sort(key=lambda r: r[0])
                    points[(series, int(m.group(1)))] = [doc for _, doc in reps]
        return points

    def ok_reps(self, point):
        return [r for r in self.points.get(point, []) if r.get("status", "ok") == "ok"]

    def failed_reps(self, point):
        return [r for r in self.points.get(point, []) if r.get("status", "ok") != "ok"]


def point_label(point):
    series, conc = point
    return f"{series} c={conc}"
