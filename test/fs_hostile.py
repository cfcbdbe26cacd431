#!/usr/bin/env python3
"""fs_hostile.py: damaged and hostile FAT images give errors, never a crash
or a hang.

Images made by mkfs.fat and mtools (FAT16 and FAT32) are damaged on
purpose: a loop in a file's cluster chain, clusters out of range, a
directory that contains itself, a subdirectory pointing at its parent,
long names with unpaired UTF-16 surrogates, a garbage boot sector, an
image shorter than its file system. mneme-fat (and its ASan+UBSan build
when present) mounts each read-only and read-write, walks every directory
and reads every file under a timeout; the check must report the damage
and the walk must end with errors counted, not a signal. Prints TAP lines.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

O = os.environ.get("O", "build/hosted")
TOOLS = [t for t in (os.path.join(O, "mneme-fat"), "build/hosted-asan/mneme-fat")
         if os.path.exists(t)]
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
n_fail = 0


def tap(ok, msg, detail=""):
    global n_fail
    print(("ok - " if ok else "not ok - ") + msg)
    if not ok:
        n_fail += 1
        for line in str(detail).splitlines()[-15:]:
            print("# " + line)
    sys.stdout.flush()


class Vol:
    def __init__(self, path):
        self.path = path
        b = open(path, "rb").read(512)
        self.bps, self.spc = struct.unpack_from("<HB", b, 11)
        rsvd, self.nfats, rootents, tot16 = struct.unpack_from("<HBHH", b, 14)
        fat16sz = struct.unpack_from("<H", b, 22)[0]
        tot32, fat32sz = struct.unpack_from("<II", b, 32)
        self.fatsz = fat16sz or fat32sz
        self.fat_start = rsvd
        self.root_sectors = (rootents * 32 + self.bps - 1) // self.bps
        self.root_start = rsvd + self.nfats * self.fatsz
        self.data = self.root_start + self.root_sectors
        total = tot16 or tot32
        self.nclus = (total - self.data) // self.spc
        self.type = 16 if self.nclus < 65525 else 32
        self.root_cluster = struct.unpack_from("<I", b, 44)[0] if self.type == 32 else 0

    def rw(self, off, data=None, n=0):
        with open(self.path, "r+b") as f:
            f.seek(off)
            if data is None:
                return f.read(n)
            f.write(data)

    def set_fat(self, c, val):
        w = 4 if self.type == 32 else 2
        for k in range(self.nfats):
            off = (self.fat_start + k * self.fatsz) * self.bps + c * w
            self.rw(off, struct.pack("<I" if w == 4 else "<H", val))

    def get_fat(self, c):
        w = 4 if self.type == 32 else 2
        raw = self.rw(self.fat_start * self.bps + c * w, None, w)
        return struct.unpack("<I" if w == 4 else "<H", raw)[0] & 0x0FFFFFFF

    def clus_off(self, c):
        return (self.data + (c - 2) * self.spc) * self.bps

    def dir_offsets(self, clus):
        """Byte offsets of the 32-byte entries of a directory (0: the root)."""
        if clus == 0 and self.type == 16:
            start = self.root_start * self.bps
            return [start + 32 * i for i in range(self.root_sectors * self.bps // 32)]
        if clus == 0:
            clus = self.root_cluster
        offs = []
        for _ in range(64):
            base = self.clus_off(clus)
            offs += [base + 32 * i for i in range(self.spc * self.bps // 32)]
            nxt = self.get_fat(clus)
            if nxt >= 0x0FFFFFF8 or (self.type == 16 and nxt >= 0xFFF8):
                break
            clus = nxt
        return offs

    def find(self, short, clus=0):
        """(offset, entry bytes) of the short entry named short (11 bytes)."""
        for off in self.dir_offsets(clus):
            e = self.rw(off, None, 32)
            if e[0] == 0:
                break
            if e[:11] == short:
                return off, e
        raise KeyError(short)

    def first(self, e):
        c = struct.unpack_from("<H", e, 26)[0]
        if self.type == 32:
            c |= struct.unpack_from("<H", e, 20)[0] << 16
        return c

    def set_first(self, off, c):
        self.rw(off + 26, struct.pack("<H", c & 0xFFFF))
        if self.type == 32:
            self.rw(off + 20, struct.pack("<H", c >> 16))


def make(tmp, bits, name):
    img = os.path.join(tmp, name)
    if os.path.exists(img):
        os.unlink(img)
    subprocess.run(["mkfs.fat", "-C", "-F", bits, img, str(32 * 1024 if bits == "16" else 64 * 1024)],
                   check=True, capture_output=True)
    src = os.path.join(tmp, "src")
    open(src, "wb").write(os.urandom(20000))
    for cmd in (["mmd", "-i", img, "::/DIR"], ["mmd", "-i", img, "::/DIR/SUB"],
                ["mcopy", "-i", img, src, "::/A.BIN"], ["mcopy", "-i", img, src, "::/B.BIN"],
                ["mcopy", "-i", img, src, "::/Long name file.bin"],
                ["mcopy", "-i", img, src, "::/DIR/C.BIN"]):
        subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    return img


def run_tool(tool, img, *args):
    try:
        p = subprocess.run([tool, *args, img, "walk"], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None, "timed out (a hang)"
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def case(tmp, bits, label, damage, expect):
    """expect(output of the read-only walk) -> bool."""
    for tool in TOOLS:
        img = make(tmp, bits, "h.img")
        v = Vol(img)
        damage(v)
        tag = "FAT%s %s (%s)" % (bits, label, "asan" if "asan" in tool else "gcc")
        rc, out = run_tool(tool, img, "-r")
        tap(rc in (0, 1) and expect(out), tag + ": read-only walk reports it", out)
        rc, out = run_tool(tool, img)
        tap(rc in (0, 1), tag + ": read-write mount and walk end normally", out)
        rc, out = run_tool(tool, img)
        tap(rc in (0, 1), tag + ": and again after the repairs", out)


def field(out, name):
    for line in out.splitlines():
        w = line.split()
        if name in w:
            return int(w[w.index(name) + 1])
    return -1


def main():
    if not TOOLS:
        print("not ok - mneme-fat is built")
        return 1
    tmp = tempfile.mkdtemp(prefix="fs_hostile.")
    try:
        for bits in ("16", "32"):
            def loop(v):
                off, e = v.find(b"A       BIN")
                c = v.first(e)
                v.set_fat(v.get_fat(c), c)          # second cluster points back to the first
            case(tmp, bits, "loop in a file's chain", loop,
                 lambda o: "error reading /A.BIN" in o and field(o, "walk-errors") >= 1)

            def selfloop(v):
                off, e = v.find(b"B       BIN")
                c = v.first(e)
                v.set_fat(c, c)
            case(tmp, bits, "cluster pointing at itself", selfloop,
                 lambda o: "error reading /B.BIN" in o)

            def out_of_range(v):
                off, e = v.find(b"A       BIN")
                v.set_first(off, v.nclus + 100)
                off, e = v.find(b"B       BIN")
                v.set_fat(v.first(e), v.nclus + 7)
            case(tmp, bits, "clusters out of range", out_of_range,
                 lambda o: "error reading /A.BIN" in o and "error reading /B.BIN" in o
                 and field(o, "bad_chains") >= 1)

            def dir_self(v):
                off, e = v.find(b"DIR        ")
                d = v.first(e)
                soff, se = v.find(b"SUB        ", d)
                v.set_first(soff, d)                # DIR/SUB is DIR itself
            case(tmp, bits, "a directory containing itself", dir_self,
                 lambda o: field(o, "dir_loops") >= 1 and field(o, "walk-errors") >= 0)

            def dir_root(v):
                off, e = v.find(b"DIR        ")
                v.set_first(off, v.root_cluster if v.type == 32 else 2)
            case(tmp, bits, "a directory pointing at the root's clusters", dir_root,
                 lambda o: "walk-errors" in o)

            def bad_utf16(v):
                for off in v.dir_offsets(0):
                    e = v.rw(off, None, 32)
                    if e[11] == 0x0F and e[0] & 0x40:
                        v.rw(off + 1, struct.pack("<H", 0xD800))   # unpaired high surrogate
                        break
                else:
                    raise RuntimeError("no long name")
            case(tmp, bits, "a long name with a bad UTF-16 surrogate", bad_utf16,
                 lambda o: field(o, "bad_names") >= 1 and "\n-! 20000" in o)

            def fat_garbage(v):
                for c in range(2, 200):
                    v.set_fat(c, (c * 7919) & (0x0FFFFFFF if v.type == 32 else 0xFFFF))
            case(tmp, bits, "a FAT full of garbage", fat_garbage, lambda o: "walk-errors" in o or "mount" in o)

            def lfn_orphans(v):
                for off in v.dir_offsets(0):
                    e = v.rw(off, None, 32)
                    if e[11] != 0x0F and e[0] not in (0, 0xE5) and b"LONGNA" in e[:11]:
                        v.rw(off, b"\xe5")            # short entry gone, long name left
                        break
            case(tmp, bits, "long-name entries without their short entry", lfn_orphans,
                 lambda o: "walk-errors 0" in o)

        for label, damage in (
                ("zero bytes per sector", lambda v: v.rw(11, b"\0\0")),
                ("zero sectors per cluster", lambda v: v.rw(13, b"\0")),
                ("a FAT larger than the disk", lambda v: v.rw(36, b"\xff\xff\xff\x7f")),
                ("no FAT copies", lambda v: v.rw(16, b"\0")),
                ("root cluster out of range", lambda v: v.rw(44, b"\xff\xff\xff\x0f")),
                ("root cluster 0", lambda v: v.rw(44, b"\0\0\0\0"))):
            for tool in TOOLS:
                img = make(tmp, "32", "b.img")
                damage(Vol(img))
                rc, out = run_tool(tool, img, "-r")
                tap(rc == 1 and "mount:" in out, "boot sector with %s: refused (%s)" %
                    (label, "asan" if "asan" in tool else "gcc"), out)
        for tool in TOOLS:
            img = make(tmp, "32", "t.img")
            with open(img, "r+b") as f:
                f.truncate(8 * 1024 * 1024)
            rc, out = run_tool(tool, img, "-r")
            tap(rc == 1 and "mount:" in out, "an image shorter than its file system: refused", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
