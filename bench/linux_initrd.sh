#!/usr/bin/env bash
# bench/linux_initrd.sh MODEL.gguf OUT_DIR: the Linux side of
# bench/llm_qemu.sh's reference: Debian's kernel (linux-image-amd64's
# current image package) and an initramfs built here from busybox-static,
# the statically linked mneme-infer and the model. Both packages are
# fetched with apt-get download into build/bench/linux/debs (never
# installed) and unpacked with dpkg-deb. Writes OUT_DIR/vmlinuz and
# OUT_DIR/initrd-<model>.cpio; the initramfs's /init runs
#   mneme-infer -m /model.gguf -p "$prompt" -n $tokens -t $(nproc)
# (prompt and tokens from the kernel command line: bench.tokens=N) between
# BENCH-START and BENCH-END lines on the serial console, then powers off.
set -eu
cd "$(dirname "$0")/.."
model=$1
out=$2
debs=build/bench/linux/debs
mkdir -p "$debs" "$out"
[ -x build/hosted/mneme-infer ] || make -s TARGET=hosted build/hosted/mneme-infer
file build/hosted/mneme-infer 2>/dev/null | grep -q "statically linked" ||
  { echo "linux_initrd: build/hosted/mneme-infer is not statically linked" >&2; exit 1; }
img=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
[ -n "$img" ] || { echo "linux_initrd: no linux-image-amd64 in apt's lists" >&2; exit 1; }
if ! ls "$debs"/"$img"_*.deb >/dev/null 2>&1 || ! ls "$debs"/busybox-static_*.deb >/dev/null 2>&1; then
  (cd "$debs" && apt-get download "$img" busybox-static >&2)
fi
root=$out/root
if [ ! -e "$out/vmlinuz" ]; then
  rm -rf "$out/kpkg" && mkdir -p "$out/kpkg"
  dpkg-deb -x "$(ls "$debs"/"$img"_*.deb | head -n 1)" "$out/kpkg"
  cp "$(ls "$out"/kpkg/boot/vmlinuz-* | head -n 1)" "$out/vmlinuz"
  rm -rf "$out/kpkg"
fi
rm -rf "$root" && mkdir -p "$root"/{bin,proc,sys,dev}
bb=$(mktemp -d)
dpkg-deb -x "$(ls "$debs"/busybox-static_*.deb | head -n 1)" "$bb"
cp "$bb/bin/busybox" "$root/bin/busybox"
rm -rf "$bb"
for a in sh mount nproc poweroff echo cat; do ln -s busybox "$root/bin/$a"; done
cp build/hosted/mneme-infer "$root/mneme-infer"
cp "$model" "$root/model.gguf"
cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
n=16
for a in $(cat /proc/cmdline); do
  case $a in bench.tokens=*) n=${a#bench.tokens=} ;; esac
done
echo "BENCH-START cpus $(nproc)"
/mneme-infer -m /model.gguf -p "Once upon a time" -n "$n" -t "$(nproc)" 2>&1
echo "BENCH-END rc $?"
poweroff -f
INIT
chmod +x "$root/init"
name=$(basename "$model" .gguf)
# the newc archive, written here (no cpio package needed)
python3 - "$root" "$out/initrd-$name.cpio" <<'PY'
import os, stat, sys
root, out = sys.argv[1], sys.argv[2]
ino = [1]
def entry(f, name, st, data):
    hdr = "070701" + "".join("%08X" % v for v in (
        ino[0], st, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0))
    ino[0] += 1
    b = hdr.encode() + name.encode() + b"\0"
    b += b"\0" * (-len(b) % 4)
    f.write(b + data + b"\0" * (-len(data) % 4))
with open(out, "wb") as f:
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            m = os.lstat(p).st_mode
            if stat.S_ISLNK(m):
                entry(f, rel, m, os.readlink(p).encode())
            elif stat.S_ISDIR(m):
                entry(f, rel, m, b"")
            else:
                entry(f, rel, m, open(p, "rb").read())
    entry(f, "TRAILER!!!", 0, b"")
PY
rm -rf "$root"
echo "$out/initrd-$name.cpio"
