#!/usr/bin/env python3
"""fs_powercut.py: the FAT library survives being killed mid-write.

Twenty times: mneme-fat writes a stream of files (each in 3000-byte
writes) into a FAT32 image and is killed with SIGKILL at a random moment
(after a random number of files reported complete, plus a random delay).
After each cut mneme mounts the image (its check repairs what is safe),
`fsck.fat -n` must show at most lost clusters, and every file reported
complete in any run so far must read back intact through mtools (bytes
compared with the generator's). Prints TAP lines.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

O = os.environ.get("O", "build/hosted")
TOOL = os.path.join(O, "mneme-fat")
ROUNDS = int(os.environ.get("POWERCUT_ROUNDS", "20"))
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def pattern(i, n):
    out = bytearray(n)
    a = (i * 2654435761) & 0xFFFFFFFF
    for o in range(n):
        x = a ^ ((o * 40503) & 0xFFFFFFFF)
        x ^= x >> 13
        out[o] = ((x * 0x5BD1E995) & 0xFFFFFFFF) >> 24
    return bytes(out)


def main():
    rnd = random.Random(int(os.environ.get("POWERCUT_SEED", "1515")))
    tmp = tempfile.mkdtemp(prefix="fs_powercut.")
    img = os.path.join(tmp, "pc.img")
    subprocess.run(["mkfs.fat", "-C", "-F", "32", img, str(64 * 1024)], check=True,
                   capture_output=True)
    complete = {}    # "/runNN/fXXXX" -> (index, length)
    fails = 0
    try:
        for r in range(ROUNDS):
            d = "/run%02d" % r
            p = subprocess.Popen([TOOL, img, "stream", d, "400", "20000"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            want = rnd.randrange(1, 12)
            seen = 0
            while seen < want:
                line = p.stdout.readline().decode()
                if not line:
                    break
                parts = line.split()
                if parts and parts[0] == "done":
                    name, length = parts[1], int(parts[2])
                    complete[name] = (int(name.rsplit("/f", 1)[1]), length)
                    seen += 1
            time.sleep(rnd.random() * 0.03)
            p.send_signal(signal.SIGKILL)
            rest = p.stdout.read().decode()
            p.wait()
            for line in rest.splitlines():
                parts = line.split()
                if parts and parts[0] == "done":
                    complete[parts[1]] = (int(parts[1].rsplit("/f", 1)[1]), int(parts[2]))
            # mneme mounts (check and repair), then fsck.fat
            chk = subprocess.run([TOOL, img, "check"], capture_output=True, timeout=120)
            fk = subprocess.run(["fsck.fat", "-n", img], capture_output=True, timeout=120)
            out = fk.stdout.decode(errors="replace")
            problems = [l for l in out.splitlines()[1:]
                        if not l.startswith(img) and "lost" not in l.lower()
                        and "Reclaim" not in l and "unused" not in l]
            ok = chk.returncode == 0 and not problems
            bad = []
            for name, (i, length) in sorted(complete.items()):
                m = subprocess.run(["mtype", "-i", img, "::" + name], capture_output=True, env=ENV)
                if m.returncode or m.stdout != pattern(i, length):
                    bad.append(name)
            ok = ok and not bad
            print("%s - cut %d after %d files (%d complete so far): %s" %
                  ("ok" if ok else "not ok", r + 1, seen, len(complete),
                   chk.stdout.decode().strip()))
            if not ok:
                fails += 1
                print("# fsck: " + out.replace("\n", "\n# "))
                print("# damaged: %s" % bad[:10])
                print("# check stderr: %s" % chk.stderr.decode())
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
