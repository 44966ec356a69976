"""perfcheck: the performance regression gates of c10k-bench (stdlib only).

Modules: stats (Mann-Whitney U, Hodges-Lehmann interval), results (results folders), metrics
(what is compared and which direction is worse), compare (per point and metric verdicts), report
(text and Markdown), ci_formats (BMF and github-action-benchmark JSON), environment (machine
fingerprint), insn (instruction counts under valgrind), interleave (A/B runs in one session).
"""


class PerfCheckError(Exception):
    """Bad input (unreadable folder, mismatched scenarios, too few repetitions): exit status 2."""
