# tests/qemu/lib.sh: what the x86_64 QEMU test scripts share (sourced from
# the repository's root): finding what they need, skipping with one TAP
# line when something is missing, and build steps that print a TAP line.
#
#   need_x86             QEMU, OVMF, lld, mtools, dosfstools
#   need_cmd CMD PKG     a command, from Debian package PKG
#   need_file PATH       a file (a test model, ...)
#   skip_if_missing WHAT "ok - WHAT # SKIP missing: ..." and exit 0
#   step LOG WHAT CMD... runs CMD (output appended to LOG); on failure
#                        "not ok - WHAT (log LOG)", the log's tail, exit 1
#   x86_image LOG        make image (the default one) as a step, then
#                        "ok - build the x86_64 image"
missing=

need_cmd() { command -v "$1" >/dev/null || missing="$missing $2"; }

need_file() { [ -e "$1" ] || missing="$missing $1"; }

need_x86() {
  need_cmd qemu-system-x86_64 qemu-system-x86
  [ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ -e /usr/share/OVMF/OVMF_CODE.fd ] ||
    [ -e /usr/share/ovmf/OVMF.fd ] || missing="$missing ovmf"
  need_cmd lld-link lld
  need_cmd mcopy mtools
  need_cmd mkfs.fat dosfstools
  need_cmd fsck.fat dosfstools
}

skip_if_missing() {
  if [ -n "$missing" ]; then
    echo "ok - $1 # SKIP missing:$missing (make deps)"
    exit 0
  fi
}

step() {
  local log=$1 what=$2
  shift 2
  if ! "$@" >>"$log" 2>&1; then
    echo "not ok - $what (log $log)"
    tail -20 "$log" | sed 's/^/#   /'
    exit 1
  fi
}

x86_image() {
  : >"$1"
  step "$1" "build the x86_64 image (make image)" make -s TARGET=x86_64 x86-image
  echo "ok - build the x86_64 image"
}
