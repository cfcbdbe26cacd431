#!/usr/bin/env bash
# bench/net_linux.sh INIT OUT: the Linux guest of the network benchmarks
# (bench/net_tcp.sh, bench/net_latency.sh). Linux is Debian's own: the
# linux-image-amd64 kernel (its vmlinuz and virtio modules) and
# busybox-static, fetched with `apt-get download` into build/bench/linux
# (nothing but Debian packages; nothing installed); makes the initramfs
# OUT (busybox, the virtio-net modules, INIT as /init) when missing.
set -eu
cd "$(dirname "$0")/.."
init=$1
out=$2
L=build/bench/linux
mkdir -p "$L"
if [ ! -e "$L/vmlinuz" ]; then
  (
    cd "$L"
    kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
    [ -n "$kpkg" ] || { echo "net_linux: no linux-image-amd64 in apt's lists (apt-get update)"; exit 1; }
    rm -f ./*.deb
    apt-get download -q "$kpkg" busybox-static 2>/dev/null ||
      { echo "net_linux: apt-get download $kpkg busybox-static failed"; exit 1; }
    rm -rf x && mkdir x
    for d in ./*.deb; do dpkg-deb -x "$d" x; done
    cp x/boot/vmlinuz-* vmlinuz
  )
fi
if [ ! -e "$out" ] || [ "$init" -nt "$out" ]; then
  python3 - "$L" "$init" "$out" <<'PY'
import glob, os, sys
L, init, dst = sys.argv[1], sys.argv[2], sys.argv[3]
mods = ["virtio", "virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
        "virtio_pci", "failover", "net_failover", "virtio_net"]
files = {"init": (open(init, "rb").read(), 0o100755),
         "bin/busybox": (open(L + "/x/bin/busybox", "rb").read(), 0o100755)}
for m in mods:
    p = glob.glob(L + "/x/lib/modules/*/kernel/**/%s.ko" % m, recursive=True)
    if not p:
        sys.exit("net_linux: module %s not in the kernel package" % m)
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
open(dst, "wb").write(out)
PY
fi
