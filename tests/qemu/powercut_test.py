#!/usr/bin/env python3
"""powercut_test.py: mneme in QEMU killed during a stream of file writes.

One FAT32 image, the machine's only data disk (so /boot), virtio-blk in
even rounds and NVMe in odd ones. Each round boots mneme, defines a
Forth word that writes files /boot/rNN/fIIII (deterministic bytes, 1 to
21 KB in 256-byte writes, each flushed and closed before "done I" is printed), starts
a stream of them and kills QEMU (SIGKILL) at a random moment: after a
random number of files reported done plus a random delay. After each cut:

- straight away, `fsck.fat -n` shows at most lost clusters, the
  unfinished file's chain longer than its size and FAT copies differing
  (besides the dirty flag and a stale FSInfo free count), and every file reported done in any round so
  far reads back intact with mtools (bytes compared with the generator's);
- then mneme boots and mounts the disk: its check finds nothing it cannot
  repair; after FLUSH-FILE (everything written, the volume marked clean)
  `fsck.fat -n`, looking while mneme idles at its prompt, finds nothing
  at all, and the files are intact again. POWERCUT_ROUNDS (default 4 in make test; bench/fs_powercut_qemu.sh
runs the issue's twenty) and POWERCUT_SEED choose the cuts. TAP lines.
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Qemu  # noqa: E402

IMAGE = os.environ.get("IMAGE", "build/x86_64/mneme.img")
ROUNDS = int(os.environ.get("POWERCUT_ROUNDS", "4"))
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
PROMPT = rb" ok\r\n"
fails = 0


def tap(ok, what, detail=""):
    global fails
    print("%s - %s" % ("ok" if ok else "not ok", what))
    if not ok:
        fails += 1
        for line in str(detail).splitlines()[-15:]:
            print("#   " + line)
    sys.stdout.flush()


def chunks(i):
    return 4 + (i * 13) % 80


def pattern(i):
    """File i's bytes, as the Forth word FILLP makes them."""
    return bytes((i * 7 + c * 31 + k) & 255 for c in range(chunks(i)) for k in range(256))


def forth_words(prefix):
    # FNAME ( i -- c-addr u ): prefix + four digits; WF ( i -- ) writes
    # file i, commits it (FLUSH-FILE: a closed new file alone would wait
    # for the files service's next commit) and closes it; STREAM ( n -- )
    # writes files 0..n-1, printing "done I" after each one's CLOSE-FILE
    n = len(prefix)
    return [
        "CREATE P 256 ALLOT VARIABLE FD CREATE NB 64 ALLOT",
        ": FILLP ( i c -- ) 256 0 DO 2DUP 31 * SWAP 7 * + I + 255 AND P I + C! LOOP 2DROP ;",
        ': FNAME ( i -- c-addr u ) 0 <# # # # # #> NB %d + SWAP MOVE NB %d ;' % (n, n + 4),
        'S" %s" NB SWAP MOVE' % prefix,
        ': WF ( i -- ) DUP FNAME W/O BIN CREATE-FILE ABORT" create failed" FD ! '
        'DUP 13 * 80 MOD 4 + 0 DO DUP I FILLP P 256 FD @ WRITE-FILE ABORT" write failed" LOOP '
        'FD @ FLUSH-FILE ABORT" flush failed" FD @ CLOSE-FILE ABORT" close failed" DROP ;',
        ': STREAM ( n -- ) 0 DO I WF ." done " I . CR LOOP ;',
    ]


def boot(img, nvme):
    dev = ["-device", "nvme,drive=d,serial=powercut"] if nvme else ["-device", "virtio-blk-pci,drive=d"]
    q = Qemu(IMAGE, 256, timeout=600, extra=["-drive", "if=none,id=d,format=raw,file=" + img] + dev)
    q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=300)
    return q


def command(q, line, timeout=60):
    start = len(q.out)
    q.write(line.encode() + b"\r")
    q.expect(PROMPT, timeout=timeout, start=start)
    return q.out[start:].decode(errors="replace")


def mount_log(q):
    log = q.out.decode(errors="replace")
    mounted = re.search(r"files: /boot: FAT32[^\r\n]*", log)
    left = re.search(r"files: /boot has problems left[^\r\n]*", log)
    repaired = re.search(r"files: /boot repaired[^\r\n]*", log)
    return mounted, left, repaired, log


# What fsck.fat -n may say after a cut: the dirty flag (set in the boot
# sector's state byte, offset 65 on FAT32, so the backup differs there
# alone), a stale FSInfo free count (a hint), lost clusters.
ALLOWED = ("There are differences between boot sector and its backup",
           "This is mostly harmless. Differences: (offset:original/backup)",
           "65:01/00", "Not automatically fixing this.",
           "Dirty bit is set. Fs was not properly unmounted",
           "Automatically removing dirty bit.", "Free cluster summary wrong",
           "Auto-correcting.", "Leaving filesystem unchanged.")


# Straight after a cut (before a mount) also: the file being written
# when the power went has a chain longer than its size (its new clusters
# linked, its size not yet written; mneme's mount check trims it), and
# the FAT copies differ (the cut fell between writing the first and the
# second; the check rewrites the second from the first).
UNFINISHED = ("File size is", "Truncating file to", "FATs differ but appear to be intact",
              "Using first FAT.")


def fsck_problems(img, strict):
    fk = subprocess.run(["fsck.fat", "-n", img], capture_output=True, timeout=120)
    out = fk.stdout.decode(errors="replace")
    lines = [l for l in out.splitlines()[1:] if l.strip() and not l.startswith(img)]
    problems = []
    for k, l in enumerate(lines):
        t = l.strip()
        if t.startswith(ALLOWED) or "lost" in t.lower() or "Reclaim" in t or "unused" in t:
            continue
        if not strict and (t.startswith(UNFINISHED) or
                           (k + 1 < len(lines) and lines[k + 1].strip().startswith(UNFINISHED))):
            continue
        problems.append(l)
    return fk.returncode, problems, out


def verify(complete, img, what):
    bad = []
    for name, i in sorted(complete.items()):
        m = subprocess.run(["mtype", "-i", img, "::" + name], capture_output=True, env=ENV)
        if m.returncode or m.stdout != pattern(i):
            bad.append(name)
    tap(not bad, "%s: all %d files completed so far are intact" % (what, len(complete)),
        "damaged: %s" % bad[:10])


def main():
    if not os.path.exists(IMAGE):
        print("not ok - no image %s (make image)" % IMAGE)
        return 1
    rnd = random.Random(int(os.environ.get("POWERCUT_SEED", "4242")))
    tmp = tempfile.mkdtemp(prefix="mneme-powercut-")
    img = os.path.join(tmp, "pc.img")
    complete = {}  # "/rNN/fIIII" -> i
    try:
        subprocess.run(["mkfs.fat", "-C", "-F", "32", "-n", "POWERCUT", img, str(64 * 1024)],
                       check=True, capture_output=True)
        for r in range(ROUNDS + 1):
            nvme = r % 2 == 1
            what = "cut %d (%s)" % (r + 1, "NVMe" if nvme else "virtio-blk")
            q = boot(img, nvme)
            try:
                if r:
                    # after the previous cut: mneme has mounted (checked and
                    # repaired); with everything flushed and the volume marked
                    # clean, fsck.fat -n looks while mneme idles at the prompt
                    prev = "cut %d" % r
                    mounted, left, repaired, log = mount_log(q)
                    tap(mounted is not None and left is None,
                        "%s: mneme's mount check: %s" %
                        (prev, repaired.group(0) if repaired else "nothing to repair"), log[-2500:])
                    out = command(q, 'S" /boot/r00/f0000" R/O OPEN-FILE . DUP FLUSH-FILE . CLOSE-FILE .')
                    tap(out.split()[-4:-1] == ["0", "0", "0"], "%s: FLUSH-FILE after the mount" % prev, out)
                    rc, problems, out = fsck_problems(img, strict=True)
                    tap(rc == 0 and len(out.strip().splitlines()) == 2,
                        "%s: after mneme's mount and repairs, fsck.fat -n finds nothing" % prev, out)
                    verify(complete, img, prev)
                if r == ROUNDS:
                    break
                d = "/boot/r%02d" % r
                command(q, 'S" %s" MKDIR' % d)
                for line in forth_words(d + "/f"):
                    command(q, line)
                start = len(q.out)
                q.write(b"400 STREAM\r")
                want = rnd.randrange(1, 7)
                seen = 0
                while seen < want:
                    m = q.expect(rb"done (\d+) \r\n", timeout=300, start=start)
                    start = m.end()
                    seen += 1
                time.sleep(rnd.random() * 0.5)
            finally:
                q.close()  # SIGKILL: the power cut
            if r == ROUNDS:
                break
            for m in re.finditer(rb"done (\d+) \r\n", q.out):
                i = int(m.group(1))
                complete["/r%02d/f%04d" % (r, i)] = i
            # the disk as the cut left it
            rc, problems, out = fsck_problems(img, strict=False)
            tap(not problems, "%s after %d files seen done: straight after the cut fsck.fat -n "
                "shows at most lost clusters and the unfinished file's longer chain" % (what, seen), out)
            verify(complete, img, what)
    except Exception as e:  # noqa: BLE001
        tap(False, "the power-cut rounds", str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
