#!/usr/bin/env bash
# bench/fs_qemu.sh: files on virtio-blk under QEMU (TCG), mneme beside
# Linux in the same QEMU on the same kind of FAT32 disk (bench/fs_qemu.py
# prints MB/s, files/s and the ratios). FS_QEMU_MB (default 16; the
# issue's 256) and FS_QEMU_FILES (default 200; the issue's 1000).
#
# Linux is Debian's own, as in bench/net_tcp.sh: linux-image-amd64's
# vmlinuz and modules (virtio-blk, vfat) and busybox-static, fetched with
# `apt-get download` into build/bench/linux (nothing installed) and made
# into an initramfs here (bench/fs_qemu_init.sh is its /init).
set -eu
cd "$(dirname "$0")/.."
make -s TARGET=x86_64 x86-image
L=build/bench/linux
mkdir -p "$L"
if [ ! -e "$L/vmlinuz" ]; then
  (
    cd "$L"
    kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
    [ -n "$kpkg" ] || { echo "fs_qemu: no linux-image-amd64 in apt's lists (apt-get update)"; exit 1; }
    ls ./linux-image-*.deb ./busybox-static*.deb >/dev/null 2>&1 ||
      apt-get download -q "$kpkg" busybox-static 2>/dev/null ||
      { echo "fs_qemu: apt-get download $kpkg busybox-static failed"; exit 1; }
    rm -rf x && mkdir x
    for d in ./*.deb; do dpkg-deb -x "$d" x; done
    cp x/boot/vmlinuz-* vmlinuz
  )
fi
if [ ! -e "$L/initrd-fs.cpio" ] || [ bench/fs_qemu_init.sh -nt "$L/initrd-fs.cpio" ]; then
  python3 - "$L" bench/fs_qemu_init.sh <<'PY'
import glob, sys
L, init = sys.argv[1], sys.argv[2]
mods = ["virtio", "virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
        "virtio_pci", "virtio_blk", "fat", "vfat", "nls_cp437", "nls_ascii", "nls_utf8"]
files = {"init": (open(init, "rb").read(), 0o100755),
         "bin/busybox": (open(L + "/x/bin/busybox", "rb").read(), 0o100755)}
for m in mods:
    p = glob.glob(L + "/x/lib/modules/*/kernel/**/%s.ko" % m, recursive=True)
    if p:
        files["m/%s.ko" % m] = (open(p[0], "rb").read(), 0o100644)
    elif m in ("virtio_blk", "fat", "vfat"):
        sys.exit("fs_qemu: module %s not in the kernel package" % m)
out = bytearray()
ino = 1
def entry(name, mode, data=b""):
    global ino
    nb = name.encode() + b"\0"
    hdr = "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x" % (
        ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
    ino += 1
    out.extend(hdr.encode() + nb)
    out.extend(b"\0" * (-len(out) % 4))
    out.extend(data)
    out.extend(b"\0" * (-len(out) % 4))
for d in ("bin", "m", "proc", "sys", "dev", "tmp", "mnt"):
    entry(d, 0o40755)
for name, (data, mode) in files.items():
    entry(name, mode, data)
entry("TRAILER!!!", 0)
open(L + "/initrd-fs.cpio", "wb").write(out)
PY
fi
exec python3 bench/fs_qemu.py
