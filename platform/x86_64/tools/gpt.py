#!/usr/bin/env python3
"""gpt.py: wraps a FAT file system image into a GPT disk image.

Usage: gpt.py FAT_IMAGE DISK_IMAGE

The disk gets a protective MBR, a primary GPT (LBA 1, entries at LBA 2-33),
one EFI system partition starting at LBA 2048 (1 MiB) holding FAT_IMAGE,
and the backup GPT at the end of the disk, as the UEFI specification
(chapter 5) lays out. No root, no loop devices: plain file writes.
"""
import os
import struct
import sys
import uuid
import zlib

SECTOR = 512
ESP_TYPE = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
NENTRIES = 128
ENTRY_SIZE = 128
FIRST_LBA = 2048


def header(my_lba, alt_lba, first, last, disk_guid, entries_lba, entries_crc):
    fmt = "<8sIIIIQQQQ16sQIII"
    fields = [b"EFI PART", 0x00010000, 92, 0, 0, my_lba, alt_lba, first,
              last, disk_guid.bytes_le, entries_lba, NENTRIES, ENTRY_SIZE,
              entries_crc]
    crc = zlib.crc32(struct.pack(fmt, *fields))
    fields[3] = crc
    return struct.pack(fmt, *fields).ljust(SECTOR, b"\0")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gpt.py FAT_IMAGE DISK_IMAGE")
    fat = open(sys.argv[1], "rb").read()
    if len(fat) % SECTOR:
        sys.exit("gpt.py: FAT image size is not a multiple of 512")
    fat_sectors = len(fat) // SECTOR
    entries_sectors = NENTRIES * ENTRY_SIZE // SECTOR
    total = FIRST_LBA + fat_sectors + 2048  # 1 MiB tail room for backup GPT
    last_lba = total - 1
    last_usable = last_lba - entries_sectors - 1
    part_last = FIRST_LBA + fat_sectors - 1
    # Stable GUIDs so that the image is reproducible.
    disk_guid = uuid.uuid5(uuid.NAMESPACE_URL, "mneme-disk")
    part_guid = uuid.uuid5(uuid.NAMESPACE_URL, "mneme-esp")
    name = "EFI system partition".encode("utf-16-le").ljust(72, b"\0")
    entry = struct.pack("<16s16sQQQ72s", ESP_TYPE.bytes_le, part_guid.bytes_le,
                        FIRST_LBA, part_last, 0, name)
    entries = entry.ljust(NENTRIES * ENTRY_SIZE, b"\0")
    ecrc = zlib.crc32(entries)
    # Protective MBR: one partition of type 0xEE covering the disk.
    mbr = bytearray(SECTOR)
    size_lba = min(total - 1, 0xFFFFFFFF)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\x00\x02\x00", 0xEE,
                               b"\xff\xff\xff", 1, size_lba)
    mbr[510:512] = b"\x55\xaa"
    primary = header(1, last_lba, 34, last_usable, disk_guid, 2, ecrc)
    backup = header(last_lba, 1, 34, last_usable, disk_guid,
                    last_lba - entries_sectors, ecrc)
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "wb") as f:
        f.truncate(total * SECTOR)
        f.write(mbr)
        f.write(primary)
        f.write(entries)
        f.seek(FIRST_LBA * SECTOR)
        f.write(fat)
        f.seek((last_lba - entries_sectors) * SECTOR)
        f.write(entries)
        f.write(backup)
    os.replace(tmp, sys.argv[2])


if __name__ == "__main__":
    main()
