#!/usr/bin/env python3
"""fs_mtools.py: the FAT library (build/hosted/mneme-fat) against Debian's
mtools and fsck.fat, on FAT16, FAT32 and a GPT disk.

mtools writes, mneme reads (names, long and non-ASCII names, directories,
contents by SHA-256); mneme writes (creating, overwriting, appending,
truncating, renaming, moving, deleting, many files in one directory),
mtools reads back and `fsck.fat -n` finds nothing after every writing step.
Prints TAP lines.
"""
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile

O = os.environ.get("O", "build/hosted")
TOOL = os.path.join(O, "mneme-fat")
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1", MTOOLS_NO_VFAT="0", LC_ALL="C.UTF-8")
n_ok = n_fail = 0


def tap(ok, msg, detail=""):
    global n_ok, n_fail
    if ok:
        n_ok += 1
        print("ok - " + msg)
    else:
        n_fail += 1
        print("not ok - " + msg)
        for line in str(detail).splitlines()[-20:]:
            print("# " + line)
    sys.stdout.flush()


def run(*args, data=None, check=True):
    p = subprocess.run(list(args), input=data, capture_output=True, env=ENV, timeout=300)
    if check and p.returncode:
        raise RuntimeError("%s: rc %d\n%s%s" % (" ".join(args), p.returncode,
                                                p.stdout.decode(errors="replace"),
                                                p.stderr.decode(errors="replace")))
    return p


def fat(img, *args, data=None, check=True):
    return run(TOOL, img, *args, data=data, check=check)


def fsck(img, what):
    if img.endswith("disk.img"):
        # the volume of the GPT disk (its partition starts at 1 MiB)
        part = img + ".part"
        size = os.path.getsize(img.replace("disk.img", "GPT.fat"))
        with open(img, "rb") as f, open(part, "wb") as o:
            f.seek(1 << 20)
            o.write(f.read(size))
        img = part
    p = run("fsck.fat", "-n", img, check=False)
    out = p.stdout.decode(errors="replace")
    lines = [l for l in out.splitlines()[1:] if not l.startswith(img)]
    tap(p.returncode == 0 and not lines, "fsck.fat -n clean after " + what, out)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def main():
    if not os.path.exists(TOOL):
        print("not ok - %s is built" % TOOL)
        return 1
    rnd = random.Random(15)
    tmp = tempfile.mkdtemp(prefix="fs_mtools.")
    try:
        for kind in ("FAT16", "FAT32", "GPT"):
            fatimg = os.path.join(tmp, kind + ".fat")
            size_mb = 32 if kind == "FAT16" else 64
            bits = "16" if kind == "FAT16" else "32"
            run("mkfs.fat", "-C", "-F", bits, "-n", kind, fatimg, str(size_mb * 1024))
            img = fatimg
            if kind == "GPT":
                img = os.path.join(tmp, "disk.img")
                run("python3", "platform/x86_64/tools/gpt.py", fatimg, img)
                p = fat(img, "parts").stdout.decode()
                tap(p.startswith("gpt") and " esp" in p, "GPT: the EFI system partition found", p)
                # mtools reaches the partition through an offset
                mimg = img + "@@1048576"
            else:
                mimg = img
            # ---- mtools writes, mneme reads
            files = {
                "hello.txt": b"hello\n",
                "Long File Name With Spaces.text": os.urandom(5000),
                "Gr\u00fc\u00dfe r\u00e9sum\u00e9.txt": "unicode \u263a".encode(),
                "big.bin": os.urandom(3 * 1024 * 1024 + 17),
                "sub/dir two/deep.dat": os.urandom(70000),
                "UPPER.TXT": b"UPPER",
            }
            for d in ("sub", "sub/dir two"):
                run("mmd", "-i", mimg, "::/" + d)
            for name, content in files.items():
                src = os.path.join(tmp, "src")
                open(src, "wb").write(content)
                run("mcopy", "-i", mimg, src, "::/" + name)
            bad = []
            for name, content in files.items():
                got = fat(img, "cat", "/" + name).stdout
                if got != content:
                    bad.append(name)
            tap(not bad, "%s: mneme reads what mtools wrote" % kind, bad)
            ls = fat(img, "ls", "/").stdout.decode()
            names = sorted(l.split(" ", 2)[2] for l in ls.splitlines())
            want = sorted(["hello.txt", "Long File Name With Spaces.text",
                           "Gr\u00fc\u00dfe r\u00e9sum\u00e9.txt", "big.bin", "sub", "UPPER.TXT"])
            tap(names == want, "%s: names as mtools wrote them" % kind, "%s\n%s" % (names, want))
            # ---- mneme writes, mtools reads
            mine = {}
            fat(img, "mkdir", "/made by mneme")
            fat(img, "mkdir", "/made by mneme/nested \u00e9t\u00e9")
            for i in range(60):
                name = "/made by mneme/file number %03d with a long name.txt" % i
                content = os.urandom(rnd.randrange(0, 9000))
                fat(img, "put", "-", name, data=content)
                mine[name] = content
            mine["/made by mneme/nested \u00e9t\u00e9/x.bin"] = os.urandom(2 * 1024 * 1024 + 1)
            fat(img, "put", "-", "/made by mneme/nested \u00e9t\u00e9/x.bin",
                data=mine["/made by mneme/nested \u00e9t\u00e9/x.bin"])
            mine["/short.txt"] = b"short"
            fat(img, "put", "-", "/short.txt", data=b"short")
            fsck(img, kind + " creating 63 files")
            # overwrite shorter, truncate, grow
            mine["/hello.txt"] = b"hi"
            fat(img, "put", "-", "/hello.txt", data=b"hi")
            fat(img, "trunc", "/big.bin", "1000")
            mine["/big.bin"] = files["big.bin"][:1000]
            fat(img, "trunc", "/UPPER.TXT", "9000")
            mine["/UPPER.TXT"] = b"UPPER" + bytes(8995)
            fsck(img, kind + " overwriting and truncating")
            # rename, move, delete
            fat(img, "mv", "/short.txt", "/made by mneme/renamed short.txt")
            mine["/made by mneme/renamed short.txt"] = mine.pop("/short.txt")
            fat(img, "mv", "/sub/dir two", "/made by mneme/moved dir")
            mine["/made by mneme/moved dir/deep.dat"] = files["sub/dir two/deep.dat"]
            for i in range(0, 60, 3):
                name = "/made by mneme/file number %03d with a long name.txt" % i
                fat(img, "rm", name)
                del mine[name]
            fsck(img, kind + " renaming, moving and deleting")
            r = fat(img, "rm", "/made by mneme", check=False)
            tap(r.returncode != 0 and b"not empty" in r.stderr, "%s: a full directory is not removed" % kind, r.stderr)
            bad = []
            for name, content in mine.items():
                p = run("mtype", "-i", mimg, "::" + name, check=False)
                if p.returncode or p.stdout != content:
                    bad.append((name, p.returncode, len(p.stdout), len(content)))
            tap(not bad, "%s: mtools reads %d files mneme wrote" % (kind, len(mine)), bad[:5])
            p = run("mdir", "-i", mimg, "-b", "::/made by mneme/moved dir")
            tap(b"deep.dat" in p.stdout, "%s: mtools sees the moved directory" % kind, p.stdout)
            # mneme after mtools deletes: free space agrees
            run("mdel", "-i", mimg, "::/made by mneme/nested \u00e9t\u00e9/x.bin")
            df = fat(img, "df").stdout.decode().split()
            p = run("minfo", "-i", mimg, check=False)
            fsck(img, kind + " mtools deleting")
            md = run("mdir", "-i", mimg, "::/").stdout.decode()
            free = int([l for l in md.splitlines() if "bytes free" in l][0].split("bytes")[0].replace(" ", ""))
            tap(int(df[1]) == free, "%s: free space agrees with mtools (%s)" % (kind, free), "%s vs %s" % (df, free))
            r = fat(img, "check").stdout.decode()
            tap(" 0 " in r and "cross_linked 0 bad_chains 0 bad_sizes 0 bad_names 0 dir_loops 0" in r
                and "lost_freed 0" in r, "%s: mneme's check finds nothing" % kind, r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("# %d passed, %d failed" % (n_ok, n_fail))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
