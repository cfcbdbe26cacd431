#!/usr/bin/env bash
# platform/aarch64/qemu.sh: boots mneme's aarch64 image in QEMU (virt,
# -cpu max, GICv3, TCG) with AAVMF (Debian's qemu-efi-aarch64).
#
#   make run ARCH=aarch64        serial on this terminal (Ctrl-A x quits QEMU)
#   make run ARCH=aarch64 GUI=1  also a window with the framebuffer console,
#                                typed on with a USB keyboard (qemu-xhci +
#                                usb-kbd: the virt machine has no PS/2)
#   make debug ARCH=aarch64      QEMU halted with the gdb stub on :1234, and
#                                build/aarch64/gdbinit (gdb-multiarch)
#   MEM=1024 GIC=2 make run ARCH=aarch64   memory in MiB (default 512), GICv2
#
# Installs what is missing (tools/deps.sh), builds build/aarch64/mneme.img.
set -eu
cd "$(dirname "$0")/../.."
tools/deps.sh
make -s TARGET=aarch64 a64-image
O=build/aarch64
code=/usr/share/AAVMF/AAVMF_CODE.fd
[ -e "$code" ] || { echo "qemu.sh: AAVMF not found (apt-get install qemu-efi-aarch64)"; exit 1; }
cp /usr/share/AAVMF/AAVMF_VARS.fd $O/aavmf-vars.fd
args=(-machine "virt,gic-version=${GIC:-3}" -cpu max -m "${MEM:-512}" -no-reboot -nic none
      -device ramfb -device qemu-xhci -device usb-kbd
      -drive if=pflash,format=raw,readonly=on,file="$code"
      -drive if=pflash,format=raw,file=$O/aavmf-vars.fd
      -drive format=raw,snapshot=on,file=$O/mneme.img)
if [ "${GUI:-0}" = 1 ]; then
  args+=(-serial mon:stdio)
else
  args+=(-display none -serial mon:stdio)
fi
if [ "${DEBUG:-0}" = 1 ]; then
  # AAVMF loads mneme.efi at the same address on every boot of the same
  # machine configuration: learn it from a first boot's banner.
  echo "debug: finding the load address (one boot, ~15 s)..."
  base=$(timeout 120 python3 tests/qemu/qemu.py --arch aarch64 $O/mneme.img "${MEM:-512}" \
           --until 'image at [0-9a-f]{16}' --timeout 120 2>/dev/null |
         sed -n 's/.*image at \([0-9a-f]*\).*/\1/p' | head -n 1 || true)
  cp /usr/share/AAVMF/AAVMF_VARS.fd $O/aavmf-vars.fd
  {
    echo "set architecture aarch64"
    echo "target remote :1234"
    if [ -n "$base" ]; then
      echo "add-symbol-file $O/mneme.elf -o 0x$base"
    else
      echo "echo could not learn the load address; use add-symbol-file by hand\\n"
    fi
    echo "break a64_main"
  } > $O/gdbinit
  echo "debug: image at 0x${base:-?}; in another terminal: gdb-multiarch -x $O/gdbinit"
  args+=(-s -S)
fi
exec qemu-system-aarch64 "${args[@]}"
