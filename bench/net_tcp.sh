#!/usr/bin/env bash
# bench/net_tcp.sh: TCP throughput through virtio-net under QEMU (TCG),
# mneme beside Linux in the same QEMU (bench/net_tcp.py prints MB/s both
# ways and the ratios).
#
# Linux is Debian's own: the linux-image-amd64 kernel (its vmlinuz and
# virtio modules) and busybox-static, fetched with `apt-get download`
# into build/bench/linux (nothing but Debian packages; nothing installed)
# and made into an initramfs here (bench/net_tcp_init.sh is its /init).
set -eu
cd "$(dirname "$0")/.."
make -s TARGET=x86_64 x86-image
L=build/bench/linux
mkdir -p "$L"
if [ ! -e "$L/initrd.cpio" ]; then
  (
    cd "$L"
    kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
    [ -n "$kpkg" ] || { echo "net_tcp: no linux-image-amd64 in apt's lists (apt-get update)"; exit 1; }
    rm -f ./*.deb
    apt-get download -q "$kpkg" busybox-static 2>/dev/null ||
      { echo "net_tcp: apt-get download $kpkg busybox-static failed"; exit 1; }
    rm -rf x && mkdir x
    for d in ./*.deb; do dpkg-deb -x "$d" x; done
    cp x/boot/vmlinuz-* vmlinuz
  )
  python3 - "$L" bench/net_tcp_init.sh <<'PY'
import glob, os, sys
L, init = sys.argv[1], sys.argv[2]
mods = ["virtio", "virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
        "virtio_pci", "failover", "net_failover", "virtio_net"]
files = {"init": (open(init, "rb").read(), 0o100755),
         "bin/busybox": (open(L + "/x/bin/busybox", "rb").read(), 0o100755)}
for m in mods:
    p = glob.glob(L + "/x/lib/modules/*/kernel/**/%s.ko" % m, recursive=True)
    if not p:
        sys.exit("net_tcp: module %s not in the kernel package" % m)
    files["m/%s.ko" % m] = (open(p[0], "rb").read(), 0o100644)
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
for d in ("bin", "m", "proc", "sys", "dev", "tmp"):
    entry(d, 0o40755)
for name, (data, mode) in files.items():
    entry(name, mode, data)
entry("TRAILER!!!", 0)
open(L + "/initrd.cpio", "wb").write(out)
PY
fi
exec python3 bench/net_tcp.py
