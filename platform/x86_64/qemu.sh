#!/usr/bin/env bash
# platform/x86_64/qemu.sh: boots mneme's x86_64 image in QEMU with OVMF.
#
#   make qemu            serial on this terminal (Ctrl-A x quits QEMU)
#   make qemu GUI=1      also a window with the framebuffer console
#   make debug           QEMU halted with the gdb stub on :1234, and
#                        build/x86_64/gdbinit that loads the symbols at
#                        the address the firmware loads mneme.efi
#   MEM=1024 make qemu   memory in MiB (default 512)
#   NET=none make qemu   no network card (default: a virtio-net NIC on
#                        QEMU's user network: 10.0.2.15, gateway 10.0.2.2)
#   SMP=2 make qemu      cores (default: all of the host's, multi-threaded TCG)
#   make run MODEL=x.gguf  with a model on the ESP (GENERATE, llm-local)
#   make run MODEL=x.gguf SERVE=1   ... and the OpenAI-compatible server on
#                        the guest's port 8080, forwarded from the host's
#                        127.0.0.1:${SERVE_HOST_PORT:-8080}
#   VARS=path make run   the UEFI variables file (default build/x86_64/
#                        ovmf-vars.fd), kept between runs: mneme's saved
#                        settings and conversations live there
#   RESET_VARS=1 make run   start again from the firmware's empty variables
#   USB=1 make run GUI=1    a USB keyboard (qemu-xhci + usb-kbd) instead of
#                        PS/2: the window's keys go through xHCI (docs/usb.md)
#
# Installs what is missing (tools/deps.sh), builds build/x86_64/mneme.img.
# KVM is not used: QEMU runs under TCG, which works everywhere.
set -eu
cd "$(dirname "$0")/../.."
tools/deps.sh
make -s TARGET=x86_64 x86-image
O=build/x86_64
code=
for c in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_CODE.fd; do
  [ -e "$c" ] && { code=$c; break; }
done
[ -n "$code" ] || { echo "qemu.sh: OVMF not found (apt-get install ovmf)"; exit 1; }
# The variables template of the same flash size as the code: the 4 MiB
# code with OVMF_VARS_4M.fd, the 2 MiB one with OVMF_VARS.fd.
case $code in
  *_4M.fd) vars=/usr/share/OVMF/OVMF_VARS_4M.fd ;;
  *) vars=/usr/share/OVMF/OVMF_VARS.fd ;;
esac
[ -e "$vars" ] || { echo "qemu.sh: $vars not found (apt-get install ovmf)"; exit 1; }
# Our own copy, kept between runs (the firmware writes mneme's settings
# there); a fresh one when missing, asked for, or of another size.
varsfile=${VARS:-$O/ovmf-vars.fd}
if [ "${RESET_VARS:-0}" = 1 ] || [ ! -s "$varsfile" ] ||
   [ "$(stat -c %s "$varsfile")" != "$(stat -c %s "$vars")" ]; then
  cp "$vars" "$varsfile"
fi
if [ "${NET:-user}" = none ]; then
  nic=(-nic none)
else
  fwd=
  case "${SERVE:-}" in
    1|yes) fwd=",hostfwd=tcp:127.0.0.1:${SERVE_HOST_PORT:-${SERVE_PORT:-8080}}-:${SERVE_PORT:-8080}" ;;
  esac
  nic=(-netdev "user,id=net0$fwd" -device virtio-net-pci,netdev=net0)
fi
smp=${SMP:-$(nproc)}
args=(-machine q35 -cpu max -m "${MEM:-512}" -no-reboot "${nic[@]}"
      -smp "$smp" -accel tcg,thread=multi
      -device isa-debug-exit,iobase=0xf4,iosize=0x04
      -drive if=pflash,format=raw,readonly=on,file="$code"
      -drive if=pflash,format=raw,file="$varsfile"
      -drive format=raw,snapshot=on,file=$O/mneme.img)
if [ "${USB:-0}" = 1 ]; then
  args+=(-device qemu-xhci -device usb-kbd)
fi
if [ "${GUI:-0}" = 1 ]; then
  args+=(-serial mon:stdio)
else
  args+=(-display none -serial mon:stdio)
fi
if [ "${DEBUG:-0}" = 1 ]; then
  # The firmware loads mneme.efi at the same address on every boot of the
  # same machine configuration: learn it from a first boot's banner.
  echo "debug: finding the load address (one boot, ~10 s)..."
  base=$(timeout 120 python3 tests/qemu/qemu.py $O/mneme.img "${MEM:-512}" \
           --until 'image at [0-9a-f]{16}' --timeout 120 2>/dev/null |
         sed -n 's/.*image at \([0-9a-f]*\).*/\1/p' | head -n 1 || true)
  pref=$(python3 -c "import struct,sys;d=open('$O/BOOTX64.EFI','rb').read();p=struct.unpack_from('<I',d,0x3c)[0];print(hex(struct.unpack_from('<Q',d,p+24+24)[0]))")
  off=$(python3 -c "print(hex(int('${base:-0}',16)-int('$pref',16)) if '${base}' else '')")
  {
    echo "target remote :1234"
    if [ -n "$off" ]; then
      echo "add-symbol-file $O/mneme.debug.efi -o $off"
    else
      echo "echo could not learn the load address; use add-symbol-file by hand\\n"
    fi
    echo "break x86_main"
  } > $O/gdbinit
  echo "debug: image at 0x${base:-?}; in another terminal: gdb -x $O/gdbinit"
  args+=(-s -S)
fi
exec qemu-system-x86_64 "${args[@]}"
