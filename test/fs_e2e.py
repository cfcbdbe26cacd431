#!/usr/bin/env python3
"""fs_e2e.py: the files service and the Forth file words in mneme (hosted).

mneme runs with two disks: a GPT disk whose EFI system partition (FAT32)
is /boot, and a raw FAT16 image (/disk1), both made and filled by mkfs.fat
and mtools. A Forth shell on the console lists, types, includes, creates,
writes, reads by lines, seeks, resizes, renames and deletes files; a
child VM's handle is closed when it ends. Afterwards mtools reads what
mneme wrote and fsck.fat -n finds nothing. Each step waits for a marker
the shell prints. Then the userspace codec: requests through the bridge
on sermux port 4 (stat, open, read inline, write, readdir, errors).
Prints TAP lines.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mneme_host import Hosted, Mux  # noqa: E402
from mneme_wire import cobs_decode, cobs_encode, varint  # noqa: E402

O = os.environ.get("O", "build/hosted")
FILES = bytes.fromhex("66696c6573734d2b9a4e3b71c2d0e001")
MNEME = os.path.join(O, "mneme")
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")
n_fail = 0


def tap(ok, msg, detail=""):
    global n_fail
    print(("ok - " if ok else "not ok - ") + msg)
    if not ok:
        n_fail += 1
        for line in str(detail).splitlines()[-20:]:
            print("# " + line)
    sys.stdout.flush()


class Shell:
    def __init__(self, args):
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.cv = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()
        self.n = 0

    def _reader(self):
        while True:
            b = self.p.stdout.read1(4096)
            with self.cv:
                if not b:
                    self.buf += b"\n<<EOF>>"
                    self.cv.notify_all()
                    return
                self.buf += b
                self.cv.notify_all()

    def run(self, text, timeout=30):
        """Sends text, then waits for a marker; returns the output between."""
        self.n += 1
        mark = "@@%d@@" % self.n
        start = len(self.buf)
        self.p.stdin.write((text + "\n.( " + mark + ") CR\n").encode())
        self.p.stdin.flush()
        deadline = time.monotonic() + timeout
        with self.cv:
            while mark.encode() not in self.buf[start:]:
                left = deadline - time.monotonic()
                if left <= 0 or b"<<EOF>>" in self.buf:
                    return "TIMEOUT/EOF: " + self.buf[start:].decode(errors="replace")
                self.cv.wait(left)
            out = self.buf[start:].decode(errors="replace")
        return out.split(mark)[0]

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def pc_str(b):
    return varint(len(b)) + b


def files_req(kind, handle=0, flags=0, arg=0, length=0, path=b"", path2=b"", data=b""):
    return (bytes([kind]) + varint(handle) + varint(flags) + varint(arg) + varint(length) +
            pc_str(path) + pc_str(path2) + pc_str(data))


def unvarint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def files_call(m, nonce, body):
    """Through the userspace bridge: (ok, fields or error code)."""
    msg = b"\x10" + FILES + varint(nonce) + varint(len(body)) + body
    m.send(4, cobs_encode(msg) + b"\0")
    out = cobs_decode(m.expect(4, rb"\0", 10)[:-1])
    if out[1:17] != FILES:
        return False, ("registry", out[-1])    # the kernel's own error reply
    _, i = unvarint(out, 17)
    if out[i] == 1:
        code, _ = unvarint(out, i + 2)
        return False, -((code + 1) >> 1) if code & 1 else code >> 1
    i += 1
    r = {"kind": out[i]}
    i += 1
    for f in ("handle", "value", "size", "free", "total"):
        r[f], i = unvarint(out, i)
    r["attr"] = out[i]
    n, i = unvarint(out, i + 1)
    r["name"] = out[i:i + n]
    n, i = unvarint(out, i + n)
    r["data"] = out[i:i + n]
    return True, r


def userspace(disk0, disk1):
    """The codec: userspace requests over the bridge (sermux port 4)."""
    k = Hosted("--disk", disk0, "--disk", disk1, heap="16M")
    try:
        m = Mux(k)
        ok, r = files_call(m, 1, files_req(7, path=b"/disk1/kid.txt"))
        tap(ok and r["size"] == 14, "userspace STAT", r)
        ok, r = files_call(m, 2, files_req(0, flags=1, path=b"/disk1/kid.txt"))
        tap(ok and r["handle"] != 0, "userspace OPEN", r)
        h = r["handle"] if ok else 0
        ok, r = files_call(m, 3, files_req(2, handle=h, length=100))
        tap(ok and r["data"] == b"from the child", "userspace READ returns the data inline", r)
        ok, r = files_call(m, 4, files_req(1, handle=h))
        tap(ok, "userspace CLOSE", r)
        ok, r = files_call(m, 5, files_req(2, handle=h, length=100))
        tap(not ok and r == -2, "a closed handle: MN_EINVAL", r)
        ok, r = files_call(m, 6, files_req(0, flags=2 | 4, path=b"/disk1/from userspace.txt"))
        h = r["handle"] if ok else 0
        ok2, r2 = files_call(m, 7, files_req(3, handle=h, data=b"written over the bridge"))
        files_call(m, 8, files_req(1, handle=h))
        tap(ok and ok2 and r2["value"] == 23, "userspace CREATE and WRITE", (r, r2))
        ok, r = files_call(m, 9, files_req(8, path=b"/", arg=1))
        tap(ok and r["name"] == b"disk1", "userspace READDIR of /", r)
        ok, r = files_call(m, 10, files_req(7, path=b"/nowhere/x"))
        tap(not ok and r == -7, "userspace STAT of a missing volume: MN_ENOENT", r)
        ok, r = files_call(m, 11, bytes([99]) + b"junk")
        tap(not ok and r == ("registry", 2), "undecodable request: the registry's DECODE error", r)
        ok, r = files_call(m, 12, files_req(14))
        tap(ok, "userspace SYNC", r)
        m.close()
    finally:
        k.stop()


def sh(*a, data=None):
    return subprocess.run(list(a), input=data, capture_output=True, env=ENV, check=True)


def main():
    tmp = tempfile.mkdtemp(prefix="fs_e2e.")
    try:
        esp = os.path.join(tmp, "esp.fat")
        disk0 = os.path.join(tmp, "disk0.img")
        disk1 = os.path.join(tmp, "disk1.img")
        sh("mkfs.fat", "-C", "-F", "32", "-n", "ESP", esp, str(64 * 1024))
        sh("mkfs.fat", "-C", "-F", "16", "-n", "DATA", disk1, str(32 * 1024))
        src = os.path.join(tmp, "src")
        for img, name, content in (
                (esp, "hello.txt", b"hello from mtools\n"),
                (esp, "prog.fs", b": SQUARE ( n -- n*n ) DUP * ;\n: GREET .\" included!\" CR ;\n"),
                (disk1, "Notes about things.txt", b"alpha\r\nbeta\ngamma")):
            open(src, "wb").write(content)
            sh("mcopy", "-i", img, src, "::/" + name)
        sh("python3", "platform/x86_64/tools/gpt.py", esp, disk0)
        s = Shell([MNEME, "--serial", "none", "--disk", disk0, "--disk", disk1])
        try:
            out = s.run("")
            tap("TIMEOUT" not in out, "the shell answers", out)
            out = s.run('S" /" LS')
            tap("boot/" in out and "disk1/" in out, "LS / lists the volumes /boot and /disk1", out)
            out = s.run('S" /boot/hello.txt" CAT')
            tap("hello from mtools" in out, "CAT types a file mtools wrote", out)
            out = s.run('S" /boot/prog.fs" INCLUDED 7 SQUARE . GREET')
            tap("49" in out and "included!" in out, "INCLUDED loads Forth from /boot", out)
            out = s.run('INCLUDE /boot/prog.fs 5 SQUARE .')
            tap("25" in out, "INCLUDE too", out)
            out = s.run('CREATE B 200 ALLOT VARIABLE FD\n'
                        'S" /disk1/Notes about things.txt" R/O OPEN-FILE . FD !\n'
                        ': LINES BEGIN B 200 FD @ READ-LINE DROP WHILE B SWAP TYPE ." |" REPEAT DROP ;\n'
                        'LINES FD @ CLOSE-FILE .')
            tap("0 alpha|beta|gamma|0" in out.replace(" ok", "").replace("\n", "").replace("\r", ""),
                "READ-LINE reads CR LF, LF and unterminated lines", out)
            out = s.run('S" /disk1/new dir" MKDIR\n'
                        'S" /disk1/new dir/Written by mneme.txt" W/O CREATE-FILE . FD !\n'
                        'S" first line" FD @ WRITE-LINE .\n'
                        'S" second line" FD @ WRITE-LINE .\n'
                        'S" tail" FD @ WRITE-FILE .\n'
                        'FD @ FILE-SIZE . . . FD @ FILE-POSITION . . .\n'
                        'FD @ CLOSE-FILE .')
            tap("0 0 0 0 0 0 27 0 0 27 0" in " ".join(out.replace("ok", "").split()),
                "CREATE-FILE WRITE-LINE WRITE-FILE FILE-SIZE FILE-POSITION CLOSE-FILE", out)
            out = s.run('S" /disk1/new dir/Written by mneme.txt" R/W OPEN-FILE . FD !\n'
                        '6 0 FD @ REPOSITION-FILE . B 4 FD @ READ-FILE . B SWAP TYPE\n'
                        '16 0 FD @ RESIZE-FILE . FD @ FILE-SIZE . . .\n'
                        'S" /disk1/new dir/Written by mneme.txt" W/O OPEN-FILE NIP .\n'
                        'FD @ CLOSE-FILE .')
            w = " ".join(out.replace("ok", "").split())
            tap(w.startswith("0 0 0 line"),
                "REPOSITION-FILE READ-FILE", out)
            tap("0 0 0 16" in w and "-14" in w, "RESIZE-FILE; a second writer is refused (-14)", out)
            out = s.run('S" /disk1/new dir/Written by mneme.txt" S" /disk1/new dir/renamed.txt" RENAME-FILE .\n'
                        'S" /disk1/new dir/renamed.txt" FILE-STATUS . .\n'
                        'S" /disk1/nothing" FILE-STATUS . DROP\n'
                        'S" /disk1/gone.txt" W/O CREATE-FILE . CLOSE-FILE .\n'
                        'S" /disk1/gone.txt" DELETE-FILE . S" /disk1/gone.txt" DELETE-FILE 0= .')
            w = " ".join(out.replace("ok", "").split())
            tap(w.startswith("0 0 32 -7 0 0 0 0"), "RENAME-FILE FILE-STATUS DELETE-FILE", out)
            out = s.run(': KID2 S" /disk1/kid.txt" W/O CREATE-FILE DROP S" from the child" ROT WRITE-FILE DROP ;\n'
                        "' KID2 SPAWN JOIN .\n"
                        'S" /disk1/kid.txt" W/O OPEN-FILE . CLOSE-FILE .')
            w = " ".join(out.replace("ok", "").split())
            tap(w.endswith("0 0 0"), "a child's unclosed file is closed when it ends", out)
            out = s.run('S" /disk1/kid.txt" CAT')
            tap("from the child" in out, "the child's data is there", out)
            out = s.run('S" /disk1/no such file" CAT')
            tap("CAT: not found" in out, "CAT of a missing file: an error message", out)
            out = s.run('S" /disk1/new dir" RM')
            tap("not empty" in out, "RM of a full directory: refused", out)
            out = s.run('S" /disk1/new dir/renamed.txt" RM S" /disk1/new dir" RM S" /disk1" LS')
            tap("new dir" not in out and "kid.txt" in out, "RM a file and an empty directory", out)
            out = s.run('VARIABLE RUNS 0 RUNS ! S" /disk1/req.fs" W/O CREATE-FILE . FD !\n'
                        'S" 1 RUNS +! : TWICE 2 * ;" FD @ WRITE-LINE . FD @ CLOSE-FILE .\n'
                        'S" /disk1/req.fs" R/O OPEN-FILE . INCLUDE-FILE 21 TWICE . RUNS ?\n'
                        'S" /disk1/req.fs" REQUIRED REQUIRE /disk1/req.fs RUNS ?\n'
                        'S" /disk1/req.fs" INCLUDED RUNS ?')
            tap(" ".join(out.replace("ok", "").split()) == "0 0 0 0 42 1 2 3",
                "INCLUDE-FILE; REQUIRED then REQUIRE include a name once; INCLUDED again", out)
            out = s.run('S" /disk1/blocks.fb" OPEN-BLOCKS 1 BLOCK C@ .\n'
                        ': PUT ( a u n -- ) BLOCK DUP 1024 BLANK SWAP MOVE UPDATE ;\n'
                        'S" 6 7 * . BLK @ . \\ not this: 99 ." 3 PUT FLUSH EMPTY-BUFFERS 3 LOAD\n'
                        'S" /disk1/blocks.fb" R/O OPEN-FILE . DUP FILE-SIZE . . . CLOSE-FILE .')
            tap(" ".join(out.replace("ok", "").split()) == "32 42 3 0 0 0 4096 0",
                "Block on the files service: BLOCK UPDATE FLUSH LOAD in /disk1/blocks.fb", out)
            out = s.run("DF")
            tap("/boot" in out and "FAT32" in out and "/disk1" in out and "FAT16" in out, "DF", out)
            out = s.run('S" /boot/saved.txt" W/O CREATE-FILE DROP FD ! S" saved by mneme" FD @ WRITE-LINE .\n'
                        'FD @ CLOSE-FILE . S" /boot/hello.txt" R/O OPEN-FILE DROP DUP FLUSH-FILE . CLOSE-FILE .')
            tap(" ".join(out.replace("ok", "").split()) == "0 0 0 0", "FLUSH-FILE marks the volumes clean", out)
        finally:
            s.stop()
        userspace(disk0, disk1)
        got = sh("mtype", "-i", disk1, "::/from userspace.txt").stdout
        tap(got == b"written over the bridge", "mtools reads the file written over the bridge", got)
        got = sh("mtype", "-i", disk0 + "@@1048576", "::/saved.txt").stdout
        tap(got == b"saved by mneme\n", "mtools reads /boot/saved.txt", got)
        got = sh("mtype", "-i", disk1, "::/kid.txt").stdout
        tap(got == b"from the child", "mtools reads /disk1/kid.txt", got)
        for img in (esp, disk1):
            if img == esp:
                with open(disk0, "rb") as f, open(esp, "wb") as o:
                    f.seek(1 << 20)
                    o.write(f.read(64 << 20))
            p = subprocess.run(["fsck.fat", "-n", img], capture_output=True)
            out = p.stdout.decode()
            tap(p.returncode == 0 and len(out.strip().splitlines()) == 2,
                "fsck.fat -n clean on %s" % os.path.basename(img), out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
