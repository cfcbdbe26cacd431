# virtio/: the virtio 1.0 PCI transport and its device drivers, portable
# (docs/virtio.md); built on pci/.
VIRTIO_SRCS := virtio/virtio_pci.c virtio/virtio_net.c virtio/netdev_probe.c \
               virtio/virtio_blk.c virtio/blockdev_probe.c
$(eval $(call LIBRARY,virtio,$(VIRTIO_SRCS)))
TEST_SCRIPTS += tests/qemu/pci.sh

ifeq ($(HOSTED),yes)
VIRTIO_TEST_LIBS := virtio pci kernel plathosted kernel mnheap postcard cobs mnerr
$(eval $(call TEST,virtio_net_test,test/virtio_net_test.c,$(VIRTIO_TEST_LIBS)))
$(eval $(call TEST,virtio_blk_test,test/virtio_blk_test.c,$(VIRTIO_TEST_LIBS)))
endif

# The split virtqueue against a hostile device (libFuzzer).
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/virtq_fuzz.sh
endif
FUZZ_SCRIPTS += test/virtq_fuzz.sh

# TCP through virtio-net, mneme beside Linux in the same QEMU.
BENCH_SCRIPTS += bench/net_tcp.sh
# Connection set-up time and ping round trip, mneme beside Linux.
BENCH_SCRIPTS += bench/net_latency.sh
