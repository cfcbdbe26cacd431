#!/usr/bin/env python3
"""mneme's HTTP client (http/client.c, through build/<t>/http_probe over
host sockets) against the test's own servers on 127.0.0.1: a plain HTTP
server and an HTTPS one (Python's ssl, TLS 1.2, a CA made here with
openssl). Checks: a chunked body sent one byte per TCP segment, a 100 KB
header refused, a short body reported, keep-alive reuse (plain and TLS),
redirects (absolute, relative, a loop stopped, https->http refused), a
1 MB download checked by sha256, POST with a header and a body, a stalled
response and a non-HTTP answer reported within the read timeout, a
connect that times out. TAP output."""
import hashlib
import os
import random
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

O = os.environ.get("O", "build/hosted")
PROBE = f"{O}/http_probe"
n_fail = 0
MB = random.Random(1).randbytes(1 << 20)
CHUNKED_BODY = b"".join(bytes([65 + i % 26]) * (i % 7 + 1) for i in range(60))
conns = {"plain": 0, "tls": 0}


def check(cond, what, out=""):
    global n_fail
    if cond:
        print(f"ok - {what}", flush=True)
    else:
        n_fail += 1
        for line in out.splitlines()[:12]:
            print(f"# {line}")
        print(f"not ok - {what}", flush=True)


def read_request(f):
    line = f.readline()
    if not line:
        return None, None, {}, b""
    method, path, _ = line.decode().split(" ", 2)
    length = 0
    heads = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode().partition(":")
        heads[k.lower()] = v.strip()
        if k.lower() == "content-length":
            length = int(v)
    return method, path, heads, f.read(length) if length else b""


def reply(c, status, body, extra=""):
    c.sendall(f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body)


def handle(c, kind, port_of):
    conns[kind] += 1
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = c.makefile("rb")
    while True:
        method, path, heads, body = read_request(f)
        if method is None:
            return
        if path == "/chunked":
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            data, p, sizes = b"", 0, 1
            while p < len(CHUNKED_BODY):
                part = CHUNKED_BODY[p:p + sizes]
                data += b"%x;ext=1\r\n" % len(part) + part + b"\r\n"
                p += len(part)
                sizes = sizes % 9 + 1
            data += b"0\r\nX-Trailer: yes\r\n\r\n"
            for i in range(len(data)):      # one byte per segment
                c.sendall(data[i:i + 1])
                time.sleep(0.0005)
        elif path == "/bighead":
            big = b"".join(b"X-Big-%d: %s\r\n" % (i, b"a" * 1000) for i in range(100))
            c.sendall(b"HTTP/1.1 200 OK\r\n" + big + b"Content-Length: 2\r\n\r\nhi")
        elif path == "/longvalue":
            c.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 20000 + b"\r\nContent-Length: 2\r\n\r\nhi")
        elif path == "/short":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"s" * 50)
            c.close()
            return
        elif path == "/ka":
            reply(c, "200 OK", b"kept alive\n")
        elif path == "/r1":
            reply(c, "302 Found", b"moved", "Location: /r/r2\r\n")
        elif path == "/r/r2":
            reply(c, "301 Moved", b"", "Location: r3\r\n")
        elif path == "/r/r3":
            reply(c, "307 Temporary", b"", f"Location: http://localhost:{port_of['plain']}/final\r\n")
        elif path == "/final":
            reply(c, "200 OK", b"final page\n")
        elif path == "/loop":
            reply(c, "302 Found", b"", "Location: /loop\r\n")
        elif path == "/down":
            reply(c, "302 Found", b"", f"Location: http://localhost:{port_of['plain']}/final\r\n")
        elif path == "/mb":
            reply(c, "200 OK", MB)
        elif path == "/post":
            ctype = heads.get("content-type", "none")
            reply(c, "201 Created", f"{method} {len(body)} type={ctype} ".encode() + body)
        elif path == "/stall":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            time.sleep(6)
            return
        elif path == "/garbage":
            c.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            time.sleep(1)
            return
        else:
            reply(c, "404 Not Found", b"no such page\n")


def serve(sock, kind, port_of, ctx=None):
    while True:
        try:
            c, _ = sock.accept()
        except OSError:
            return
        if ctx:
            try:
                c = ctx.wrap_socket(c, server_side=True)
            except (ssl.SSLError, OSError):
                continue
        threading.Thread(target=lambda c=c: guard(c, kind, port_of), daemon=True).start()


def guard(c, kind, port_of):
    try:
        handle(c, kind, port_of)
    except (OSError, ValueError, ssl.SSLError):
        pass
    finally:
        c.close()


def make_ca(d):
    def run(*a):
        subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "3650", "-subj", "/CN=http test CA",
        "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{d}/leaf.key", "-out", f"{d}/leaf.csr", "-subj", "/CN=localhost")
    with open(f"{d}/ext", "w") as f:
        f.write("subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:false\n"
                "extendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", f"{d}/leaf.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
        "-CAcreateserial", "-days", "3650", "-extfile", f"{d}/ext", "-out", f"{d}/leaf.pem")


def probe(*args, timeout=30):
    t0 = time.time()
    p = subprocess.run([PROBE, *args], capture_output=True, timeout=timeout)
    return p.stdout.decode("latin1") + p.stderr.decode("latin1"), time.time() - t0


def main():
    d = tempfile.mkdtemp(prefix="http_local.")
    make_ca(d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(f"{d}/leaf.pem", f"{d}/leaf.key")
    port_of = {}
    for kind, c in (("plain", None), ("tls", ctx)):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        port_of[kind] = s.getsockname()[1]
        threading.Thread(target=serve, args=(s, kind, port_of, c), daemon=True).start()
    http = f"http://localhost:{port_of['plain']}"
    https = f"https://localhost:{port_of['tls']}"
    ca = ["-c", f"{d}/ca.pem"]

    out, _ = probe(f"{http}/chunked")
    check(CHUNKED_BODY.decode() in out and "status: 200" in out and f"bytes: {len(CHUNKED_BODY)}" in out,
          "chunked body sent one byte per segment, decoded whole", out)
    out, _ = probe(f"{http}/bighead")
    check("error: response headers too large" in out, "100 KB header block refused", out)
    out, _ = probe(f"{http}/longvalue")
    check("error: a response header value is too long" in out, "20 KB header value refused", out)
    out, _ = probe(f"{http}/short")
    check("error: body shorter than Content-Length (50 bytes" in out, "short body reported", out)
    before = conns["plain"]
    out, _ = probe("-n", "3", f"{http}/ka")
    check(out.count("reused: 1") == 2 and conns["plain"] - before == 1,
          "keep-alive: 3 requests on 1 connection (http)", out)
    before = conns["tls"]
    out, _ = probe(*ca, "-n", "3", f"{https}/ka")
    check(out.count("reused: 1") == 2 and conns["tls"] - before == 1 and "status: 200" in out,
          "keep-alive: 3 requests on 1 connection (https)", out)
    out, _ = probe(f"{http}/r1")
    check("final page" in out and "redirects: 3" in out and "status: 200" in out,
          "redirects: 302 absolute path, 301 relative, 307 absolute URL", out)
    out, _ = probe("-r", "2", f"{http}/r1")
    check("error: too many redirects" in out, "redirects: limit enforced", out)
    out, _ = probe(f"{http}/loop")
    check("error: too many redirects" in out and "redirects: 5" in out, "redirect loop stopped after 5", out)
    out, _ = probe(*ca, f"{https}/down")
    check("error: redirect from https to http refused" in out, "https never redirected to http", out)
    out, _ = probe("-s", f"{http}/mb")
    check(f"sha256: {hashlib.sha256(MB).hexdigest()}" in out and f"bytes: {1 << 20}" in out,
          "1 MB download, sha256 matches (http)", out)
    out, _ = probe(*ca, "-s", f"{https}/mb")
    check(f"sha256: {hashlib.sha256(MB).hexdigest()}" in out, "1 MB download, sha256 matches (https)", out)
    out, _ = probe("-X", "POST", "-d", "hello=1", "-H", "Content-Type: text/plain", f"{http}/post")
    check("status: 201" in out and "POST 7 type=text/plain hello=1" in out, "POST with a header and a body", out)
    out, secs = probe("-t", "1000", f"{http}/stall")
    check("error: read timed out" in out and secs < 5, f"stalled body: read timeout ({secs:.1f}s)", out)
    out, _ = probe(f"{http}/garbage")
    check("error: not an HTTP/1.x response" in out, "non-HTTP answer refused", out)
    out, _ = probe(f"{http}/nothing")
    check("status: 404" in out and "error:" not in out, "404 is a response, not an error", out)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    cport = closed.getsockname()[1]
    closed.close()
    out, _ = probe(f"http://127.0.0.1:{cport}/")
    check(f"error: connect to 127.0.0.1:{cport}: connection refused" in out, "refused connect reported", out)
    # A listener whose accept queue is full (backlog 0, one connection
    # waiting): Linux drops the next SYN, so the connect times out.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    filler = socket.create_connection(full.getsockname(), timeout=5)
    fport = full.getsockname()[1]
    out, secs = probe("-T", "1000", f"http://127.0.0.1:{fport}/")
    check(f"error: connect to 127.0.0.1:{fport} timed out" in out and secs < 5,
          f"connect timeout ({secs:.1f}s)", out)
    filler.close()
    full.close()
    for url, why in (("ftp://x/", "must start with http"), ("http://a@b/", "user names"),
                     ("http://h:99999/", "bad port"), ("http:///x", "no host name"),
                     ("http://h/a b", "space or a control character")):
        out, _ = probe(url)
        check(f"error: the URL" in out or why in out, f"bad URL {url!r}: {why}", out)
    sys.exit(1 if n_fail else 0)


main()
