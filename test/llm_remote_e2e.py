#!/usr/bin/env python3
"""End to end: llm-remote in the hosted kernel (--net slirp, --llm) through
mneme's own network service, HTTP client and TLS, driven by the Forth word
ASK on the console shell, against the Python mock servers of
test/llm_remote_mock.py on 127.0.0.1 (slirp's 10.0.2.2 reaches them; a
DNS server of the test resolves *.ok.test to it): no traffic leaves the
machine. Two boots: OpenAI-compatible over plain HTTP (the recording in
tiny chunked writes, 401, 429 with retry-after counted down and asked
again, a drop mid-stream, a stall, the forth tool `2 3 + .`; the tool's
permissions from the settings: a file read refused until SETTING!
tool_files allows it, no tool offered once tool_forth is off), and
Anthropic over HTTPS with the test's CA added by TLS-TRUST (split
characters, 529, the forth tool running an endless loop stopped by its
fuel while the kernel goes on, Ctrl-C while the server is silent
cancelling at once). The API key (environment) is in no output.
TAP output."""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import net_words_e2e as nw  # noqa: E402  (Shell, check, dns_server)
import http_e2e as he  # noqa: E402  (make_certs)
import llm_remote_mock as mock  # noqa: E402

check = nw.check
T = 40  # one answer, generous for a loaded machine and ASan


def ask(sh, q, timeout=T):
    """ASK q; everything up to the prompt after its last ASK: line."""
    m = sh.cmd(f'S" {q}" ASK', r"(?s)(.*)\nASK: ([^\n]*)\n ok\n", timeout)
    return (m.group(1).decode("utf-8", "replace"), m.group(2).decode("utf-8", "replace")) if m else ("", "")


def main():
    if not os.path.exists(f"{nw.O}/mneme"):
        print(f"not ok - {nw.O}/mneme is missing")
        return 1
    rec_stream, rec_answer, ref = mock.recorded()
    handler = mock.make_handler(rec_stream, rec_answer)
    plain = mock.MockServer(handler)
    d = tempfile.mkdtemp(prefix="llm_e2e.")
    he.make_certs(d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with open(f"{d}/good.chain", "w") as f:
        f.write(open(f"{d}/good.pem").read() + open(f"{d}/inter.pem").read())
    ctx.load_cert_chain(f"{d}/good.chain", f"{d}/good.key")
    tls = mock.MockServer(handler, ctx)
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 0))
    threading.Thread(target=nw.dns_server, args=(dns,), daemon=True).start()
    netcfg = f'\n[services.net]\ndhcp = true\ndns = ["10.0.2.2:{dns.getsockname()[1]}"]\n'
    seen = b""

    # ---- OpenAI-compatible over plain HTTP
    os.environ["MNEME_LLM_API_KEY"] = mock.KEY
    with open("config/hosted.toml") as f:
        base = f.read()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    cfg.write(base + netcfg)
    cfg.close()
    disk = os.path.join(d, "disk.img")   # /boot for the tool's file read
    subprocess.run(["mkfs.fat", "-C", "-F", "16", "-n", "DATA", disk, str(16 * 1024)],
                   check=True, capture_output=True)
    note = os.path.join(d, "note.txt")
    with open(note, "w") as f:
        f.write("the plans are in the drawer\n")
    subprocess.run(["mcopy", "-i", disk, note, "::/note.txt"], check=True, capture_output=True,
                   env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    settings = os.path.join(d, "settings.toml")
    sh = run_shell(cfg.name, f"openai,http://10.0.2.2:{plain.port}/s/q,mock-model,timeout=1500",
                   ["--disk", disk, "--settings", settings])
    try:
        check(sh.expect(r"net: slirp0 address 10\.0\.2\.15") is not None, "DHCP lease from slirp")
        text, tail = ask(sh, "rec tell me")
        check(ref.replace("\n", "\r\n").strip() in text.replace("\r\n", "\n").replace("\n", "\r\n")
              and tail == "length (46 in, 16 out)",
              f"ASK streams the recorded answer through mneme's HTTP client: {tail!r}")
        text, tail = ask(sh, "e401")
        check(tail == "HTTP 401: Incorrect API key provided (not permitted)", f"401: {tail!r}")
        text, tail = ask(sh, "e429")
        check("ASK: HTTP 429: Rate limit reached" in text and "ASK: retry in 1" in text
              and tail.startswith("HTTP 429: Rate limit reached"),
              f"429: retry-after counted down, asked again: {text[-120:]!r} {tail!r}")
        text, tail = ask(sh, "drop")
        check(tail.startswith("error: ") and len(text.strip()) > 0,
              f"a drop mid-stream: the text so far, then {tail!r}")
        text, tail = ask(sh, "stall")
        check(tail.startswith("error: ") and "timed out" in tail, f"a stall: {tail!r}")
        text, tail = ask(sh, "tool-openai")
        check("[forth] 2 3 + .\r\n=> 5 \r\nThe tool said: \"5 \"" in text and tail.startswith("stop"),
              f"the forth tool (OpenAI tool_calls): {text[-80:]!r}")
        text, tail = ask(sh, "tool-file")
        check("OPEN-FILE: not permitted: the user has not given the forth tool the files" in text
              and "THROW -1018" in text and "the plans" not in text and tail.startswith("stop"),
              f"the tool may not read a file unless the user allows it: {text[-200:]!r}")
        m = sh.cmd('S" true" S" tool_files" SETTING!')
        text, tail = ask(sh, "tool-file")
        check("=> the plans are in the drawer" in text and "not permitted" not in text
              and "The tool said: \"the plans are in the drawer" in text,
              f"allowed by SETTING! tool_files, the tool reads /boot/note.txt: {text[-200:]!r}")
        m = sh.cmd('S" false" S" tool_forth" SETTING!')
        text, tail = ask(sh, "tool-openai")
        check("[forth]" not in text and "Let me compute." in text,
              f"tool_forth off: no tool offered, the call not run: {text[-120:]!r} {tail!r}")
        m = sh.cmd('S" /boot/mneme/settings.toml" CAT', r"(?s)(.*) ok\n")
        got = m.group(1).decode(errors="replace") if m else ""
        check("tool_forth = false" in got and "tool_files = true" in got,
              f"the settings are mirrored to /boot/mneme/settings.toml: {got[-200:]!r}")
        check(mock.KEY not in got and "api_key" in open(settings).read(),
              "the settings file keeps the API key; the mirror anyone can CAT does not")
        m = sh.cmd("1 2 + .", r"3  ok\n")
        check(m is not None, "the shell goes on")
    finally:
        sh.close()
        seen += sh.all
    # the disk's copy when the platform's store is empty
    sh = run_shell(cfg.name, f"openai,http://10.0.2.2:{plain.port}/s/q,mock-model",
                   ["--disk", disk, "--settings", settings + ".new"])
    try:
        m = sh.cmd("SETTINGS", r"(?s)(.*) ok\n")
        got = m.group(1).decode(errors="replace") if m else ""
        check("tool_forth 0, tool_network 0, tool_files 1" in got,
              f"an empty settings store: loaded from /boot/mneme/settings.toml: {got[-200:]!r}")
    finally:
        sh.close()
        seen += sh.all
    # ---- Anthropic over HTTPS with the test's CA
    sh = run_shell(cfg.name, f"anthropic,https://www.ok.test:{tls.port}/s/q,mock-model")
    try:
        check(sh.expect(r"net: slirp0 address 10\.0\.2\.15") is not None, "DHCP lease from slirp")
        text, tail = ask(sh, "anth")
        check("unknown issuer" in tail, f"HTTPS refused before the CA is trusted: {tail!r}")
        sh.cmd("CREATE PEMBUF 4096 ALLOT  VARIABLE PEMLEN  0 PEMLEN !")
        sh.cmd(": +PEM ( c-addr u -- ) TUCK PEMBUF PEMLEN @ + SWAP MOVE PEMLEN +! "
               "10 PEMBUF PEMLEN @ + C! 1 PEMLEN +! ;")
        for line in open(f"{d}/root.pem").read().strip().splitlines():
            sh.cmd(f'S" {line}" +PEM')
        m = sh.cmd("PEMBUF PEMLEN @ TLS-TRUST .", r"(-?\d+)  ok\n")
        check(m is not None and m.group(1) == b"1", "TLS-TRUST adds the test's root CA")
        text, tail = ask(sh, "anth")
        check("Caf\u00e9 \U0001f642 fin" in text and tail == "stop (11 in, 7 out)",
              f"Anthropic over HTTPS, split characters: {text[-40:]!r} {tail!r}")
        text, tail = ask(sh, "e529")
        check(tail.startswith("HTTP 529: Overloaded"), f"529: {tail!r}")
        text, tail = ask(sh, "tool-anth-loop")
        check("[forth] : spin begin again ; spin\r\n=> error: stopped after " in text
              and "steps (fuel limit)" in text and "Tool result: error: stopped after" in text
              and tail.startswith("stop"),
              f"an endless loop stopped by fuel, the model got the error: {text[-160:]!r}")
        m = sh.cmd("1 2 + .", r"3  ok\n")
        check(m is not None, "the kernel goes on after the loop")
        # Ctrl-C while the server is silent (read timeout 60 s): the request
        # ends at once (the server sees the connection closed)
        tls.stall_closed = None
        sh.p.stdin.write(b'S" stall-anth" ASK\n')
        sh.p.stdin.flush()
        m = sh.expect(r"Wait")
        t0 = time.monotonic()
        sh.p.stdin.write(b"\x03")
        sh.p.stdin.flush()
        while tls.stall_closed is None and time.monotonic() < t0 + 30:
            time.sleep(0.05)
        took = (tls.stall_closed or time.monotonic()) - t0
        check(m is not None and tls.stall_closed is not None and took < 15,
              f"Ctrl-C while the server is silent: the request ends in {took:.2f} s "
              f"(not at the 60 s read timeout)")
        m = sh.cmd("1 2 + .", r"3  ok\n")
        check(m is not None, "the shell answers after the cancel")
    finally:
        sh.close()
        seen += sh.all
    check(mock.KEY.encode() not in seen and b"SECRET" not in seen, "the API key is in no output")
    plain.close()
    tls.close()
    return 1 if nw.n_fail else 0


class Shell(nw.Shell):
    """nw.Shell with --llm, keeping all it printed in .all."""

    def __init__(self, cfg, llm, extra=()):
        self.all = b""
        self.p = subprocess.Popen([f"{nw.O}/mneme", "--serial", "none", "--net", "slirp",
                                   "--config", cfg, "--llm", llm, *extra],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.cv = threading.Condition()
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        while True:
            d = self.p.stdout.read1(4096)
            with self.cv:
                self.all += d
                if not d:
                    self.buf += b"\n<EOF>"
                    self.cv.notify_all()
                    return
                self.buf += d
                self.cv.notify_all()


def run_shell(cfg, llm, extra=()):
    return Shell(cfg, llm, extra)



if __name__ == "__main__":
    sys.exit(main())
