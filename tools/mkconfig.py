#!/usr/bin/env python3
"""mkconfig.py: validate a mneme configuration (TOML) and bake it into
postcard bytes.

    tools/mkconfig.py config/hosted.toml --c out.c --bin out.bin \
        [--symbol mn_config_baked] [--dump]

The schema below is the one description of what a configuration may hold:
each section's keys, types, defaults and required flags, and each
service's dependencies (KERNEL, SERVICES, PLATFORMS below). lib/config.c
decodes the bytes and mirrors their field order: append new fields and
services at the end, and bump FORMAT_VERSION for any other change.

Errors (unknown keys or sections, wrong types or values, missing required
values, an enabled service whose dependency is disabled, a sermux port
used twice) are printed as "file:line: key: message", all of them, and the
exit status is 1. Python 3.11+ standard library only (tomllib).
"""

import argparse
import re
import sys
import tomllib

FORMAT_VERSION = 1
MAGIC = b"MNCF"
LEVELS = ["trace", "debug", "info", "warn", "error"]

# ---- types -----------------------------------------------------------------


class Int:
    """An integer in [lo, hi], encoded as a varint (or one byte for u8)."""

    def __init__(self, lo, hi, wire):
        self.lo, self.hi, self.wire = lo, hi, wire

    def describe(self):
        return f"an integer {self.lo}..{self.hi}"

    def convert(self, v):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"expected {self.describe()}, got {show(v)}")
        if not self.lo <= v <= self.hi:
            raise ValueError(f"{v} is out of range {self.lo}..{self.hi}")
        return v

    def encode(self, out, v):
        if self.wire == "u8":
            out.append(v)
        else:
            put_varint(out, v)


class Size(Int):
    """A byte count: an integer or a string like "256K", "1M", "2G"."""

    def describe(self):
        return 'a size (bytes, or a string like "256K" or "1M")'

    def convert(self, v):
        if isinstance(v, str):
            m = re.fullmatch(r"\s*(\d+)\s*([KkMmGg]?)\s*", v)
            if not m:
                raise ValueError(f"expected {self.describe()}, got {show(v)}")
            scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
            v = int(m.group(1)) * scale[m.group(2).lower()]
        elif isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"expected {self.describe()}, got {show(v)}")
        return super().convert(v)


class Bool:
    def describe(self):
        return "true or false"

    def convert(self, v):
        if not isinstance(v, bool):
            raise ValueError(f"expected {self.describe()}, got {show(v)}")
        return v

    def encode(self, out, v):
        out.append(1 if v else 0)


class Str:
    def __init__(self, max_len=255):
        self.max_len = max_len

    def describe(self):
        return "a string"

    def convert(self, v):
        if not isinstance(v, str):
            raise ValueError(f"expected {self.describe()}, got {show(v)}")
        if len(v.encode()) > self.max_len:
            raise ValueError(f"longer than {self.max_len} bytes")
        return v

    def encode(self, out, v):
        b = v.encode()
        put_varint(out, len(b))
        out.extend(b)


class Level:
    """A log level by name, encoded as one byte (trace 0 .. error 4)."""

    def describe(self):
        return "one of " + ", ".join(f'"{x}"' for x in LEVELS)

    def convert(self, v):
        if v not in LEVELS:
            raise ValueError(f"expected {self.describe()}, got {show(v)}")
        return v

    def encode(self, out, v):
        out.append(LEVELS.index(v))


class PortList:
    """A non-empty list of distinct u16 ports, at most max_len of them."""

    def __init__(self, max_len):
        self.max_len = max_len

    def describe(self):
        return f"a list of 1..{self.max_len} distinct ports (0..65535)"

    def convert(self, v):
        if not isinstance(v, list) or not 1 <= len(v) <= self.max_len:
            raise ValueError(f"expected {self.describe()}, got {show(v)}")
        for p in v:
            if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 0xFFFF:
                raise ValueError(f"expected {self.describe()}, got {show(v)}")
        if len(set(v)) != len(v):
            raise ValueError(f"ports repeat in {show(v)}")
        return v

    def encode(self, out, v):
        put_varint(out, len(v))
        for p in v:
            put_varint(out, p)


class IPv4:
    """A dotted IPv4 address ("" for none), encoded as a u32 varint
    (a.b.c.d is a<<24 | b<<16 | c<<8 | d; 0 for none)."""

    def describe(self):
        return 'an IPv4 address like "10.0.2.15"'

    @staticmethod
    def parse(v):
        m = re.fullmatch(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", v)
        if not m or any(int(x) > 255 for x in m.groups()):
            return None
        a, b, c, d = (int(x) for x in m.groups())
        return a << 24 | b << 16 | c << 8 | d

    def convert(self, v):
        if not isinstance(v, str) or (v != "" and self.parse(v) is None):
            raise ValueError(f"expected {self.describe()}, got {show(v)}")
        return v

    def encode(self, out, v):
        put_varint(out, self.parse(v) if v else 0)


class DnsList:
    """Up to two DNS servers, "a.b.c.d" or "a.b.c.d:port"; encoded as a
    seq of (address u32, port u16)."""

    def describe(self):
        return 'a list of at most 2 addresses like "10.0.2.3" or "10.0.2.2:5353"'

    def convert(self, v):
        if not isinstance(v, list) or len(v) > 2:
            raise ValueError(f"expected {self.describe()}, got {show(v)}")
        ports = set()
        for x in v:
            if not isinstance(x, str):
                raise ValueError(f"expected {self.describe()}, got {show(v)}")
            addr, _, port = x.partition(":")
            if IPv4.parse(addr) is None or (port and not (
                    port.isdigit() and 1 <= int(port) <= 0xFFFF)):
                raise ValueError(f"expected {self.describe()}, got {show(x)}")
            ports.add(int(port) if port else 53)
        if len(ports) > 1:
            raise ValueError("all DNS servers must use the same port")
        return v

    def encode(self, out, v):
        put_varint(out, len(v))
        for x in v:
            addr, _, port = x.partition(":")
            put_varint(out, IPv4.parse(addr))
            put_varint(out, int(port) if port else 53)


U8, U16, U32 = Int(0, 0xFF, "u8"), Int(0, 0xFFFF, "u16"), Int(0, 0xFFFFFFFF, "u32")
PORT = U16


class Key:
    def __init__(self, type_, default=None, required=False, doc=""):
        self.type, self.default, self.required, self.doc = type_, default, required, doc


class Service:
    def __init__(self, index, deps, keys, doc=""):
        self.index, self.deps, self.keys, self.doc = index, deps, keys, doc


# ---- the schema -------------------------------------------------------------

KERNEL = {
    "heap": Key(Size(4096, (1 << 64) - 1, "u64"), required=True,
                doc="bytes of memory the kernel heap may use"),
    "max_tasks": Key(Int(1, 0xFFFF, "u16"), 64, doc="most tasks at once"),
    "stack_size": Key(Size(1024, 0xFFFFFFFF, "u32"), 16384,
                      doc="default task stack size in bytes"),
    "log_level": Key(Level(), "info", doc="lowest level the kernel log prints"),
}

# Variant index = position in lib/config.c's enum mn_service_kind; never
# reorder, only append. Every service also has `enabled` (default true).
SERVICES = {
    "serial": Service(0, [], {}, "the platform's serial port driver"),
    "sermux": Service(1, ["serial"], {
        "ports": Key(Int(1, 0xFFFF, "u16"), 16, doc="most open ports"),
        "max_frame": Key(Int(8, 0xFFFF, "u32"), 512, doc="largest frame in bytes"),
    }, "serial multiplexer"),
    "loopback": Service(2, ["sermux"], {"port": Key(PORT, 0)}, "echo port"),
    "hello": Service(3, ["sermux"], {
        "port": Key(PORT, 1),
        "interval_ms": Key(Int(1, 0xFFFFFFFF, "u32"), 1000),
        "message": Key(Str(), "hello\r\n"),
    }, "prints a message periodically"),
    "pseudo_keyboard": Service(4, ["sermux", "keyboard_mux"], {"port": Key(PORT, 2)},
                               "port bytes become key presses"),
    "keyboard_mux": Service(5, [], {}, "key events from drivers to subscribers"),
    "tracing": Service(6, ["sermux"], {
        "port": Key(PORT, 3),
        "max_level": Key(Level(), "info"),
        "heartbeat_ms": Key(Int(1, 0xFFFFFFFF, "u32"), 1000),
    }, "binary tracing stream"),
    "status": Service(7, [], {}, "system status service"),
    "forth_shells": Service(8, ["sermux"], {
        "ports": Key(PortList(8), [10, 11, 12, 13]),
        "data": Key(Size(1024, 1 << 24, "u32"), 32 << 10, doc="a shell VM's data space (dictionary)"),
        "heap": Key(Size(0, 1 << 24, "u32"), 32 << 10, doc="a shell VM's ALLOCATE heap"),
        "stack_cells": Key(Int(16, 4096, "u16"), 256, doc="a shell's data stack"),
        "rstack_cells": Key(Int(16, 4096, "u16"), 256, doc="a shell's return stack"),
        "child_stack_cells": Key(Int(16, 4096, "u16"), 128, doc="a SPAWNed child's data stack"),
        "child_rstack_cells": Key(Int(16, 4096, "u16"), 128, doc="a SPAWNed child's return stack"),
    }, "Forth shells, one per port (and the VM sizes of every shell and child)"),
    "net": Service(9, [], {
        "dhcp": Key(Bool(), True, doc="address from DHCP (else address/netmask/gateway)"),
        "address": Key(IPv4(), "", doc="static address (dhcp = false)"),
        "netmask": Key(IPv4(), "255.255.255.0", doc="static netmask"),
        "gateway": Key(IPv4(), "", doc="static default route"),
        "dns": Key(DnsList(), [], doc="DNS servers; override DHCP's"),
    }, "the network service (lwIP) on the first NIC"),
}
ENABLED = Key(Bool(), True, doc="start this service")

# [platform]: `name` picks the variant; the rest is that platform's schema.
PLATFORMS = {
    "hosted": (0, {
        "serial": Key(Str(), "stdio", doc='"stdio" or "tcp:PORT"'),
    }),
    "x86_64": (1, {
        "serial_port": Key(U16, 0x3F8, doc="I/O port of the UART"),
        "framebuffer": Key(Bool(), True, doc="use the UEFI framebuffer console"),
    }),
    "aarch64": (2, {
        "framebuffer": Key(Bool(), True, doc="use the UEFI framebuffer console"),
    }),
}

# ---- postcard helpers --------------------------------------------------------


def put_varint(out, v):
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def show(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'string "{v}"'
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return f"array {v}"
    return f"{type(v).__name__} {v}"


# ---- line numbers --------------------------------------------------------------


class Lines:
    """Finds the line of a key path by scanning the TOML text (tomllib does
    not report positions): table headers set the current table, and
    `key =` lines (dotted or quoted keys too) name paths below it."""

    HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    KEY = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
                     r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")

    def __init__(self, text):
        self.where = {}
        table = ()
        in_multiline = None
        for no, line in enumerate(text.splitlines(), 1):
            if in_multiline:
                if in_multiline in line:
                    in_multiline = None
                continue
            m = self.HEADER.match(line)
            if m:
                table = self.split(m.group(1))
                self.where.setdefault(table, no)
                continue
            m = self.KEY.match(line)
            if m:
                self.where.setdefault(table + self.split(m.group(1)), no)
                for q in ('"""', "'''"):
                    if line.count(q) == 1:
                        in_multiline = q

    @staticmethod
    def split(dotted):
        parts = re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s]+', dotted)
        return tuple(p.strip("\"'") for p in parts)

    def line(self, path):
        path = tuple(path)
        while path:
            if path in self.where:
                return self.where[path]
            path = path[:-1]
        return 1


# ---- validation -------------------------------------------------------------------


class Checker:
    def __init__(self, filename, text):
        self.filename, self.lines, self.errors = filename, Lines(text), []

    def error(self, path, msg, line=None):
        if line is None:
            line = self.lines.line(path)
        self.errors.append((line, f"{self.filename}:{line}: {'.'.join(path)}: {msg}"))

    def table(self, path, value):
        if not isinstance(value, dict):
            self.error(path, f"expected a table, got {show(value)}")
            return {}
        return value

    def keys(self, path, given, schema):
        """Checks a table against {name: Key}; returns converted values."""
        out = {}
        for name in given:
            if name not in schema:
                known = ", ".join(schema) or "none"
                self.error(path + (name,), f"unknown key (known keys: {known})")
        for name, key in schema.items():
            if name not in given:
                if key.required:
                    self.error(path + (name,),
                               f"missing required value ({key.type.describe()})")
                out[name] = key.default
                continue
            try:
                out[name] = key.type.convert(given[name])
            except ValueError as e:
                self.error(path + (name,), str(e))
                out[name] = key.default
        return out

    def check(self, doc):
        for name in doc:
            if name not in ("kernel", "services", "platform"):
                self.error((name,), "unknown section (known: kernel, services, platform)")
        kernel = self.keys(("kernel",), self.table(("kernel",), doc.get("kernel", {})), KERNEL)
        services = self.check_services(self.table(("services",), doc.get("services", {})))
        platform = self.check_platform(self.table(("platform",), doc.get("platform", {})))
        return kernel, services, platform

    def check_services(self, given):
        enabled = {}
        for name, body in given.items():
            path = ("services", name)
            if name not in SERVICES:
                self.error(path, "unknown service (known: " + ", ".join(SERVICES) + ")")
                continue
            body = self.table(path, body)
            values = self.keys(path, body, {"enabled": ENABLED, **SERVICES[name].keys})
            if values.pop("enabled"):
                enabled[name] = values
        for name in enabled:
            for dep in SERVICES[name].deps:
                if dep not in enabled:
                    state = "disabled" if dep in given else "not configured"
                    self.error(("services", name),
                               f"needs service '{dep}', which is {state}"
                               f" (enable [services.{dep}])")
        self.check_ports(enabled)
        net = enabled.get("net")
        if net and not net["dhcp"] and not net["address"]:
            self.error(("services", "net", "address"),
                       "missing required value (dhcp = false needs a static address)")
        return enabled

    def check_ports(self, enabled):
        """Each sermux port has one owner, and sermux.ports is enough."""
        owner = {}
        for name, values in enabled.items():
            for key_name, key in SERVICES[name].keys.items():
                if key.type is not PORT and not isinstance(key.type, PortList):
                    continue
                ports = values[key_name] if isinstance(values[key_name], list) \
                    else [values[key_name]]
                for p in ports:
                    if p in owner:
                        self.error(("services", name, key_name),
                                   f"port {p} is already used by services.{owner[p]}")
                    owner[p] = name
        mux = enabled.get("sermux")
        if mux and len(owner) > mux["ports"]:
            self.error(("services", "sermux", "ports"),
                       f"{len(owner)} ports are used by the enabled services"
                       f" but only {mux['ports']} may be open")

    def check_platform(self, given):
        path = ("platform",)
        name = given.get("name")
        if name is None:
            self.error(path + ("name",), "missing required value (one of: "
                       + ", ".join(PLATFORMS) + ")")
            return None
        if name not in PLATFORMS:
            self.error(path + ("name",), f"unknown platform {name!r} (known: "
                       + ", ".join(PLATFORMS) + ")")
            return None
        rest = {k: v for k, v in given.items() if k != "name"}
        return name, self.keys(path, rest, PLATFORMS[name][1])


# ---- baking -------------------------------------------------------------------------


def dependency_order(enabled):
    """Services sorted so each comes after its dependencies (ties by index)."""
    done, order = set(), []
    pending = sorted(enabled, key=lambda n: SERVICES[n].index)
    while pending:
        ready = [n for n in pending if all(d in done for d in SERVICES[n].deps)]
        if not ready:
            raise SystemExit("mkconfig: dependency cycle among " + ", ".join(pending))
        order.append(ready[0])
        done.add(ready[0])
        pending.remove(ready[0])
    return order


def bake(kernel, services, platform):
    out = bytearray(MAGIC)
    put_varint(out, FORMAT_VERSION)
    for name, key in KERNEL.items():
        key.type.encode(out, kernel[name])
    order = dependency_order(services)
    put_varint(out, len(order))
    for name in order:
        svc = SERVICES[name]
        put_varint(out, svc.index)
        for key_name, key in svc.keys.items():
            key.type.encode(out, services[name][key_name])
        put_varint(out, len(svc.deps))
        for dep in svc.deps:
            put_varint(out, SERVICES[dep].index)
    pname, pvalues = platform
    index, schema = PLATFORMS[pname]
    put_varint(out, index)
    for key_name, key in schema.items():
        key.type.encode(out, pvalues[key_name])
    return bytes(out), order


def c_source(data, symbol, source):
    rows = []
    for i in range(0, len(data), 12):
        rows.append("  " + " ".join(f"0x{b:02x}," for b in data[i:i + 12]))
    body = "\n".join(rows)
    return (f"/* Generated by tools/mkconfig.py from {source}: do not edit. */\n"
            "#include <stddef.h>\n#include <stdint.h>\n\n"
            f"extern const uint8_t {symbol}[];\n"
            f"extern const size_t {symbol}_len;\n\n"
            f"const uint8_t {symbol}[{max(len(data), 1)}] = {{\n{body}\n}};\n"
            f"const size_t {symbol}_len = {len(data)};\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Validate and bake a mneme configuration.")
    ap.add_argument("config", help="TOML file (config/<target>.toml)")
    ap.add_argument("--c", help="write a C source with the bytes as a const array")
    ap.add_argument("--bin", help="write the raw postcard bytes (hosted --config);"
                    " - for stdout")
    ap.add_argument("--symbol", default="mn_config_baked",
                    help="C array name (default mn_config_baked)")
    ap.add_argument("--dump", action="store_true",
                    help="print the validated configuration and the service order")
    args = ap.parse_args(argv)

    try:
        with open(args.config, "rb") as f:
            raw = f.read()
    except OSError as e:
        print(f"{args.config}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        text = raw.decode("utf-8")
        doc = tomllib.loads(text)
    except UnicodeDecodeError as e:
        print(f"{args.config}:1: not UTF-8 text ({e.reason})", file=sys.stderr)
        return 1
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        line = m.group(1) if m else "1"
        print(f"{args.config}:{line}: syntax error: {e}", file=sys.stderr)
        return 1

    checker = Checker(args.config, text)
    kernel, services, platform = checker.check(doc)
    if checker.errors:
        for _, msg in sorted(checker.errors, key=lambda e: e[0]):
            print(msg, file=sys.stderr)
        return 1
    data, order = bake(kernel, services, platform)
    if args.dump:
        print(f"kernel: {kernel}")
        for name in order:
            print(f"service {name}: {services[name]}")
        print(f"platform {platform[0]}: {platform[1]}")
        print(f"{len(data)} bytes")
    if args.c:
        with open(args.c, "w") as f:
            f.write(c_source(data, args.symbol, args.config))
    if args.bin == "-":
        sys.stdout.buffer.write(data)
    elif args.bin:
        with open(args.bin, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
