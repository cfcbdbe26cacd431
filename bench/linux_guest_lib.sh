# bench/linux_guest_lib.sh: /guest.sh in the initramfs of the benchmarks'
# Linux guest (bench/linux_guest.sh), sourced first by each /init
# (busybox sh): installs busybox's applets, mounts /proc, /sys and /dev,
# and gives the inits their common steps.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

# guest_modules M...: loads the modules in order (those in /m: one the
# kernel has built in is not there).
guest_modules() {
  for m in "$@"; do
    [ -e /m/$m.ko ] && { insmod /m/$m.ko || echo "insmod $m failed"; }
  done
}

# guest_arg NAME DEFAULT: the value of NAME=... on the kernel command line.
guest_arg() {
  v=$2
  for a in $(cat /proc/cmdline); do
    case $a in "$1"=*) v=${a#"$1"=} ;; esac
  done
  echo "$v"
}

# guest_virtio_net: loads virtio-net and brings up eth0 as QEMU's user
# network would by DHCP (10.0.2.15/24, gateway 10.0.2.2).
guest_virtio_net() {
  guest_modules virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
    failover net_failover virtio_net
  i=0
  while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  ip link set lo up
  ip link set eth0 up
  ip addr add 10.0.2.15/24 dev eth0
  ip route add default via 10.0.2.2
}
