#!/usr/bin/env python3
"""shell_answers.py: in how many fresh boots does the Forth shell on sermux
port 10 answer? (issue 9)

Each boot starts build/hosted/mneme --heap 8M --serial tcp:0, connects as
soon as the kernel logs its port, sends the frame COBS(0a 00 || "2 3 + .\\n")
00 at once and again 1.5 s later, and waits up to 3 s more for "5  ok" on
port 10. With --hogs N it first starts N busy loops at nice 19 (the load
under which the shells used to stay silent in about 2 boots of 10) and
kills them, by their PIDs, at the end.

    python3 bench/shell_answers.py --boots 10 --hogs 2
    -> shell.port10_answered 10/10 (under 2 CPU hogs)
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))
from mneme_host import Hosted, KernelGone, Mux, StepFailed  # noqa: E402

LINE = b"2 3 + .\n"


def boot():
    """Returns (answered, seconds from the first send to the answer)."""
    k = Hosted(heap="8M")
    try:
        m = Mux(k)
        t0 = time.monotonic()
        m.send(10, LINE)
        r = m.expect(10, rb"5  ok\r\n", timeout=1.5, must=False)
        if r is None:
            m.send(10, LINE)
            r = m.expect(10, rb"5  ok\r\n", timeout=3.0, must=False)
        return r is not None, time.monotonic() - t0
    except (KernelGone, StepFailed) as e:
        print("#", e)
        return False, None
    finally:
        k.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--boots", type=int, default=10)
    ap.add_argument("--hogs", type=int, default=0, help="busy loops at nice 19 during the run")
    a = ap.parse_args()
    hogs = [subprocess.Popen(["nice", "-n", "19", "sh", "-c", "while :; do :; done"])
            for _ in range(a.hogs)]
    try:
        good = 0
        for i in range(a.boots):
            ok, t = boot()
            good += ok
            print("# boot %d: %s%s" % (i + 1, "answered" if ok else "SILENT",
                                      " in %.3f s" % t if ok else ""), flush=True)
    finally:
        for h in hogs:
            h.kill()  # by its own PID
            h.wait()
    print("shell.port10_answered %d/%d (under %d CPU hogs)" % (good, a.boots, a.hogs))
    return 0 if good == a.boots else 1


if __name__ == "__main__":
    sys.exit(main())
