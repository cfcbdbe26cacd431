"""Wire helpers shared by the Python end-to-end tests: COBS (with the
0x00 delimiter rules of mnemos-wire.md) and postcard varints."""


def cobs_encode(b):
    out, blk = bytearray(), bytearray()
    for x in b:
        if x == 0:
            out.append(len(blk) + 1)
            out += blk
            blk = bytearray()
        else:
            blk.append(x)
            if len(blk) == 254:
                out.append(255)
                out += blk
                blk = bytearray()
    out.append(len(blk) + 1)
    out += blk
    return bytes(out)


def cobs_decode(b):
    """Decodes one frame (without its delimiter); ValueError if invalid."""
    out, i = bytearray(), 0
    while i < len(b):
        code = b[i]
        if code == 0 or i + code > len(b):
            raise ValueError("bad COBS frame")
        out += b[i + 1:i + code]
        i += code
        if code < 255 and i < len(b):
            out.append(0)
    return bytes(out)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)
