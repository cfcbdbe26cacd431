# nvme/: NVM Express over PCI, portable (docs/nvme.md): queue pairs, PRP
# lists and Identify data with no kernel (nvme_queue.c), the driver as the
# blockdev service (nvme.c); built on pci/.
$(eval $(call LIBRARY,nvme,nvme/nvme.c nvme/nvme_queue.c))

ifeq ($(HOSTED),yes)
$(eval $(call TEST,nvme_test,test/nvme_test.c,nvme pci kernel plathosted kernel mnheap postcard cobs mnerr))
TEST_SCRIPTS += test/nvme_fuzz.sh
endif
FUZZ_SCRIPTS += test/nvme_fuzz.sh
