"""The runner's watchdog: ends what the runner started when the runner itself is killed.

A SIGKILLed runner runs no cleanup code, so this small process, started by the runner in a session
of its own, does it: it reads lines from a pipe whose only write end the runner holds,

    +group PGID   a process group the runner started      -group PGID   ended by the runner
    +path PATH    a temporary file or folder it made       -path PATH    removed by the runner

and when the pipe reaches end-of-file (the runner exited, however it exited) it SIGKILLs every
group still registered and removes every path still registered. After a clean exit nothing is
registered any more, so it does nothing. Run as: python3 -I -S guard.py
"""
import os
import shutil
import signal
import sys


def cleanup(groups, paths):
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass  # already gone
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def main():
    # Terminal signals are for the runner; this process must outlive it to clean up after it.
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    groups, paths = set(), set()
    for raw in sys.stdin.buffer:
        line = raw.rstrip(b"\n").decode("utf-8", "surrogateescape")
        op, _, arg = line.partition(" ")
        if op == "+group" and arg.isdigit():
            groups.add(int(arg))
        elif op == "-group" and arg.isdigit():
            groups.discard(int(arg))
        elif op == "+path" and arg:
            paths.add(arg)
        elif op == "-path":
            paths.discard(arg)
    cleanup(groups, paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
