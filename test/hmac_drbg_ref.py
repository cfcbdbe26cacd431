#!/usr/bin/env python3
"""HMAC_DRBG (SHA-256, NIST SP 800-90A 10.1.2) written with Python's hmac
module: the reference the C test's vectors are checked against
(test/hmac_drbg_test.c runs this script when python3 is there).

Usage: hmac_drbg_ref.py ENTROPY NONCE PERS RESEED_ENTROPY OUTLEN [ADD]
(hex strings, '-' for none): instantiate, reseed if RESEED_ENTROPY is
given, generate OUTLEN bytes twice (with additional input ADD each time),
print the second output in hex (the CAVP procedure)."""
import hashlib
import hmac
import sys


class Drbg:
    def __init__(self, entropy, nonce, pers):
        self.k = b"\0" * 32
        self.v = b"\1" * 32
        self.update(entropy + nonce + pers)

    def mac(self, data):
        return hmac.new(self.k, data, hashlib.sha256).digest()

    def update(self, data=b""):
        self.k = self.mac(self.v + b"\0" + data)
        self.v = self.mac(self.v)
        if data:
            self.k = self.mac(self.v + b"\1" + data)
            self.v = self.mac(self.v)

    def reseed(self, entropy, add=b""):
        self.update(entropy + add)

    def generate(self, n, add=b""):
        if add:
            self.update(add)
        out = b""
        while len(out) < n:
            self.v = self.mac(self.v)
            out += self.v
        self.update(add)
        return out[:n]


def arg(s):
    return b"" if s == "-" else bytes.fromhex(s)


if __name__ == "__main__":
    e, n, p, r = (arg(a) for a in sys.argv[1:5])
    outlen = int(sys.argv[5])
    d = Drbg(e, n, p)
    if r:
        d.reseed(r)
    add = arg(sys.argv[6]) if len(sys.argv) > 6 else b""
    d.generate(outlen, add)
    print(d.generate(outlen, add).hex())
