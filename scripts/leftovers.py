#!/usr/bin/env python3
"""Ends the test command by checking that none of the processes it started is still running.

The test command exports MCP_CONSOLE_TEST_RUN=<id> before it starts anything; every browser,
driver and peer inherits it (the peers that get an empty environment are given it explicitly).
A process is the run's if it carries the marker or descends from one that does (Chromium's
helpers start with a fresh environment). The command itself and this check are skipped, as are
the pids given as arguments (the command's own log writer). Anything else found is listed,
killed, and makes the exit status 1.

    scripts/leftovers.py [PID...]
"""
import os
import signal
import sys


def ppid(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            # The command name, in parentheses, may contain spaces: the fields follow its last ")".
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def marked(pid, marker):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return marker in f.read().split(b"\0")
    except OSError:
        return False


def command(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:160]
    except OSError:
        return "?"


def main():
    run = os.environ.get("MCP_CONSOLE_TEST_RUN")
    if not run:
        sys.exit("leftovers.py: MCP_CONSOLE_TEST_RUN is not set; run it from scripts/test.sh")
    marker = f"MCP_CONSOLE_TEST_RUN={run}".encode()
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    parent = {p: ppid(p) for p in pids}
    # This check, the test command and their ancestors are still running by design.
    skip = {int(p) for p in sys.argv[1:]}
    p = os.getpid()
    while p > 1:
        skip.add(p)
        p = parent.get(p) or ppid(p)
    ours = {p for p in pids if marked(p, marker)}

    def descends(p):
        seen = set()
        while p > 1 and p not in seen:
            if p in ours:
                return True
            seen.add(p)
            p = parent.get(p, 0)
        return False

    left = sorted(p for p in pids if p not in skip and descends(p))
    if not left:
        print("no process started by the tests is left running")
        return
    print(f"{len(left)} process(es) started by the tests are still running; ending them:")
    for p in left:
        print(f"  {p}  {command(p)}")
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    sys.exit(1)


main()
