#!/usr/bin/env python3
"""fs_qemu.py: the file system inside QEMU on virtio-blk, mneme beside
Linux (Debian's kernel, its vfat, a busybox-static initramfs) in the same
machine (q35, TCG, 256 MiB) on the same kind of disk: a fresh FAT32 image
made by mkfs.fat for each. Each writes FS_QEMU_MB MiB (default 16; the
issue's figure is 256) to one file in 16 KiB writes and makes it durable,
reads it back, and creates FS_QEMU_FILES (default 200; the issue's 1000)
small files in one directory. mneme is timed from the host (the command
sent to its prompt back; the serial round trip is a few ms), Linux by
/proc/uptime in the guest (10 ms steps). Prints MB/s, files/s and the
ratios mneme/Linux. Run by bench/fs_qemu.sh, which builds the initramfs.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../tests/qemu"))
from qemu import Qemu  # noqa: E402

IMAGE = os.environ.get("IMAGE", "build/x86_64/mneme.img")
LINUX = os.environ.get("LINUX", "build/bench/linux")
MB = int(os.environ.get("FS_QEMU_MB", "16"))
FILES = int(os.environ.get("FS_QEMU_FILES", "200"))


def mkimg(path):
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["mkfs.fat", "-C", "-F", "32", "-s", "8", path, str((MB * 2 + 64) * 1024)],
                   check=True, capture_output=True)


def command(q, line, timeout):
    start = len(q.out)
    t0 = time.monotonic()
    q.write(line.encode() + b"\r")
    q.expect(rb" ok\r\n", timeout=timeout, start=start)
    return time.monotonic() - t0, q.out[start:].decode(errors="replace")


def mneme(img):
    q = Qemu(IMAGE, 256, timeout=3600, extra=[
        "-drive", "if=none,id=d,format=raw,file=" + img, "-device", "virtio-blk-pci,drive=d"])
    try:
        q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=300)
        command(q, "CREATE BUF 16384 ALLOT BUF 16384 0 FILL VARIABLE FD CREATE NB 32 ALLOT", 30)
        command(q, ': WBIG ( n -- ) S" /boot/big.bin" W/O BIN CREATE-FILE THROW FD ! '
                   '0 DO BUF 16384 FD @ WRITE-FILE THROW LOOP FD @ FLUSH-FILE THROW FD @ CLOSE-FILE THROW ;', 30)
        command(q, ': RBIG S" /boot/big.bin" R/O BIN OPEN-FILE THROW FD ! '
                   'BEGIN BUF 16384 FD @ READ-FILE THROW 0= UNTIL FD @ CLOSE-FILE THROW ;', 30)
        command(q, 'S" /boot/small/small" NB SWAP MOVE', 30)
        command(q, ': SNAME ( i -- c-addr u ) 0 <# #S #> DUP >R NB 17 + SWAP MOVE '
                   'S" .txt" NB 17 + R@ + SWAP MOVE NB R> 21 + ;', 30)
        command(q, ': SMALL ( n -- ) S" /boot/small" MKDIR 0 DO I SNAME W/O CREATE-FILE THROW FD ! '
                   'S" small file" FD @ WRITE-LINE THROW FD @ CLOSE-FILE THROW LOOP '
                   'S" /boot/big.bin" R/O OPEN-FILE THROW DUP FLUSH-FILE THROW CLOSE-FILE THROW ;', 30)
        w, out_w = command(q, "%d WBIG" % (MB * 64), 3000)
        r, out_r = command(q, "RBIG", 3000)
        s, out_s = command(q, "%d SMALL" % FILES, 3000)
        for o in (out_w, out_r, out_s):
            if "?" in o.split("\n", 1)[-1] or "error" in o.lower():
                raise RuntimeError("mneme: " + o)
        return w, r, s
    finally:
        q.close()


def linux(img):
    q = Qemu(IMAGE, 256, timeout=3600, extra=[
        "-kernel", os.path.join(LINUX, "vmlinuz"), "-initrd", os.path.join(LINUX, "initrd-fs.cpio"),
        "-append", "console=ttyS0 quiet fs_mb=%d fs_files=%d" % (MB, FILES),
        "-drive", "if=none,id=d,format=raw,file=" + img, "-device", "virtio-blk-pci,drive=d"])
    try:
        q.expect(rb"BENCH-READY|BENCH-FAILED", timeout=300)
        q.expect(rb"BENCH-DONE", timeout=3000)
        out = q.out.decode(errors="replace")
        t = {}
        for k in ("WRITE", "READ", "SMALL"):
            m = re.search(k + r" ([\d.]+) ([\d.]+)", out)
            if not m:
                raise RuntimeError("linux: no %s line:\n%s" % (k, out[-2000:]))
            t[k] = max(float(m.group(2)) - float(m.group(1)), 0.01)
        return t["WRITE"], t["READ"], t["SMALL"]
    finally:
        q.close()


def check(img, what):
    p = subprocess.run(["fsck.fat", "-n", img], capture_output=True)
    if p.returncode != 0:
        print("# fsck.fat -n after %s:\n# %s" % (what, p.stdout.decode().replace("\n", "\n# ")))


def main():
    tmp = tempfile.mkdtemp(prefix="fs_qemu.")
    try:
        img = os.path.join(tmp, "d.img")
        mkimg(img)
        mw, mr, ms = mneme(img)
        check(img, "mneme")
        mkimg(img)
        lw, lr, ls = linux(img)
        check(img, "Linux")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("fs_qemu: virtio-blk, FAT32, %d MiB file, %d small files (TCG)" % (MB, FILES))
    rows = [("write_MBps", MB / mw, MB / lw), ("read_MBps", MB / mr, MB / lr),
            ("create_files_per_s", FILES / ms, FILES / ls)]
    for name, m, l in rows:
        print("fs.qemu_mneme_%s %.2f" % (name, m))
        print("fs.qemu_linux_%s %.2f" % (name, l))
        print("fs.qemu_%s_ratio %.2f" % (name, m / l))


if __name__ == "__main__":
    main()
