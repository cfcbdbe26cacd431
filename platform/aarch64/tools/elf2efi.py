#!/usr/bin/env python3
"""elf2efi.py: turns mneme's AArch64 ELF (a static PIE linked by ld.lld
with platform/aarch64/link.ld) into a PE32+ UEFI application.

    elf2efi.py mneme.elf BOOTAA64.EFI

UEFI on AArch64 uses the ordinary AAPCS64 calling convention, so the
code is compiled for aarch64-none-elf (LP64, like the hosted build) and
only the container changes. Each PT_LOAD segment becomes a PE section at
the same relative address (the ELF is linked at address 0, the PE's
ImageBase is 0, the first page holds the headers): executable segments
are ".text" (read, execute), writable ones ".data" (read, write; bss as
virtual size beyond the raw data), the rest ".rdata" (read only). Every
dynamic relocation must be R_AARCH64_RELATIVE: its value (the addend) is
written into the image and the place becomes a DIR64 base relocation in
".reloc", which the firmware applies where it loads the image. Anything
else (a symbol the static link left undefined, say) is an error.
"""
import struct
import sys

PT_LOAD, PT_DYNAMIC = 1, 2
PF_X, PF_W = 1, 2
DT_NULL, DT_RELA, DT_RELASZ, DT_RELAENT, DT_REL, DT_RELSZ = 0, 7, 8, 9, 17, 18
R_AARCH64_NONE, R_AARCH64_RELATIVE = 0, 1027
PAGE = 0x1000


def fail(msg):
    sys.stderr.write("elf2efi: %s\n" % msg)
    sys.exit(1)


def align(x, a):
    return (x + a - 1) & ~(a - 1)


def read_elf(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        fail("not a little-endian ELF64 file")
    (etype, machine, _ver, entry, phoff, _shoff, _flags, _ehsize, phentsize,
     phnum) = struct.unpack_from("<HHIQQQIHHH", data, 16)
    if machine != 183:
        fail("not an AArch64 ELF (machine %d)" % machine)
    if etype not in (2, 3):
        fail("not an executable (type %d)" % etype)
    segs, dyn = [], None
    for i in range(phnum):
        (ptype, pflags, off, vaddr, _paddr, filesz, memsz,
         _al) = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if ptype == PT_LOAD and memsz:
            segs.append((vaddr, memsz, data[off:off + filesz], pflags))
        elif ptype == PT_DYNAMIC:
            dyn = data[off:off + filesz]
    if not segs:
        fail("no loadable segments")
    return entry, segs, dyn


def image_of(segs):
    """The memory image from address 0 to the end of the last segment."""
    segs = sorted(segs)
    if segs[0][0] < PAGE:
        fail("the first segment is below 0x1000 (the headers' page)")
    end = align(max(v + m for v, m, _, _ in segs), PAGE)
    img = bytearray(end)
    for v, _m, raw, _f in segs:
        img[v:v + len(raw)] = raw
    return img, segs


def relocate(img, dyn):
    """Applies R_AARCH64_RELATIVE in place; returns the relocated offsets."""
    if dyn is None:
        return []
    tags = {}
    for i in range(0, len(dyn) - 15, 16):
        tag, val = struct.unpack_from("<qQ", dyn, i)
        if tag == DT_NULL:
            break
        tags[tag] = val
    if DT_REL in tags and tags.get(DT_RELSZ):
        fail("REL relocations are not supported")
    if DT_RELA not in tags:
        return []
    rela, size = tags[DT_RELA], tags.get(DT_RELASZ, 0)
    ent = tags.get(DT_RELAENT, 24)
    places = []
    for o in range(rela, rela + size, ent):
        off, info, addend = struct.unpack_from("<QQq", img, o)
        rtype = info & 0xffffffff
        if rtype == R_AARCH64_NONE:
            continue
        if rtype != R_AARCH64_RELATIVE or info >> 32:
            fail("unsupported dynamic relocation type %d at 0x%x" % (rtype, off))
        struct.pack_into("<Q", img, off, addend & 0xffffffffffffffff)
        places.append(off)
    return sorted(places)


def reloc_section(places):
    """PE base relocation blocks (one per 4 KiB page, DIR64 entries)."""
    out = bytearray()
    pages = {}
    for p in places:
        pages.setdefault(p & ~(PAGE - 1), []).append(p & (PAGE - 1))
    for page in sorted(pages):
        ents = [(10 << 12) | o for o in pages[page]]
        if len(ents) % 2:
            ents.append(0)  # IMAGE_REL_BASED_ABSOLUTE padding
        out += struct.pack("<II", page, 8 + 2 * len(ents))
        out += b"".join(struct.pack("<H", e) for e in ents)
    if not out:  # an empty block keeps firmware that wants one happy
        out = bytearray(struct.pack("<II", 0, 8))
    return bytes(out)


def build_pe(entry, img, segs, places):
    sections = []  # (name, rva, vsize, raw bytes, characteristics)
    for v, m, raw, f in segs:
        start = v & ~(PAGE - 1)
        vsize = v + m - start
        data = bytes(img[start:start + align(v + len(raw) - start, PAGE)]) if raw else b""
        if f & PF_X:
            name, ch = b".text", 0x60000020  # code, execute, read
        elif f & PF_W:
            name, ch = b".data", 0xC0000040  # initialized data, read, write
        else:
            name, ch = b".rdata", 0x40000040  # initialized data, read
        if sections and sections[-1][1] + align(sections[-1][2], PAGE) > start:
            fail("segments share a page at 0x%x: align them in link.ld" % start)
        sections.append([name, start, vsize, data, ch])
    reloc = reloc_section(places)
    reloc_rva = align(sections[-1][1] + sections[-1][2], PAGE)
    sections.append([b".reloc", reloc_rva, len(reloc), reloc, 0x42000040])
    size_of_image = align(reloc_rva + len(reloc), PAGE)

    nsec = len(sections)
    hdr_size = align(0x40 + 4 + 20 + 240 + 40 * nsec, 0x200)
    if hdr_size > PAGE:
        fail("headers larger than a page")
    # File layout: headers, then each section's raw data at FileAlignment.
    falign = 0x200
    fileoff = hdr_size
    shdrs = b""
    body = b""
    code_size = idata_size = udata_size = 0
    for name, rva, vsize, data, ch in sections:
        rawsz = align(len(data), falign)
        ptr = fileoff if rawsz else 0
        shdrs += struct.pack("<8sIIIIIIHHI", name, vsize, rva, rawsz, ptr, 0, 0,
                             0, 0, ch)
        body += data + b"\0" * (rawsz - len(data))
        fileoff += rawsz
        if ch & 0x20:
            code_size += rawsz
        else:
            idata_size += rawsz
        udata_size += max(0, align(vsize, falign) - rawsz) if ch & 0x80000000 else 0
    text = sections[0]
    dos = bytearray(0x40)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3c, 0x40)
    coff = struct.pack("<HHIIIHH", 0xAA64, nsec, 0, 0, 0, 240,
                       0x0002 | 0x0004 | 0x0020 | 0x0200)
    dirs = [(0, 0)] * 16
    dirs[5] = (reloc_rva, len(reloc))
    opt = struct.pack("<HBBIIIIIQIIHHHHHHIIIIHHQQQQII", 0x20B, 2, 40,
                      code_size, idata_size, udata_size, entry, text[1],
                      0, PAGE, falign, 0, 0, 0, 0, 0, 0, 0,
                      size_of_image, hdr_size, 0, 10, 0,
                      0x10000, 0x10000, 0x10000, 0x10000, 0, 16)
    opt += b"".join(struct.pack("<II", a, s) for a, s in dirs)
    assert len(opt) == 240
    head = bytes(dos) + b"PE\0\0" + coff + opt + shdrs
    head += b"\0" * (hdr_size - len(head))
    return head + body


def main():
    if len(sys.argv) != 3:
        fail("usage: elf2efi.py IN.elf OUT.efi")
    data = open(sys.argv[1], "rb").read()
    entry, segs, dyn = read_elf(data)
    img, segs = image_of(segs)
    places = relocate(img, dyn)
    pe = build_pe(entry, img, segs, places)
    with open(sys.argv[2], "wb") as f:
        f.write(pe)


if __name__ == "__main__":
    main()
