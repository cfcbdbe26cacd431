#!/usr/bin/env python3
"""End to end: the Forth shells of the hosted kernel. Boots mneme with its
serial line on TCP, speaks sermux framing (COBS(port u16 LE || payload) 00)
to the shells on ports 10-13, and checks what they answer: Forth, line
editing, SPAWN/SEND/RECV/JOIN, SERVICE to the status service, an endless
loop that leaves everything else responsive and stops on Ctrl-C, hostile
programs that leave the kernel running. Also the console shell on
stdin/stdout. TAP output."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mneme_host import O, Hosted, KernelGone, Mux, StepFailed, Tap  # noqa: E402
from mneme_wire import cobs_decode, cobs_encode, varint  # noqa: E402

STATUS = bytes.fromhex("1463b774ce294ea994c0c07056184c38")
GREETING = rb"mneme Forth\r\n ok\r\n"

tap = Tap()
check = tap.check


def user_request(m, uuid, nonce, body):
    """A userspace request through the bridge on port 4."""
    msg = b"\x10" + uuid + varint(nonce) + varint(len(body)) + body
    m.send(4, cobs_encode(msg) + b"\0")
    out = m.expect(4, rb"\0", 10)
    return cobs_decode(out[:-1])


def ok_line(m, port, line, want, what):
    r = m.run(port, line + "\n", rb" ok\r\n")
    check(r is not None and want in r, f"{what}: {r!r}")
    return r


def until(m, port, line, pattern, what):
    """Runs line on port until its output (up to the prompt) matches
    pattern: a wait for a state that comes soon."""
    rx = re.compile(pattern)
    for _ in range(200):
        r = m.run(port, line + "\n", rb" ok\r\n")
        if rx.search(r):
            return r
    raise StepFailed(f"{what}: never seen in 200 tries of {line!r}: {r[-300:]!r}")


def basics(m):
    ok_line(m, 10, "2 3 + .", b"5 ", "arithmetic on port 10")
    ok_line(m, 10, ": SQ DUP * ;  12 SQ .", b"144 ", "a colon definition")
    r = m.run(10, "NOSUCHWORD\n", rb"\r\n")
    check(r is not None and b"NOSUCHWORD" in r and b"-13" in r, f"undefined word reported: {r!r}")
    ok_line(m, 10, "1 2 3 .S", b"<3> 1 2 3", "stack display")
    m.run(10, "DROP DROP DROP\n", rb" ok\r\n")
    ok_line(m, 10, "7 STATUS-PING .", b"7 ", "STATUS-PING through SERVICE to the status service")
    ok_line(m, 10, "300000 STATUS-PING .", b"300000 ", "STATUS-PING with a multi-byte varint")
    r = ok_line(m, 10, "STATUS", b"heap", "STATUS prints heap")
    check(r is not None and b"uptime" in r and b"forth VMs" in r, "STATUS prints uptime and VMs")
    # SERVICE with the raw bytes: Ping(5) is 00 05; the reply is Ok 00, Pong 00, 05.
    ok_line(m, 10, "CREATE RQ 0 C, 5 C,  CREATE RB 16 ALLOT  RQ 2 STATUS-UUID RB 16 SERVICE . "
                   "RB C@ . RB 1+ C@ . RB 2 + C@ .", b"3 0 0 5 ", "SERVICE leaves the reply bytes")
    # An unknown UUID: the kernel answers with an error reply (result byte 1).
    ok_line(m, 10, "CREATE NOUUID 16 ALLOT  RQ 2 NOUUID RB 16 SERVICE . RB C@ .", b"2 1 ",
            "SERVICE to an unknown UUID: error reply")


def ports(m):
    ok_line(m, 10, '7 PORT-OPEN  S" hello port" 7 PORT-WRITE', b"", "PORT-OPEN and PORT-WRITE")
    check(m.expect(7, rb"hello port") is not None, "the host gets the bytes on port 7")
    m.send(7, b"from host")
    ok_line(m, 10, "CREATE PB 32 ALLOT  PB 32 7 PORT-READ PB SWAP TYPE", b"from host",
            "PORT-READ gets the host's bytes")
    r = m.run(10, "PB 32 8 PORT-READ\n", rb"\)\r\n")
    check(r is not None and b"-301" in r, f"PORT-READ of a port not opened: {r!r}")


def line_editing(m):
    m.send(11, b"\r")  # a raw terminal's Enter: the VM starts, editing and echo on
    check(m.expect(11, rb"ok\r\n") is not None, "port 11: CR switches to terminal mode")
    # "3 4 +X", backspace, Ctrl-A, "10 ", Ctrl-E, " . .", Enter: 10 3 4 + . .
    m.send(11, b"3 4 +X\x7f\x0110 \x05 . .\r")
    r = m.expect(11, rb" ok\r\n")
    check(r is not None and b"7 10  ok" in r, f"backspace, Ctrl-A, Ctrl-E: {r!r}")
    check(r is not None and b"3 4 +X" in r, "typed characters are echoed")
    m.send(11, b"\x1b[A\r")  # up arrow: the same line again
    r = m.expect(11, rb" ok\r\n")
    check(r is not None and b"7 10  ok" in r, f"history (up arrow): {r!r}")
    m.send(11, b"99 \x15 1 .\r")  # Ctrl-U erases "99 "
    r = m.expect(11, rb" ok\r\n")
    check(r is not None and re.search(rb"\s1  ok", r) is not None and b"99  ok" not in r, f"Ctrl-U: {r!r}")
    m.send(11, b"2 .\x1b[D\x1b[D5\r")  # left twice, insert 5: "25 ."
    r = m.expect(11, rb" ok\r\n")
    check(r is not None and b"25  ok" in r, f"left arrow and insert: {r!r}")
    m.send(11, b"8 .\x1b[D\x1b[D\x1b[C\x1b[3~\x1b[F9 .\r")  # delete " " -> "8." -> end -> "8.9 ." hmm
    r = m.expect(11, rb"\r\n")
    check(r is not None, "delete and end keys do not upset the shell")
    m.expect(11, rb" ok\r\n", 2, must=False)
    m.send(11, b"\x1b[A\x1b[A\x1b[B\x1b[B\r")  # back to an empty line
    check(m.expect(11, rb"ok\r\n") is not None, "history down to an empty line")


def tasks(m):
    ok_line(m, 10, ": DOUBLER RECV 2* PARENT SEND ;  ' DOUBLER SPAWN CONSTANT C1  21 C1 SEND RECV .",
            b"42 ", "SPAWN, SEND, RECV between parent and child")
    ok_line(m, 10, "C1 JOIN .", b"0 ", "JOIN: the child ended normally")
    ok_line(m, 10, ": SQR RECV DUP * PARENT SEND ;  : FAN 5 0 DO ['] SQR SPAWN LOOP ;"
                   "  : WORK 5 0 DO I 1+ I 1+ PICK SEND LOOP ;  : SUM 0 5 0 DO RECV + LOOP ;"
                   "  : JOINS 5 0 DO JOIN DROP LOOP ;", b"", "define a fan-out")
    ok_line(m, 10, "FAN WORK SUM .", b"55 ", "five children answer (1+4+9+16+25)")
    ok_line(m, 10, "JOINS DEPTH .", b"0 ", "join all five")
    ok_line(m, 10, ": SPIN BEGIN AGAIN ;  ' SPIN SPAWN CONSTANT C2  TASKS", b"SPIN" if False else b"run",
            "TASKS lists a running child")
    ok_line(m, 10, "C2 KILL C2 JOIN .", b"-1 ", "KILL ends a spinning child; JOIN says killed")
    ok_line(m, 10, ": BAD 1 0 / ;  ' BAD SPAWN JOIN .", b"1 ", "a child's error is counted by JOIN")
    r = m.run(10, "12345 C1 SEND\n", rb"\)\r\n")
    check(r is not None and b"-300" in r, f"SEND to a joined child: no such task: {r!r}")
    ok_line(m, 10, ": CHAT 3 0 DO RECV 1+ PARENT SEND LOOP ;  ' CHAT SPAWN CONSTANT C3  "
                   ": TALK 0 3 0 DO C3 SEND RECV LOOP ;  TALK . C3 JOIN .", b"3 0 ",
            "a conversation of three messages")


def endless(m):
    m.send(12, b"\n")
    m.expect(12, rb"ok\r\n")
    m.send(12, b": X BEGIN AGAIN ;  X\n")
    # Port 12's VM is running X once TASKS shows it in state "run".
    until(m, 10, "TASKS", rb"\brun +\d+ +\d+ +\d+ shell-12\r\n", "port 12 runs its endless loop")
    ok_line(m, 10, "6 7 * .", b"42 ", "another shell answers while port 12 loops")
    r = user_request(m, STATUS, 9, bytes([0, 33]))
    check(r == b"\x10" + STATUS + b"\x09\x00\x00\x21", "the status service answers while port 12 loops")
    ok_line(m, 10, "TASKS", b"shell-12", "TASKS shows the looping shell")
    m.send(12, b"\x03")
    r = m.expect(12, rb"\r\n")
    check(r is not None and b"-28" in r, f"Ctrl-C interrupts the loop with THROW -28: {r!r}")
    ok_line(m, 12, "4 .", b"4 ", "port 12 works again after Ctrl-C")
    # MS waits without blocking: another shell answers meanwhile.
    m.send(12, b"3000 MS 77 .\n")
    ok_line(m, 10, "1 1 + .", b"2 ", "port 10 answers while port 12 sleeps in MS")
    m.send(12, b"\x03")
    r = m.expect(12, rb"\)\r\n")
    check(r is not None and b"-28" in r and b"77" not in r, f"Ctrl-C ends an MS: {r!r}")
    # Output that never ends, then Ctrl-C.
    m.send(12, b": Z BEGIN 42 EMIT AGAIN ;  Z\n")
    check(m.expect(12, rb"\*{2000}", keep=4000) is not None, "endless output flows")
    ok_line(m, 10, "3 3 * .", b"9 ", "port 10 answers during endless output")
    m.send(12, b"\x03")
    r = m.expect(12, rb"-28", keep=100)
    check(r is not None, "Ctrl-C stops endless output")
    r = m.run(12, "5 .\n", rb"5  ok\r\n")  # whatever came before is passed over
    check(r is not None, "port 12 works after endless output")


def hostile(m):
    m.send(13, b"\n")
    m.expect(13, rb"ok\r\n")
    cases = [
        (b": R 1 RECURSE DROP ;  R\n", b"overflow", "endless recursion"),
        (b": F BEGIN 1 AGAIN ;  F\n", b"-3", "data stack overflow"),
        (b"DROP DROP DROP\n", b"-4", "data stack underflow"),
        (b"0 @\n", b"-9", "fetch from address 0"),
        (b"-8 123 !\n" if False else b"123 -8 !\n", b"-9", "store to a wild address"),
        (b"1 0 /\n", b"-10", "division by zero"),
        (b"\xff\xfe\xfd .\n", b"-256", "input that is not UTF-8"),
        (b"A" * 5000 + b"\n", b"-257", "a 5000-byte line"),
        (b": Q 1 ?DO ;\n", None, "compile-only misuse"),
        (b"999999999999 ALLOCATE . DROP\n", b" ok", "huge ALLOCATE returns an ior"),
        (b"-1 ALLOCATE . DROP\n", b" ok", "negative ALLOCATE"),
        (b"12 ' EXECUTE EXECUTE\n", None, "EXECUTE of a bad xt"),
        (b"99999 EXECUTE\n", b"-", "EXECUTE of a wild xt"),
        (b"HERE 100000000 ALLOT\n", b"-", "ALLOT beyond data space"),
        (b"0 0 0 0 0 SERVICE\n", b"-9", "SERVICE with wild addresses"),
        (b"PAD 1 PAD 10000000 0 SERVICE\n", None, "SERVICE with a huge buffer"),
        (b"99 KILL\n", b"-300", "KILL of no such task"),
        (b"5 PORT-OPEN\n" if False else b"10 PORT-OPEN\n", b"-301", "opening a shell's port"),
        (b": B BEGIN ['] DUP SPAWN DROP AGAIN ;  B\n", b"-30", "spawning until memory runs out"),
    ]
    for i, (data, want, what) in enumerate(cases):
        m.send(13, data)
        r = m.expect(13, rb"(ok|compiled|THROW -?\d+\))\r\n")
        good = r is not None and (want is None or want in r)
        m.send(13, b"\x03\n")  # leave compile state and errors behind
        # A fresh number: what came before it (late output) is passed over.
        r2 = m.run(13, f"{7000 + i} .\n", f"{7000 + i}  ok\r\n".encode())
        check(good and r2 is not None, f"hostile: {what}: {r!r}")
    check(m.k.alive(), "kernel still running after hostile programs")
    r = user_request(m, STATUS, 10, bytes([0, 5]))
    check(r == b"\x10" + STATUS + b"\x0a\x00\x00\x05", "status service still answers")


def console():
    k = Hosted(heap="4M", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        out, _ = k.p.communicate(b"2 3 + .\n: SQ DUP * ; 9 SQ .\nBYE\n", timeout=60)
        check(k.p.returncode == 0 and b"5  ok" in out and b"81  ok" in out,
              f"console shell on stdin/stdout; BYE shuts down: {out!r}")
    except subprocess.TimeoutExpired:
        check(False, "console shell: BYE did not shut the kernel down within 60 s")
    finally:
        k.stop()
    k = Hosted(heap="4M", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        k.p.stdin.write(b"1 2 + .\n")
        k.p.stdin.close()
        k.wait_log(rb"forth console: end of input")
        m = Mux(k)
        r = m.run(10, "1 .\n", rb"1  ok\r\n")
        check(k.alive() and r is not None, "end of console input ends the shell, not the kernel")
    except (StepFailed, KernelGone) as e:
        check(False, f"end of console input ends the shell, not the kernel: {e}")
    finally:
        k.stop()
    out = k.p.stdout.read()
    check(b"3  ok" in out, f"console output before end of input: {out!r}")
    # the VM sizes come from [services.forth_shells]: a 32-cell data stack
    prog = b": F 0 DO I LOOP ; 40 F DEPTH .\nBYE\n"
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config",
                           "hosted.toml")) as f:
        toml = f.read().replace("ports = [10, 11, 12, 13]", "ports = [10, 11, 12, 13]\nstack_cells = 32")
    path = os.path.join(O, "forth_shell_e2e-stack32.toml")
    with open(path, "w") as f:
        f.write(toml)
    outs = []
    for extra in ([], ["--config", path]):
        k = Hosted(*extra, heap="4M", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            outs.append(k.p.communicate(prog, timeout=60)[0])
        except subprocess.TimeoutExpired:
            outs.append(b"(timed out)")
        finally:
            k.stop()
    check(b"40  ok" in outs[0] and b"F: stack overflow (THROW -3)" in outs[1],
          f"stack_cells = 32 in the configuration gives a 32-cell stack: {outs!r}")


def main():
    k = Hosted(heap="8M")
    try:
        m = Mux(k)
        # Sent as soon as the serial line connects: the mux holds it until
        # the shells' ports are open, so it is answered, not dropped.
        m.send(10, b"2 3 + .\n")
        for port in (10, 11, 12, 13):
            m.expect(port, GREETING)
            check(True, f"shell on port {port} greets with its banner and prompt")
        check(m.expect(10, rb"5  ok\r\n") is not None,
              "a line sent at once after connecting is answered")
        for step in (basics, ports, line_editing, tasks, endless, hostile):
            tap.step(step.__name__, step, m)
        check(k.alive(), "kernel process still running at the end")
    except StepFailed as e:
        check(False, f"the shells are not ready, so nothing else can pass: {e}")
        return 1
    except KernelGone as e:
        if not getattr(e, "reported", False):
            check(False, str(e))
        return 1
    finally:
        k.stop()
    # The 256K kernel still boots and serves with shells configured (not
    # under ASan, whose larger stacks do not fit 256K with or without shells).
    if "asan" in O:
        print("ok - --heap 256K # SKIP under ASan")
    else:
        k = Hosted(heap="256K")
        try:
            m = Mux(k)
            r = user_request(m, STATUS, 1, bytes([0, 1]))
            check(r == b"\x10" + STATUS + b"\x01\x00\x00\x01", "--heap 256K: status answers")
            m.send(10, b"1 .\n")
            r = m.expect(10, rb"(1  ok|not enough memory for a shell)\r\n")
            check(k.alive(), f"--heap 256K: a shell answers or says no memory: {r!r}")
        except (StepFailed, KernelGone) as e:
            check(False, f"--heap 256K: {e}")
        finally:
            k.stop()
    console()
    return tap.exit_code()


sys.exit(main())
