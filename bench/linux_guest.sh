#!/usr/bin/env bash
# bench/linux_guest.sh INIT OUT MODULE...: the Linux guest of the
# benchmarks that run Linux beside mneme in the same QEMU (bench/net_tcp.sh,
# bench/net_latency.sh, bench/fs_qemu.sh). Linux is Debian's own: the
# linux-image-amd64 kernel (its vmlinuz and modules) and busybox-static,
# fetched with `apt-get download` into build/bench/linux (nothing but
# Debian packages; nothing installed); makes the initramfs OUT (busybox,
# the modules in /m, bench/linux_guest_lib.sh as /guest.sh for INIT to
# source, INIT as /init) when missing or older than INIT. A MODULE ending
# in ? is left out when the kernel has none (built in, or not there);
# without MODULEs, virtio-net's (for guest_virtio_net).
set -eu
cd "$(dirname "$0")/.."
init=$1
out=$2
shift 2
[ $# -gt 0 ] || set -- virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
  failover net_failover virtio_net
L=build/bench/linux
mkdir -p "$L"
if [ ! -e "$L/vmlinuz" ]; then
  (
    cd "$L"
    kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
    [ -n "$kpkg" ] || { echo "linux_guest: no linux-image-amd64 in apt's lists (apt-get update)"; exit 1; }
    ls ./linux-image-*.deb ./busybox-static*.deb >/dev/null 2>&1 ||
      apt-get download -q "$kpkg" busybox-static 2>/dev/null ||
      { echo "linux_guest: apt-get download $kpkg busybox-static failed"; exit 1; }
    rm -rf x && mkdir x
    for d in ./*.deb; do dpkg-deb -x "$d" x; done
    cp x/boot/vmlinuz-* vmlinuz
  )
fi
if [ ! -e "$out" ] || [ "$init" -nt "$out" ] || [ bench/linux_guest_lib.sh -nt "$out" ]; then
  python3 - "$L" "$init" "$out" "$@" <<'PY'
import glob, sys
L, init, dst, mods = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
files = {"init": (open(init, "rb").read(), 0o100755),
         "guest.sh": (open("bench/linux_guest_lib.sh", "rb").read(), 0o100644),
         "bin/busybox": (open(L + "/x/bin/busybox", "rb").read(), 0o100755)}
for m in mods:
    name = m.rstrip("?")
    p = glob.glob(L + "/x/lib/modules/*/kernel/**/%s.ko" % name, recursive=True)
    if p:
        files["m/%s.ko" % name] = (open(p[0], "rb").read(), 0o100644)
    elif not m.endswith("?"):
        sys.exit("linux_guest: module %s not in the kernel package" % name)
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
open(dst, "wb").write(out)
PY
fi
