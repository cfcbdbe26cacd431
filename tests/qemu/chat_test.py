#!/usr/bin/env python3
"""chat_test.py: the chat's settings and conversations on x86_64 under
QEMU, kept in UEFI non-volatile variables (runtime services after
ExitBootServices) and surviving a reboot with the same variables file.

Run by tests/qemu/chat.sh (image CHAT_IMG: stories260K on the ESP).
Boot 1 (a fresh variables file): the setup wizard on the screen, typed
through with sendkey (openai with a base URL where nothing listens: the
error shown; back; local; saved). Then on the serial shell: SETTING! provider, model,
api_key; SETTINGS shows the key's last four only; CHAT streams an answer
from llm-local and says the conversations go to the UEFI variable. Boot 2
(same variables file): mneme boots into the chat screen on the
framebuffer (a provider is chosen) showing the saved conversation
(screendump + glyph matching); a message typed with sendkey streams an
answer; Alt+F2 shows the Forth console and Alt+F1 the chat again; on the
F5 opens the wizard again and Esc skips it to the Forth shell; on the
serial shell SETTINGS and the conversation (now 4 messages) are there.
TAP output."""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Qemu  # noqa: E402
from boot_test import load_font, screen_has  # noqa: E402

IMAGE = os.environ.get("CHAT_IMG", "build/x86_64/chat.img")
OK = rb" ok\r\n"
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


def boot(vars_file):
    q = Qemu(IMAGE, 256, timeout=400, vars_file=vars_file)
    q.expect(rb"mneme\S* x86_64 \(UEFI\)", timeout=150)
    q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=120)
    q.expect(rb"llm-local: model", timeout=120)
    return q


def wizard(q):
    """The first boot shows the setup wizard; typed through with sendkey:
    DHCP, openai with a base URL (nothing listens: no model list, the model
    typed, the connection test's error shown), back to the provider,
    local, saved: the chat screen."""
    font = load_font()
    where = screen_has(q, font, ["mneme setup", "Network", "DHCP"], timeout=90)
    tap(all(where), "first boot: the setup wizard is on the screen", where)
    q.sendkeys("\n")
    where = screen_has(q, font, ["Provider", "openrouter"], timeout=60)
    tap(all(where), "wizard: DHCP, then the provider list", where)
    q.sendkeys("1\n")
    where = screen_has(q, font, ["API key for openai"], timeout=60)
    q.sendkeys("sk-wiz-SECRET-7777\n")
    where += screen_has(q, font, ["Base URL"], timeout=60)
    tap(all(where), "wizard: openai, the key typed (masked)", where)
    q.sendkeys("http://10.0.2.2:9/v1\n")
    where = screen_has(q, font, ["no model list", "model's name"], timeout=180)
    tap(all(where), "wizard: no model list from a server that is not there", where)
    q.sendkeys("gpt-test\n")
    where = screen_has(q, font, ["connection failed", "key ...7777"], timeout=180)
    tap(all(where), "wizard: the connection test shows the error (and the key's last four)",
        where)
    q.hmp("sendkey left", settle=0.2)
    where = screen_has(q, font, ["Provider"], timeout=60)
    q.sendkeys("6\n")
    where += screen_has(q, font, ["no connection needed"], timeout=60)
    start = len(q.out)
    q.sendkeys("\n")
    q.expect(rb"wizard: settings saved \(provider local", timeout=60, start=start)
    for _ in range(30):  # the chat replaces the wizard's screen
        gone = screen_has(q, font, ["mneme setup"], timeout=0)
        if not any(gone):
            break
        time.sleep(1)
    tap(all(where) and not any(gone), "wizard: back, local, saved: the chat screen", (where, gone))
    r = run(q, "SETTINGS")
    tap(b"provider local" in r and b"wizard_done 1" in r and b"api_key ...7777" in r and
        b"base_url http://10.0.2.2:9/v1" in r, "the wizard's settings are saved", r)


def first_boot(q):
    r = run(q, "SETTINGS")
    tap(b"(nothing saved yet)" in r, "first boot: nothing saved", r)
    wizard(q)
    run(q, 'S" " S" base_url" SETTING!')
    run(q, 'S" local" S" provider" SETTING!')
    run(q, 'S" stories260K" S" model" SETTING!')
    run(q, 'S" 24" S" max_tokens" SETTING!')
    r = run(q, 'S" sk-qemu-SECRET-0123456789wxyz" S" api_key" SETTING!')
    tap(b"SETTING!:" not in r, "SETTING! saves into the UEFI variable", r)
    r = run(q, "SETTINGS")
    tap(b"provider local, model stories260K" in r and b"api_key ...wxyz" in r,
        "SETTINGS reads it back", r)
    r = run(q, "CHAT", rb"you> ")
    tap(b"saved in UEFI variable" in r, "CHAT keeps conversations in a UEFI variable", r)
    r = run(q, "Once upon a time", rb"tokens/s[^\r]*\r\nyou> ", 240)
    tap(re.search(rb"\[llm-local local, model stories260K; \d+ tokens", r) is not None,
        "CHAT streams an answer from llm-local", r)
    r = run(q, "/status", rb"you> ")
    tap(b"UEFI variable (1 of 1)" in r, "the conversation was saved (1 of 1)", r)
    r = run(q, "/exit")
    tap(b"[back to Forth]" in r, "/exit returns to Forth", r)


def screen(q):
    font = load_font()
    where = screen_has(q, font, ["Once upon a time", "assistant"], timeout=90)
    tap(all(where), "boots into the chat screen with the saved conversation", where)
    q.sendkeys("The dog\n")
    where = screen_has(q, font, ["The dog"], timeout=60)
    tap(all(where), "a message typed on the chat screen shows", where)
    q.hmp("sendkey alt-f2", settle=0.2)
    where = screen_has(q, font, ["mneme Forth"], timeout=60)
    tap(all(where), "Alt+F2 shows the Forth console with its screen kept", where)
    q.hmp("sendkey alt-f1", settle=0.2)
    where = screen_has(q, font, ["The dog", "Once upon a time"], timeout=60)
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
    where = screen_has(q, font, ["The dog"], timeout=60)
    tap(all(where), "Alt+F1: the chat again", where)


def second_boot(q):
    screen(q)
    tap(b"the setup wizard is shown" not in q.out, "after the reboot: the chat, not the wizard")
    r = b""
    for _ in range(30):  # the screen's reply ends and is saved: then 4 messages
        r = run(q, "CHAT", rb"you> ")
        r = run(q, "/list", rb"you> ")
        run(q, "/exit")
        if b"(4 messages)" in r:
            break
    tap(b"* 1: Once upon a time (4 messages)" in r,
        "the chat screen's message and answer were saved", r)
    r = run(q, "SETTINGS")
    tap(b"provider local, model stories260K" in r and b"api_key ...wxyz" in r and
        b"max_tokens 24" in r, "after a reboot the settings are still there", r)
    r = run(q, "CHAT", rb"you> ")
    tap(b"conversation 1 of 1, 'Once upon a time'" in r,
        "after a reboot the conversation is still there", r)
    tap(b"SECRET" not in q.out, "the API key never appears on the console")


def main():
    d = tempfile.mkdtemp(prefix="mneme-chatvars-")
    vars_file = os.path.join(d, "vars.fd")
    for fn in (first_boot, second_boot):
        q = boot(vars_file)
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
