"""Runs a command that the kernel SIGKILLs when its parent (the runner) dies, however it dies.

Usage: python3 -I -S die_with_parent.py PARENT_PID COMMAND [ARGS...]

PR_SET_PDEATHSIG survives exec, so the command keeps this process's pid. Setting it here, after
fork and in a fresh interpreter, avoids Popen's preexec_fn, which is unsafe while the runner has
other threads (the /proc sampler). If the parent already died before the setting took effect, the
signal would never come: then the command is not started at all.
"""
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv):
    if len(argv) < 3 or not argv[1].isdigit():
        sys.stderr.write("usage: die_with_parent.py PARENT_PID COMMAND [ARGS...]\n")
        return 2
    parent, cmd = int(argv[1]), argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        sys.stderr.write(f"die_with_parent: prctl(PR_SET_PDEATHSIG): {os.strerror(ctypes.get_errno())}\n")
        return 127
    if os.getppid() != parent:
        return 1  # the parent is gone already
    try:
        os.execvp(cmd[0], cmd)
    except OSError as e:
        sys.stderr.write(f"cannot start {cmd[0]}: {e.strerror}\n")
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv))
