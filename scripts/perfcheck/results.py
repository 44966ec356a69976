"""A results folder as the compare tools see it: the manifest and every finished repetition by
point. The reading itself is c10k.results (one reader of the format, docs/results-format.md);
this wraps it so that a bad folder is a PerfCheckError (exit status 2)."""
import os
import re

from c10k import results as c10k_results
from c10k.series import Series

from . import PerfCheckError


def read_json(path, what):
    try:
        return c10k_results.read_json(path, what)
    except c10k_results.ResultsError as e:
        raise PerfCheckError(str(e)) from None


class Results:
    """One results folder: its manifest and every finished repetition, by point."""

    def __init__(self, path):
        self.path = path
        try:
            folder = c10k_results.Folder(path)
            self.points = folder.repetitions_by_point()
        except c10k_results.ResultsError as e:
            raise PerfCheckError(str(e)) from None
        self.manifest = folder.manifest
        self.scenario = folder.scenario
        if not isinstance(self.scenario, dict):
            raise PerfCheckError(f"{path}/manifest.json: 'scenario' must be an object")
        self.environment = folder.environment or {}
        self._series = {s.name: s for s in folder.series()}
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

    def series(self, point):
        """The scenario's description of a point's series (its delay places the steady window); a
        series the manifest does not describe reads as one without delay."""
        return self._series.get(point[0]) or Series.from_dict({"name": point[0]})

    def values(self, metric, point):
        """[(value, run)] of a metric over a point's successful repetitions (c10k.results defines
        the metric: the same number the report shows); run is the repetition's number (in an
        interleaved session, its round), else its place among them."""
        series, out = self.series(point), []
        for i, rep in enumerate(self.ok_reps(point), 1):
            v, k = metric.value(rep, series), rep.get("repetition")
            if v is not None:
                out.append((v, k if isinstance(k, int) and not isinstance(k, bool) else i))
        return out

    def ok_reps(self, point):
        return [r for r in self.points.get(point, []) if r.get("status", "ok") == "ok"]

    def failed_reps(self, point):
        return [r for r in self.points.get(point, []) if r.get("status", "ok") != "ok"]


def point_label(point):
    series, conc = point
    return f"{series} c={conc}"
