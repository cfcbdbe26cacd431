# fs/: disk formats that need no kernel: partition tables (gpt.c) and
# FAT16/FAT32 with long names (fat.c); mneme-fat runs them on image files.
$(eval $(call LIBRARY,mnfs,fs/fat.c fs/gpt.c))
ifeq ($(HOSTED),yes)
$(eval $(call PROGRAM,mneme-fat,fs/fattool.c,mnfs mnerr))
$(eval $(call TEST,fat_test,test/fat_test.c,mnfs mnerr))
endif
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/fs_mtools.py test/fs_powercut.py test/fs_hostile.py test/fs_e2e.py
endif
# libFuzzer: mounting and walking mutated disks (brief in make test, longer in make fuzz)
ifeq ($(HOSTED),yes)
TEST_SCRIPTS += test/fat_fuzz.sh
endif
FUZZ_SCRIPTS += test/fat_fuzz.sh
ifeq ($(HOSTED),yes)
BENCH_SCRIPTS += bench/fs.sh
endif
# The files service on virtio-blk and NVMe disks in QEMU, LOAD-MODEL, and
# mneme killed during writes (x86_64; skip without QEMU)
TEST_SCRIPTS += tests/qemu/fs.sh tests/qemu/powercut.sh
# the power cuts twenty times (make test runs four); files on virtio-blk in
# QEMU, mneme beside Linux
BENCH_SCRIPTS += bench/fs_powercut_qemu.sh bench/fs_qemu.sh
