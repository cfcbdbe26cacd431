# usb/: USB (docs/usb.md). usbdesc: descriptors and HID keyboards with no
# kernel (host-tested and fuzzed); usb: the xHCI host controller driver,
# portable, built on pci/ (a pci_driver the UEFI platforms register).
$(eval $(call LIBRARY,usbdesc,usb/usb_desc.c usb/hid.c))
$(eval $(call LIBRARY,usb,usb/xhci.c))

ifeq ($(HOSTED),yes)
$(eval $(call TEST,usb_hid_test,test/usb_hid_test.c,usbdesc mnerr))
TEST_SCRIPTS += test/usb_fuzz.sh
endif
FUZZ_SCRIPTS += test/usb_fuzz.sh
