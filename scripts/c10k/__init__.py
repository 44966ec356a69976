"""c10k-bench scripts: scenarios, the runner, the /proc sampler, results folders, plots and report.

Standard library only, so the entry scripts run with any python3 >= 3.9.
"""
import os

SCRIPTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(SCRIPTS_DIR)
SCENARIOS_DIR = os.path.join(ROOT, "scenarios")
DEFAULT_BIN_DIR = os.path.join(ROOT, "build", "bin")
