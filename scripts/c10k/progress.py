"""A one-line progress bar with the current point and an ETA (plain lines when not on a terminal)."""
import sys
import time


def fmt_duration(seconds):
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """total: items to run in this invocation. planned_s, when given, is each item's expected time
    in order: items of different lengths then get an ETA from the plan, scaled by how the finished
    items compared with their plan, instead of from the mean item."""

    def __init__(self, total, stream=None, enabled=True, width=24, planned_s=None):
        if planned_s is not None and len(planned_s) != total:
            raise ValueError(f"planned_s has {len(planned_s)} items for a total of {total}")
        self.total, self.done = total, 0
        self.planned_s = planned_s
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = width
        self.started = time.monotonic()
        self.spent = 0.0  # wall time of finished repetitions
        self.remaining_estimate = 0.0
        self._line_len = 0

    def set_estimate(self, seconds):
        """Prior estimate of the remaining work (used until real timings exist)."""
        self.remaining_estimate = seconds

    def eta(self):
        left = self.total - self.done
        if left <= 0:
            return 0.0
        if self.planned_s:
            planned_done = sum(self.planned_s[:self.done])
            scale = self.spent / planned_done if self.done and planned_done > 0 else 1.0
            return sum(self.planned_s[self.done:]) * scale
        if self.done:
            return self.spent / self.done * left
        return self.remaining_estimate or None

    def start_item(self, label):
        if not self.enabled:
            return
        frac = self.done / self.total if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        text = (f"[{bar}] {self.done}/{self.total} {label}  elapsed {fmt_duration(time.monotonic() - self.started)}"
                f"  ETA {fmt_duration(self.eta())}")
        if self.tty:
            pad = max(0, self._line_len - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._line_len = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish_item(self, wall_s):
        self.done += 1
        self.spent += wall_s

    def message(self, text):
        """A line that must stay on screen (a failure, a skipped point)."""
        if self.tty and self._line_len:
            self.stream.write("\r" + " " * self._line_len + "\r")
            self._line_len = 0
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        if self.tty and self._line_len:
            self.stream.write("\n")
            self.stream.flush()
            self._line_len = 0
