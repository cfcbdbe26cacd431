# pci/: PCI and PCI Express, portable (docs/pci.md). The bus code reaches
# the hardware only through the platform hooks in include/mneme/pci.h.
PCI_SRCS := pci/pci.c pci/pci_svc.c
$(eval $(call LIBRARY,pci,$(PCI_SRCS)))

ifeq ($(HOSTED),yes)
$(eval $(call TEST,pci_test,test/pci_test.c,pci mnerr))
endif
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/pci_fuzz.sh
endif
FUZZ_SCRIPTS += test/pci_fuzz.sh
