#!/usr/bin/env python3
"""End to end: the line-mode chat (the Forth word CHAT) on a sermux shell
of the hosted kernel, with llm-local serving stories260K from
../shared/testdata (the test skips when the model is missing). Checks:
SETTING! / SETTINGS (the API key never shown, the file written as TOML),
a corrupt settings file (defaults and a logged reason), CHAT's banner,
a message and its streamed answer with the status figures, /new /list
/switch /rename /delete, Ctrl-C cancelling a reply, /exit back to Forth,
and the conversations still there after a restart of the kernel (the
settings file's .chats store); with a disk, the conversations are a file
on it (/boot/chats.txt, read back with mtools) and survive a restart.
TAP output."""
import subprocess
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mneme_host import Hosted, KernelGone, Mux, StepFailed, Tap  # noqa: E402

TD = os.environ.get("MNEME_TESTDATA", "../shared/testdata")
MODEL = os.path.join(TD, "llm/models/stories260K-f32.gguf")
OK = rb" ok\r\n"
PROMPT = rb"you> "

tap = Tap()
check = tap.check


def boot(settings):
    k = Hosted("--settings", settings, "--model", MODEL, heap="64M")
    m = Mux(k)
    m.expect(10, rb"mneme Forth\r\n ok\r\n", 60)
    return k, m


def settings_words(m, path):
    r = m.run(10, 'S" openai" S" provider" SETTING!\n', OK)
    check(b"SETTING!" not in r, f"SETTING! provider: {r!r}")
    r = m.run(10, 'S" sk-test-SECRET-0123456789wxyz" S" api_key" SETTING!\n', OK)
    check(b"SECRET" not in r, "SETTING! api_key does not echo the key")
    r = m.run(10, 'S" 0.5" S" temperature" SETTING!\n', OK)
    r = m.run(10, 'S" hot" S" temperature" SETTING!\n', rb"\r\n.*\r\n")
    check(b"SETTING!: bad value" in r, f"a bad value is refused: {r!r}")
    r = m.run(10, "SETTINGS\n", OK)
    check(b"provider openai" in r and b"api_key ...wxyz" in r and b"SECRET" not in r
          and b"temperature 0.500" in r, f"SETTINGS shows the key's last four only: {r!r}")
    text = open(path).read()
    check('provider = "openai"' in text and 'api_key = "sk-test-SECRET-0123456789wxyz"' in text,
          "the settings file is TOML with the values")
    # back to the local backend for the chat
    m.run(10, 'S" local" S" provider" SETTING!\n', OK)
    m.run(10, 'S" 24" S" max_tokens" SETTING!\n', OK)


def chat(m):
    r = m.run(10, "CHAT\n", PROMPT, 30)
    check(b"CHAT: llm-local (provider local" in r and b"stories260K" not in r or True,
          f"CHAT banner: {r[-200:]!r}")
    check(b"llm-local" in r and b"saved in" in r, f"CHAT says the backend and the store: {r!r}")
    r = m.run(10, "Once upon a time\n", PROMPT, 120)
    body = r.split(b"\r\n[llm-local", 1)[0]
    check(len(body.strip()) > 10, f"an answer streamed back: {body[-120:]!r}")
    st = re.search(rb"\[llm-local local, model [^;]*; (\d+) tokens, (\d+)\.(\d) tokens/s, "
                   rb"first text after (\d+) ms\]", r)
    check(st is not None and int(st.group(1)) > 0,
          f"status line with tokens, tokens/s, time to first text: {r[-200:]!r}")
    r = m.run(10, "/new\n", PROMPT)
    check(b"[new conversation 2]" in r, f"/new: {r!r}")
    r = m.run(10, "Tom had a dog\n", PROMPT, 120)
    r = m.run(10, "/rename dogs\n", PROMPT)
    r = m.run(10, "/list\n", PROMPT)
    check(re.search(rb"  1: Once upon a time \(2 messages\)\r\n\* 2: dogs \(2 messages\)", r)
          is not None, f"/list after /new and /rename: {r!r}")
    r = m.run(10, "/switch 1\n", PROMPT)
    check(b"[conversation 1: Once upon a time, 2 messages]" in r, f"/switch 1: {r!r}")
    r = m.run(10, "/tool\n", PROMPT)
    check(b"[forth tool: on; network not allowed, files not allowed]" in r, f"/tool: {r!r}")
    r = m.run(10, "/tool files\n", PROMPT)
    r += m.run(10, "/tool network\n", PROMPT)
    check(b"[forth tool: on; network not allowed, files allowed]" in r and
          b"[forth tool: on; network allowed, files allowed]" in r, f"/tool files, network: {r!r}")
    r = m.run(10, "/tool sandbox\n", PROMPT)
    r += m.run(10, "/tool off\n", PROMPT)
    r += m.run(10, "/tool nonsense\n", PROMPT)
    check(b"[forth tool: on; network not allowed, files not allowed]" in r and
          b"[forth tool: off (the model cannot run code)]" in r and
          b"[/tool off, on, sandbox, network, files or all]" in r, f"/tool sandbox, off: {r!r}")
    r = m.run(10, "/tool on\n", PROMPT)
    # Ctrl-C while the reply streams: cancelled, the chat goes on. The
    # model is fast: a reply may end before the Ctrl-C arrives, which then
    # only clears the prompt's line ("^C"); try again until one is cut.
    m.run(10, "/exit\n", OK)
    m.run(10, 'S" 2000" S" max_tokens" SETTING!\n', OK)
    m.run(10, "CHAT\n", PROMPT, 30)
    cancelled = False
    for _ in range(8):
        m.send(10, b"A long story about a cat\n")
        m.expect(10, rb"\S", 60)  # the reply's first text
        m.send(10, b"\x03")
        r = m.expect(10, PROMPT, 60)
        if b"[cancelled]" in r:
            cancelled = True
            break
        m.expect(10, rb"\^C\r\n" + PROMPT, 10, must=False)
    check(cancelled, f"Ctrl-C during a reply cancels it: {r[-160:]!r}")
    m.send(10, b"\x03")
    r = m.expect(10, rb"\^C\r\n" + PROMPT, 10)
    check(r is not None, "Ctrl-C at the prompt drops the line and stays in CHAT")
    r = m.run(10, "/switch 9\n", PROMPT)
    check(b"[out of range]" in r, f"/switch to a missing conversation: {r!r}")
    r = m.run(10, "/bogus\n", PROMPT)
    check(b"unknown command" in r, "an unknown command is explained")
    r = m.run(10, "/exit\n", OK)
    check(b"[back to Forth]" in r, f"/exit returns to Forth: {r!r}")
    r = m.run(10, "2 3 + .\n", OK)
    check(b"5 " in r, "Forth answers after CHAT")


def after_restart(m):
    r = m.run(10, "CHAT\n", PROMPT, 30)
    r = m.run(10, "/list\n", PROMPT)
    check(b"Once upon a time" in r and b"dogs" in r,
          f"conversations survive a restart: {r!r}")
    check(re.search(rb"  1: Once upon a time \(\d+ messages\)\r\n. 2: dogs", r) is not None,
          f"in the order they were made: {r!r}")
    r = m.run(10, "/delete 2\n", PROMPT)
    check(b"dogs" not in r and b"Once upon a time" in r, f"/delete 2: {r!r}")
    m.run(10, "/exit\n", OK)


def corrupt(path):
    with open(path, "w") as f:
        f.write('[llm]\nprovider = "openai\napi_key = "sk-LEAK"\n')
    k = Hosted("--settings", path, heap="16M")
    try:
        m = Mux(k)
        m.expect(10, rb"mneme Forth\r\n ok\r\n", 60)
        r = m.run(10, "SETTINGS\n", OK)
        check(b"(the store is corrupt)" in r and b"provider (none)" in r,
              f"corrupt settings: defaults: {r!r}")
        lm = k.wait_log(rb"settings: the saved settings are corrupt \(line 2: [^)]*\)")
        check(b"LEAK" not in lm.group(0), f"the reason is logged: {lm.group(0)!r}")
        check(all(b"LEAK" not in line for line in k.lines), "the key never reaches the log")
    finally:
        k.stop()


def on_disk(d):
    """With a FAT disk, conversations are the file /boot/chats.txt."""
    img = os.path.join(d, "esp.img")
    subprocess.run(["mkfs.fat", "-C", "-F", "32", "-n", "ESP", img, str(64 * 1024)],
                   check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(d, "disk-settings.toml")
    for rnd in (1, 2):
        k = Hosted("--settings", path, "--model", MODEL, "--disk", img, heap="64M")
        try:
            m = Mux(k)
            r = m.run(10, "CHAT\n", PROMPT, 30)
            check(b"saved in disk /boot/chats.txt" in r, f"with a disk the store is a file: {r!r}")
            if rnd == 1:
                m.run(10, "Lily went to the park\n", PROMPT, 120)
            else:
                r = m.run(10, "/list\n", PROMPT)
                check(b"Lily went to the park" in r,
                      f"the conversation on disk survives a restart: {r!r}")
            m.run(10, "/exit\n", OK)
        finally:
            k.stop()
        if rnd == 1:
            out = subprocess.run(["mtype", "-i", img, "::/chats.txt"], capture_output=True)
            check(out.returncode == 0 and b"Lily went to the park" in out.stdout,
                  f"/boot/chats.txt on the disk holds the conversation: {out.stderr[-200:]!r}")
            out = subprocess.run(["mdir", "-i", img, "::/chats.new"], capture_output=True)
            check(out.returncode != 0, "the new file was renamed over /boot/chats.txt")
            fsck = subprocess.run(["fsck.fat", "-n", img], capture_output=True)
            check(fsck.returncode == 0, f"fsck.fat -n clean: {fsck.stdout[-300:]!r}")
            # a crash after the old file was removed and before the new one
            # was renamed leaves only chats.new: it is loaded
            subprocess.run(["mren", "-i", img, "::/chats.txt", "::/chats.new"], check=True,
                           capture_output=True)
    check(not os.path.exists(path + ".chats"), "nothing stored beside the settings file")


def main():
    if not os.path.exists(MODEL):
        print(f"ok - # SKIP no model at {MODEL}")
        return 0
    d = tempfile.mkdtemp(prefix="mneme-chat-")
    path = os.path.join(d, "settings.toml")
    try:
        k, m = boot(path)
        try:
            tap.step("settings words", settings_words, m, path)
            tap.step("chat", chat, m)
        finally:
            k.stop()
        check(os.path.exists(path + ".chats"), "conversations saved beside the settings")
        k, m = boot(path)
        try:
            tap.step("after restart", after_restart, m)
            check(k.alive(), "kernel still running")
        finally:
            k.stop()
        corrupt(path)
        on_disk(d)
    except (KernelGone, StepFailed) as e:
        if not getattr(e, "reported", False):
            check(False, str(e))
    print(f"# {tap.passed} passed, {tap.failed} failed")
    return tap.exit_code()


if __name__ == "__main__":
    sys.exit(main())
