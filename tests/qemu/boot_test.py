#!/usr/bin/env python3
"""boot_test.py: integration tests of mneme on x86_64 under QEMU (TCG).

Boots build/x86_64/mneme.img with OVMF and checks, printing TAP lines:
the boot banner and the Forth shell's ` ok` prompt on serial; Forth typed
on serial echoed and run (SPAWN, STATUS, Ctrl-C); the platform's words
(MEM against QEMU's -m, PS, FPU); the timer; Forth typed on the PS/2
keyboard (QEMU sendkey), echoed and edited on the framebuffer console
(QEMU screendump compared with the PSF font, cell by cell); a USB
keyboard hot-added on qemu-xhci types there too, repeats a held key, and
types again after device_del / device_add (usb_checks). Faults end
only their task (one boot): FAULT-DIV, FAULT-UD, FAULT (a read of an
unmapped address) and FAULT-GP in SPAWNed VMs print a dump and JOIN sees
THROW -304; OVERFLOW (a stack overflow into a guard page) ends its kernel
task; FAULT in the console's own VM ends that session; a background VM
keeps answering messages and the shell answers throughout. FAULT-CLI (a fault with
interrupts off, as in kernel critical code) prints a dump and stops the
machine (no silent reset).
"""
import gzip
import calendar
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Qemu  # noqa: E402

IMAGE = os.environ.get("IMAGE", "build/x86_64/mneme.img")
FONT = os.environ.get("X86_FONT", "/usr/share/consolefonts/Lat15-Terminus16.psf.gz")
MEM_MB = 256
PROMPT = rb" ok\r\n"
results = []


def tap(ok, what, detail=""):
    ok = bool(ok)
    results.append(ok)
    print("%s - %s" % ("ok" if ok else "not ok", what))
    if detail and not ok:
        for line in str(detail).splitlines()[-12:]:
            print("#   " + line)
    sys.stdout.flush()


def load_font():
    """Returns (width, height, {char: rows}) for ASCII from the PSF1 font."""
    data = open(FONT, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    assert data[:2] == b"\x36\x04", "PSF1 font expected"
    mode, h = data[2], data[3]
    n = 512 if mode & 1 else 256
    glyphs = [data[4 + i * h: 4 + (i + 1) * h] for i in range(n)]
    umap, pos, g = {}, 4 + n * h, 0
    while mode & 6 and g < n and pos + 1 < len(data):
        u = data[pos] | data[pos + 1] << 8
        pos += 2
        if u == 0xFFFF:
            g += 1
        elif u != 0xFFFE:
            umap.setdefault(u, g)
    return 8, h, {chr(c): glyphs[umap.get(c, c)] for c in range(32, 127)}


def cell_bits(shot, x0, y0, fw, fh):
    """Reads a cell of the screendump as rows of bits (bright = 1)."""
    w, _, px = shot
    rows = []
    for y in range(fh):
        bits = 0
        for x in range(fw):
            o = ((y0 + y) * w + x0 + x) * 3
            if px[o] + px[o + 1] + px[o + 2] > 200:
                bits |= 0x80 >> x
        rows.append(bits)
    return bytes(rows)


def find_text(shot, text, font):
    """Returns (col, row) of the last cell-aligned occurrence of text."""
    fw, fh, glyphs = font
    w, h, _ = shot
    cols, rows = w // fw, h // fh
    want = [glyphs[c] for c in text]
    found = None
    for r in range(rows):
        for c in range(cols - len(text) + 1):
            if all(cell_bits(shot, (c + i) * fw, r * fh, fw, fh) == want[i]
                   for i in range(len(text))):
                found = (c, r)
    return found


def boot(name, extra=()):
    q = Qemu(IMAGE, MEM_MB, timeout=240, extra=extra)
    try:
        q.expect(rb"mneme\S* x86_64 \(UEFI\)", timeout=150)
        q.expect(rb"mneme Forth\r\n +ok\r\n")
        tap(True, "%s: boots to the banner and the Forth prompt on serial" % name)
    except Exception as e:  # noqa: BLE001
        tap(False, "%s: boots to the banner and the Forth prompt on serial" % name, e)
        q.close()
        return None
    return q


def command(q, line, reply, timeout=30):
    start = len(q.out)
    q.write(line.encode() + b"\r")
    return q.expect(reply, timeout=timeout, start=start)


def screen_has(q, font, texts, timeout=30):
    """Polls screendumps until every text shows; returns their cells."""
    deadline = time.monotonic() + timeout
    while True:
        shot = q.screendump()
        where = [find_text(shot, t, font) for t in texts]
        if all(where) or time.monotonic() > deadline:
            return where
        time.sleep(1)


def healthy(q):
    """After a failed step: True if the machine still answers (so the next
    steps can pass); else says so once, and the caller skips the rest of
    this boot instead of waiting out every step's timeout."""
    if q.proc.poll() is not None:
        tap(False, "QEMU exited (status %s): the rest of this boot is skipped"
            % q.proc.returncode, q.out[-300:])
        return False
    try:
        command(q, "\x03", rb"ok\r\n", timeout=30)  # Ctrl-C, then an empty line
        command(q, "1 .", rb"1 \. 1  ok\r\n", timeout=30)
        return True
    except Exception as e:  # noqa: BLE001
        tap(False, "the serial shell stopped answering: the rest of this boot is skipped", e)
        return False


def main_boot():
    # xHCI with a USB 3 device (usb-storage, which mneme does not drive) and
    # a HID device that is no keyboard (usb-mouse): enumerated, not used.
    stick = tempfile.NamedTemporaryFile(prefix="mneme-usb-", suffix=".img")
    stick.truncate(1 << 20)
    q = boot("boot", extra=["-device", "qemu-xhci,id=xhci", "-device", "usb-mouse",
                            "-drive", "if=none,id=stick,format=raw,file=" + stick.name,
                            "-device", "usb-storage,drive=stick"])
    if not q:
        stick.close()
        return
    try:
        try:
            start = len(q.out)
            command(q, "USB", rb"USB\s+\r\n(?:.*\r\n)*? ok\r\n")
            text = q.out[start:]
            tap(bool(re.search(rb"port \d+ usb3 super speed slot \d+ 46f4:0001 not a keyboard", text)
                     and re.search(rb"port \d+ usb2 \w+ speed slot \d+ 0627:0001 not a keyboard",
                                   text)),
                "USB: xHCI enumerates a USB 3 device (super speed) and a HID mouse (its "
                "report descriptor parsed: not a keyboard)", text)
        except Exception as e:  # noqa: BLE001
            tap(False, "USB lists the devices on the xHCI ports", e)
            if not healthy(q):
                return
        try:
            m = command(q, "MEM", rb"mem: (\d+) KiB usable")
            kib = int(m.group(1))
            ok = MEM_MB * 1024 - 16 * 1024 <= kib <= MEM_MB * 1024
            tap(ok, "MEM reports %d KiB usable of -m %d MiB (within 16 MiB)" %
                (kib, MEM_MB), q.out[-400:])
        except Exception as e:  # noqa: BLE001
            tap(False, "MEM", e)
            if not healthy(q):
                return
        try:
            m = command(q, "MEM", rb"heap: (\d+) KiB total")
            kib = int(m.group(1))
            tap(MEM_MB * 1024 - 16 * 1024 <= kib <= MEM_MB * 1024,
                "the kernel heap manages %d KiB of -m %d MiB (within 16 MiB)" % (kib, MEM_MB))
        except Exception as e:  # noqa: BLE001
            tap(False, "the kernel heap size", e)
            if not healthy(q):
                return
        try:
            start = len(q.out)
            command(q, "PS", rb"console +running.*\r\n(.*\r\n)* ok\r\n")
            tap(all(t in q.out[start:] for t in (b"serial-rx", b"serial-tx", b"status",
                                               b"ps2-kbd", b"console-fb")),
                "PS lists the kernel's tasks (shells, serial, keyboard, status)", q.out[-900:])
        except Exception as e:  # noqa: BLE001
            tap(False, "PS lists the kernel's tasks", e)
            if not healthy(q):
                return
        try:
            command(q, "2 3 + .", rb"2 3 \+ \. 5  ok\r\n")
            command(q, ": sq dup * ; 7 sq .", rb"7 sq \. 49  ok\r\n")
            tap(True, "Forth typed on serial is echoed and runs")
        except Exception as e:  # noqa: BLE001
            tap(False, "Forth typed on serial is echoed and runs", e)
            if not healthy(q):
                return
        try:
            # QEMU's RTC (and so UEFI GetTime and the CMOS RTC) follows the
            # host's clock in UTC: TIME&DATE's year is this year.
            m = command(q, "TIME&DATE . . . . . .",
                        rb"TIME&DATE[ .]*\. (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)  ok\r\n")
            year, month = int(m.group(1)), int(m.group(2))
            now = time.gmtime()
            tap(year == now.tm_year and 1 <= month <= 12, "TIME&DATE's year %d is the host's "
                "year %d (time service: UEFI GetTime / CMOS RTC)" % (year, now.tm_year),
                q.out[-300:])
            m = command(q, "DATE", rb"DATE\s+(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(([^)]*)\)\s+ok")
            host = time.time()
            shown = calendar.timegm(time.strptime(m.group(1).decode(), "%Y-%m-%dT%H:%M:%SZ"))
            tap(abs(shown - host) < 120, "DATE prints ISO 8601 UTC within 2 minutes of the "
                "host (%s, from %s)" % (m.group(1).decode(), m.group(2).decode()), q.out[-300:])
            m = command(q, "RANDOM . RANDOM .", rb"RANDOM \. (-?\d+) (-?\d+)  ok\r\n")
            tap(m.group(1) != m.group(2), "RANDOM gives cells from the entropy service "
                "(RDSEED/RDRAND under -cpu max)", q.out[-300:])
        except Exception as e:  # noqa: BLE001
            tap(False, "TIME&DATE, DATE and RANDOM", e)
            if not healthy(q):
                return
        try:
            command(q, ': hello 3 0 do ." tick " 100 ms loop ;', rb"loop ;  ok\r\n")
            command(q, "' hello spawn .", rb"tick tick tick ", timeout=60)
            m = command(q, ": slow 100 0 do 100 ms loop ; ' slow spawn drop status",
                        rb"forth VMs (\d+)\r\n(?:[^\r\n]*\r\n)*? ok\r\n", timeout=60)
            tap(int(m.group(1)) >= 2, "SPAWN runs a word on its own task (kernel timers); "
                "STATUS counts the VMs", q.out[-600:])
        except Exception as e:  # noqa: BLE001
            tap(False, "SPAWN runs a word on its own task; STATUS counts it", e)
            if not healthy(q):
                return
        try:
            command(q, ": spin begin again ; spin", rb"spin\s")
            start = len(q.out)
            q.write(b"\x03")
            q.expect(rb"-28|nterrupt", timeout=30, start=start)
            command(q, "1 .", rb"1 \. 1  ok\r\n")
            tap(True, "Ctrl-C interrupts an endless word; the shell goes on")
        except Exception as e:  # noqa: BLE001
            tap(False, "Ctrl-C interrupts an endless word", e)
            if not healthy(q):
                return
        try:
            m = command(q, "FPU", rb"across task switches: (ok|FAILED|not checked)\r\n")
            text = q.out[-300:]
            tap(b"across interrupts: ok" in text and m.group(1) == b"ok",
                "AVX/SSE state survives interrupts and task switches", text)
        except Exception as e:  # noqa: BLE001
            tap(False, "AVX/SSE state survives interrupts and task switches", e)
            if not healthy(q):
                return
        try:
            m = command(q, "UPTIME 300 MS UPTIME SWAP - .", rb"SWAP - \. (\d+)  ok")
            ns = int(m.group(1))
            tap(ns >= 300000000, "300 MS waits at least 300 ms (%d ns)" % ns)
        except Exception as e:  # noqa: BLE001
            tap(False, "timer: MS", e)
            if not healthy(q):
                return
        font = load_font()
        try:
            if b"the setup wizard is shown" in q.out:  # a fresh variables file
                q.hmp("sendkey esc", settle=0.2)  # skips it: the Forth console
            where = screen_has(q, font, ["mneme Forth"])
            tap(where[0] is not None, "framebuffer shows the console shell's banner "
                "(at %s)" % (where[0],))
        except Exception as e:  # noqa: BLE001
            tap(False, "framebuffer shows the console shell's banner", e)
            if not healthy(q):
                return
        try:
            q.sendkeys("6 7 * .\n")
            where = screen_has(q, font, ["6 7 * . 42  ok"])
            tap(where[0] is not None,
                "PS/2 keys (with Shift) are echoed on the framebuffer and run (at %s)" % (where[0],))
        except Exception as e:  # noqa: BLE001
            tap(False, "PS/2 keys (with Shift) are echoed on the framebuffer and run", e)
            if not healthy(q):
                return
        try:
            q.sendkeys("7X 3Y5 +")
            for k in ("home", "right", "delete", "end", "left", "left", "left",
                      "backspace", "end"):
                q.hmp("sendkey " + k, settle=0.05)
            q.sendkeys(" .\n")
            where = screen_has(q, font, ["7 35 + . 42  ok", "6 7 * . 42  ok"])
            tap(where[0] is not None and where[1] is not None and where[0][1] > where[1][1],
                "PS/2 editing keys (Home, End, Left, Right, Delete, Backspace) edit the "
                "line (at %s, below %s)" % (where[0], where[1]))
        except Exception as e:  # noqa: BLE001
            tap(False, "PS/2 editing keys edit the line", e)
            if not healthy(q):
                return
        usb_checks(q, font, plugged=False)
    finally:
        q.close()
        stick.close()


def usb_reports(q):
    """The USB word on serial: {port: reports} of the keyboards listed."""
    start = len(q.out)
    command(q, "USB", rb"USB\s+\r\n(?:.*\r\n)*? ok\r\n")
    return {int(p): int(n) for p, n in
            re.findall(rb"port (\d+) usb\d [^\r\n]* keyboard \(boot protocol\), (\d+) reports",
                       q.out[start:])}


def usb_checks(q, font, plugged):
    """USB keyboard on qemu-xhci (both architectures): keys typed with QEMU
    sendkey reach the framebuffer shell through xHCI and the keyboard mux
    (the USB word counts the reports on serial), a held key repeats,
    unplugging and plugging again (device_del / device_add) types again.
    plugged: a usb-kbd was on QEMU's command line; else one is added."""
    attached = rb"xhci\d: port (\d+): \w+ speed device 0627:0001 slot \d+, HID keyboard \(boot protocol\)"
    try:
        start = len(q.out)
        if not plugged:
            q.hmp("device_add usb-kbd,id=ukbd")
        q.expect(attached, timeout=60, start=0 if plugged else start)
        q.sendkeys("1 2 + .\n")
        where = screen_has(q, font, ["1 2 + . 3  ok"])
        reps = usb_reports(q)
        tap(where[0] is not None and sum(reps.values()) >= 14,
            "USB keyboard (xHCI, %s): keys reach the framebuffer shell (at %s; reports %s)"
            % ("on the command line" if plugged else "hot-added", where[0], reps), q.out[-600:])
    except Exception as e:  # noqa: BLE001
        tap(False, "USB keyboard: keys reach the framebuffer shell", e)
        if not healthy(q):
            return False
    try:
        q.hmp("sendkey x 1500", settle=0.2)  # held 1.5 s: 500 ms delay, then 30/s
        q.hmp("sendkey ret", settle=0.05)  # queued by QEMU after the release
        # the line ran: Forth names the unknown word, one press and >= 3 repeats
        where = screen_has(q, font, ["xxxx: undefined word"])
        tap(where[0] is not None, "a held USB key repeats (at %s)" % (where[0],))
    except Exception as e:  # noqa: BLE001
        tap(False, "a held USB key repeats", e)
        if not healthy(q):
            return False
    try:
        start = len(q.out)
        q.hmp("device_del ukbd")
        q.expect(rb"xhci\d: port \d+: device detached", timeout=60, start=start)
        tap(usb_reports(q) == {}, "device_del: the USB keyboard is detached, USB lists none")
        start = len(q.out)
        q.hmp("device_add usb-kbd,id=ukbd2")
        q.expect(attached, timeout=60, start=start)
        q.sendkeys("5 5 * .\n")
        where = screen_has(q, font, ["5 5 * . 25  ok"])
        reps = usb_reports(q)
        tap(where[0] is not None and sum(reps.values()) >= 14,
            "device_add again: the new USB keyboard types (at %s; reports %s)" % (where[0], reps),
            q.out[-600:])
    except Exception as e:  # noqa: BLE001
        tap(False, "USB keyboard hot-plug (device_del, device_add) types again", e)
        return healthy(q)
    return True


def expect_dump(q, cmd, what, patterns, dump="vector, registers, backtrace"):
    """Types cmd, which must print a fault dump (each of patterns, then the
    halt line) and stop the machine (QEMU's exit status 7)."""
    start = len(q.out)
    q.write(cmd.encode() + b"\r")
    try:
        for p in patterns:
            q.expect(p, timeout=60, start=start)
        q.expect(rb"\*\*\* machine halted", timeout=30, start=start)
        tap(True, "%s prints a dump (%s)" % (what, dump))
    except Exception as e:  # noqa: BLE001
        tap(False, "%s prints a dump (%s)" % (what, dump), e)
    rc = q.wait_exit(30)
    tap(rc == 7, "%s stops the machine (QEMU exit status %s, want 7)" % (what, rc))


def fault_boot(cmd, what, patterns):
    q = boot(cmd)
    if not q:
        return
    try:
        expect_dump(q, cmd, what, patterns)
    finally:
        q.close()


def fault_tasks():
    q = boot("faults in tasks")
    if not q:
        return
    try:
        try:
            # A child's data space is its own: it answers through its inbox.
            command(q, ": echo begin RECV 1+ PARENT SEND again ; ' echo SPAWN VALUE eid 41 eid SEND RECV .",
                    rb"RECV \. 42  ok\r\n")
            tap(True, "a background VM answers messages")
        except Exception as e:  # noqa: BLE001
            tap(False, "a background VM answers messages", e)
            return
        for word, dump in (("FAULT-DIV", rb"EXCEPTION 0: #DE divide error"),
                           ("FAULT-UD", rb"EXCEPTION 6: #UD invalid opcode"),
                           ("FAULT", rb"EXCEPTION 14: #PF page fault"),
                           ("FAULT-GP", rb"EXCEPTION 13: #GP general protection")):
            try:
                start = len(q.out)
                q.write(("' %s SPAWN JOIN ." % word).encode() + b"\r")
                q.expect(dump, timeout=60, start=start)
                q.expect(rb"task: forth-\d+", timeout=30, start=start)
                q.expect(rb"\*\*\* task forth-\d+ ends; the kernel and the other tasks go on",
                         timeout=30, start=start)
                q.expect(rb"-304  ok\r\n", timeout=30, start=start)
                command(q, "2 3 + .", rb"2 3 \+ \. 5  ok\r\n")
                tap(True, "%s in a SPAWNed VM: a dump, that task ends (JOIN gives -304), "
                    "the shell answers" % word)
            except Exception as e:  # noqa: BLE001
                tap(False, "%s in a SPAWNed VM ends only that task" % word, e)
                if not healthy(q):
                    return
        try:
            command(q, "99 eid SEND RECV .", rb"RECV \. 100  ok\r\n", timeout=60)
            tap(True, "the background VM still answers after the faults")
        except Exception as e:  # noqa: BLE001
            tap(False, "the background VM still answers after the faults", e)
        try:
            start = len(q.out)
            q.write(b"OVERFLOW\r")
            q.expect(rb"stack overflow of task overflow-test", timeout=60, start=start)
            q.expect(rb"\*\*\* task overflow-test ends", timeout=30, start=start)
            q.expect(PROMPT, timeout=60, start=start)
            command(q, "2 3 + .", rb"2 3 \+ \. 5  ok\r\n")
            tap(True, "OVERFLOW: a kernel task overflowing its stack ends alone")
        except Exception as e:  # noqa: BLE001
            tap(False, "OVERFLOW: a kernel task overflowing its stack ends alone", e)
            if not healthy(q):
                return
        try:
            start = len(q.out)
            q.write(b"FAULT\r")
            q.expect(rb"task: console", timeout=60, start=start)
            q.expect(rb"\*\*\* task console ends", timeout=30, start=start)
            command(q, "7 6 * .", rb"42  ok\r\n", timeout=60)
            tap(True, "FAULT in the console's VM ends that session; the next line runs in a new one")
        except Exception as e:  # noqa: BLE001
            tap(False, "FAULT in the console's VM ends only that session", e)
            if not healthy(q):
                return
        try:
            # The echo VM was SPAWNed by the first session and ended with
            # it; a new one answers across one more fault.
            command(q, ": echo begin RECV 1+ PARENT SEND again ; ' echo SPAWN VALUE e2", rb"e2  ok\r\n")
            command(q, "' FAULT-DIV SPAWN JOIN . 6 e2 SEND RECV .", rb"-304 7  ok\r\n", timeout=60)
            m = command(q, "PS", rb"serial-rx.*\r\n(.*\r\n)* ok\r\n")
            tap(True, "after the faults the other VMs run and the kernel's tasks are there")
        except Exception as e:  # noqa: BLE001
            tap(False, "after the faults the other VMs run", e)
    finally:
        q.close()


def main():
    if not os.path.exists(IMAGE):
        print("not ok - no image %s (make image)" % IMAGE)
        return 1
    main_boot()
    fault_tasks()
    fault_boot("FAULT-CLI", "a fault with interrupts off (kernel critical code)",
               [rb"EXCEPTION 14: #PF page fault", rb"cr2\) 0000000000000010",
                rb"rip [0-9a-f]{16}", rb"task: console",
                rb"backtrace \(return addresses on the stack\):\r\n(  [0-9a-f]{16}  mneme\.efi\+0x[0-9a-f]+\r\n){2,}"])
    print("# %d of %d passed" % (sum(results), len(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
