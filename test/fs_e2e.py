#!/usr/bin/env python3
"""fs_e2e.py: the files service and the Forth file words in mneme (hosted).

mneme runs with two disks: a GPT disk whose EFI system partition (FAT32)
is /boot, and a raw FAT16 image (/disk1), both made and filled by mkfs.fat
and mtools. A Forth shell on the console lists, types, includes, creates,
writes, reads by lines, seeks, resizes, renames and deletes files; a
child VM's handle is closed when it ends. Afterwards mtools reads what
mneme wrote and fsck.fat -n finds nothing. Each step waits for a marker
the shell prints. Prints TAP lines.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

O = os.environ.get("O", "build/hosted")
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
            out = s.run("DF")
            tap("/boot" in out and "FAT32" in out and "/disk1" in out and "FAT16" in out, "DF", out)
            out = s.run('S" /boot/saved.txt" W/O CREATE-FILE DROP FD ! S" saved by mneme" FD @ WRITE-LINE .\n'
                        'FD @ CLOSE-FILE . S" /boot/hello.txt" R/O OPEN-FILE DROP DUP FLUSH-FILE . CLOSE-FILE .')
            tap(" ".join(out.replace("ok", "").split()) == "0 0 0 0", "FLUSH-FILE marks the volumes clean", out)
        finally:
            s.stop()
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
