#!/usr/bin/env python3
"""chat_test.py: the chat end to end on x86_64 under QEMU, with an
OpenAI-compatible server over HTTPS, settings and conversations kept in
UEFI non-volatile variables, surviving a reboot with the same variables
file.

Run by tests/qemu/chat.sh (image CHAT_IMG: stories260K and the test CA's
root.pem on the ESP, which mneme trusts at boot; CHAT_CERTS: the CA's
directory). The server is test/llm_remote_mock.py's, over TLS on
127.0.0.1, reached as https://10.0.2.100 through QEMU's user network with
restrict=on (guestfwd, one relay per connection: tests/qemu/fwd_relay.py).
Boot 1 (a fresh variables file): the setup wizard on the screen, typed
through with sendkey: DHCP, openai, a wrong key and the HTTPS base URL
(the server's 401 shown for the model list and the connection test),
back, openai with the right key: the server's model list, connection OK,
saved; the chat screen: a question typed streams the server's answer onto
the screen (screendump + glyph matching), the status line names the
model and the UEFI variable. Boot 2 (same variables file): the chat
screen with the conversation, SETTINGS as the wizard left them (key: last
four only), a second question answered over HTTPS, /tool files typed
there (the forth tool's permissions on the status line, saved);
Alt+F2/Alt+F1 keep
each screen; F5 opens the wizard, Esc skips it to the Forth shell. Then
on the serial shell: SETTING! provider local and CHAT in line mode with
llm-local in a new conversation (saved in the UEFI variable, 2 of 2).
The API key is never on the console.
TAP output."""
import os
import re
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Qemu  # noqa: E402
from boot_test import find_text, load_font, screen_has  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../test"))
import llm_remote_mock as mock  # noqa: E402

IMAGE = os.environ.get("CHAT_IMG", "build/x86_64/chat.img")
OK = rb" ok\r\n"
URL = "https://10.0.2.100/s/q"   # the mock's scenario: the question's first word
KEY = mock.KEY
results = []


def tap(ok, what, detail=""):
    results.append(ok)
    print("%s - %s" % ("ok" if ok else "not ok", what))
    if detail and not ok:
        for line in str(detail).splitlines()[-12:]:
            print("#   " + line)
    sys.stdout.flush()


def run(q, line, reply=OK, timeout=60):
    start = len(q.out)
    q.write(line.encode() + b"\r")
    q.expect(reply, timeout=timeout, start=start)
    return q.out[start:]


def boot(vars_file, net):
    q = Qemu(IMAGE, 256, timeout=400, vars_file=vars_file, extra=net)
    q.expect(rb"mneme\S* x86_64 \(UEFI\)", timeout=150)
    q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=120)
    q.expect(rb"llm-local: model", timeout=120)
    return q


def find_any(shot, text, font):
    """find_text, also in inverse video (the status line: dark on grey)."""
    fw, fh, glyphs = font
    hit = find_text(shot, text, font)
    if hit:
        return hit
    inv = (fw, fh, {c: bytes(b ^ (0xff << (8 - fw) & 0xff) for b in g) for c, g in glyphs.items()})
    return find_text(shot, text, inv)


def screen_any(q, font, texts, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        shot = q.screendump()
        where = [find_any(shot, t, font) for t in texts]
        if all(where) or time.monotonic() > deadline:
            return where
        time.sleep(1)


def wizard(q):
    """The first boot shows the setup wizard; typed through with sendkey:
    DHCP, openai with a wrong key and the HTTPS base URL (the server's 401
    for the model list and the connection test), back to the provider,
    openai with the right key (the URL kept): the server's model list,
    connection OK, saved: the chat screen."""
    font = load_font()
    where = screen_has(q, font, ["mneme setup", "Network", "DHCP"], timeout=90)
    tap(all(where), "first boot: the setup wizard is on the screen", where)
    q.expect(rb"tls: 1 trust anchor from \\mneme\\root\.pem", timeout=10)
    q.expect(rb"net: virtio-net0 address 10\.0\.2\.15", timeout=120)
    q.sendkeys("\n")
    where = screen_has(q, font, ["Provider", "openrouter"], timeout=60)
    tap(all(where), "wizard: DHCP, then the provider list", where)
    q.sendkeys("1\n")
    where = screen_has(q, font, ["API key for openai"], timeout=60)
    q.sendkeys("sk-wiz-SECRET-7777\n")
    where += screen_has(q, font, ["Base URL"], timeout=60)
    tap(all(where), "wizard: openai, the key typed (masked)", where)
    q.sendkeys(URL + "\n")
    where = screen_has(q, font, ["no model list", "Incorrect API key provided"], timeout=180)
    tap(all(where), "wizard: HTTPS to the server (CA from the ESP): its 401 for the model list",
        where)
    q.sendkeys("mock-model\n")
    where = screen_has(q, font, ["connection failed: HTTP 401: Incorrect API key", "key ...7777"],
                       timeout=180)
    tap(all(where), "wizard: the connection test shows the provider's error (and the key's last four)",
        where)
    q.hmp("sendkey left", settle=0.2)
    where = screen_has(q, font, ["Provider"], timeout=60)
    q.sendkeys("1\n")
    where += screen_has(q, font, ["API key for openai"], timeout=60)
    q.sendkeys(KEY + "\n")
    where += screen_has(q, font, ["Base URL", URL], timeout=60)
    q.sendkeys("\n")
    where += screen_has(q, font, ["1. mock-model"], timeout=180)
    tap(all(where), "wizard: back, openai, the right key, the URL kept: the server's model list",
        where)
    q.sendkeys("1\n")
    where = screen_has(q, font, ["connection OK"], timeout=180)
    tap(all(where), "wizard: connection OK", where)
    start = len(q.out)
    q.sendkeys("\n")
    q.expect(rb"wizard: settings saved \(provider openai, model mock-model\): ok", timeout=60,
             start=start)
    for _ in range(30):  # the chat replaces the wizard's screen
        gone = screen_has(q, font, ["mneme setup"], timeout=0)
        if not any(gone):
            break
        time.sleep(1)
    tap(not any(gone), "wizard: saved: the chat screen", gone)


def first_boot(q):
    r = run(q, "SETTINGS")
    tap(b"(nothing saved yet)" in r, "first boot: nothing saved", r)
    wizard(q)
    font = load_font()
    q.sendkeys("rec hello\n")
    where = screen_any(q, font, ["rec hello", "Asked Jack.", "mock-model | ready",
                                 "UEFI variable (1 of 1)"], timeout=180)
    tap(all(where) and where[1][1] > where[0][1],
        "a question typed on the chat screen: the answer streams from the server over HTTPS, "
        "saved in the UEFI variable", where)
    r = run(q, "SETTINGS")
    tap(b"provider openai, model mock-model" in r and b"wizard_done 1" in r and
        b"api_key ...9876" in r and ("base_url " + URL).encode() in r,
        "the wizard's settings are saved", r)
    tap(b"SECRET" not in q.out, "the keys typed in the wizard never appear on the console")


def screen(q):
    font = load_font()
    where = screen_has(q, font, ["rec hello", "Asked Jack."], timeout=90)
    tap(all(where), "boots into the chat screen with the saved conversation", where)
    r = run(q, "SETTINGS")
    tap(b"provider openai, model mock-model" in r and b"api_key ...9876" in r and
        ("base_url " + URL).encode() in r, "after the reboot the settings are still there", r)
    q.expect(rb"net: virtio-net0 address 10\.0\.2\.15", timeout=120)
    q.sendkeys("more please\n")
    where = screen_any(q, font, ["more please", "Asked Jack.", "mock-model | ready",
                                 "UEFI variable (1 of 1)"], timeout=180)
    tap(all(where) and where[1][1] > where[0][1],
        "after the reboot a second question is answered over HTTPS", where)
    q.sendkeys("/tool files\n")
    where = screen_any(q, font, ["forth tool: on; network not allowed, files allowed"], timeout=60)
    r = run(q, "SETTINGS")
    tap(all(where) and b"tool_forth 1, tool_network 0, tool_files 1" in r,
        "/tool files on the chat screen: shown on the status line and saved", (where, r))
    q.hmp("sendkey alt-f2", settle=0.2)
    where = screen_has(q, font, ["mneme Forth"], timeout=60)
    tap(all(where), "Alt+F2 shows the Forth console with its screen kept", where)
    q.hmp("sendkey alt-f1", settle=0.2)
    where = screen_has(q, font, ["more please", "rec hello"], timeout=60)
    tap(all(where), "Alt+F1 shows the chat again", where)
    q.hmp("sendkey f5", settle=0.2)
    where = screen_has(q, font, ["mneme setup", "Network"], timeout=60)
    tap(all(where), "F5 opens the setup wizard", where)
    start = len(q.out)
    q.hmp("sendkey esc", settle=0.2)
    q.expect(rb"wizard: skipped", timeout=60, start=start)
    where = screen_has(q, font, ["mneme Forth"], timeout=60)
    tap(all(where), "Esc skips it to the Forth shell", where)
    q.hmp("sendkey alt-f1", settle=0.2)
    where = screen_has(q, font, ["more please"], timeout=60)
    tap(all(where), "Alt+F1: the chat again", where)


def second_boot(q):
    screen(q)
    tap(b"the setup wizard is shown" not in q.out, "after the reboot: the chat, not the wizard")
    r = run(q, "CHAT", rb"you> ")
    r += run(q, "/list", rb"you> ")
    run(q, "/exit")
    tap(b"* 1: rec hello (4 messages)" in r, "both questions and answers were saved", r)
    run(q, 'S" local" S" provider" SETTING!')
    run(q, 'S" stories260K" S" model" SETTING!')
    run(q, 'S" 24" S" max_tokens" SETTING!')
    r = run(q, 'S" sk-qemu-0123456789wxyz" S" api_key" SETTING!')
    tap(b"SETTING!:" not in r, "SETTING! saves into the UEFI variable", r)
    r = run(q, "SETTINGS")
    tap(b"provider local, model stories260K" in r and b"api_key ...wxyz" in r and
        b"max_tokens 24" in r, "SETTINGS reads it back", r)
    r = run(q, "CHAT", rb"you> ")
    tap(b"CHAT: llm-local" in r and b"saved in UEFI variable" in r,
        "CHAT with llm-local keeps conversations in a UEFI variable", r)
    run(q, "/new", rb"you> ")
    r = run(q, "Once upon a time", rb"tokens/s[^\r]*\r\nyou> ", 240)
    tap(re.search(rb"\[llm-local local, model stories260K; \d+ tokens", r) is not None,
        "CHAT streams an answer from llm-local", r)
    r = run(q, "/status", rb"you> ")
    tap(b"UEFI variable (2 of 2)" in r, "the new conversation was saved (2 of 2)", r)
    r = run(q, "/exit")
    tap(b"[back to Forth]" in r, "/exit returns to Forth", r)
    tap(b"SECRET" not in q.out, "after the reboot: the API key never appears on the console")


def main():
    certs = os.environ.get("CHAT_CERTS", "build/x86_64/chat-certs")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with open(os.path.join(certs, "good.chain"), "w") as f:
        f.write(open(os.path.join(certs, "good.pem")).read() +
                open(os.path.join(certs, "inter.pem")).read())
    ctx.load_cert_chain(os.path.join(certs, "good.chain"), os.path.join(certs, "good.key"))
    rec_stream, rec_answer, _ = mock.recorded()
    srv = mock.MockServer(mock.make_handler(rec_stream, rec_answer), ctx)
    relay = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fwd_relay.py")
    net = ["-netdev", "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:443-cmd:python3 %s %d"
           % (relay, srv.port), "-device", "virtio-net-pci,netdev=n0"]
    d = tempfile.mkdtemp(prefix="mneme-chatvars-")
    vars_file = os.path.join(d, "vars.fd")
    for fn in (first_boot, second_boot):
        q = boot(vars_file, net)
        try:
            fn(q)
        except (TimeoutError, EOFError) as e:
            tap(False, "%s: %s" % (fn.__name__, e))
        finally:
            q.close()
    print("# %d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
