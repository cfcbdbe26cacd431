#!/usr/bin/env python3
"""End to end: HTTP-GET, TLS-TRUST and TLS-INFO in the Forth shell of the
hosted kernel with --net slirp, through mneme's own network service, http
service and TLS client. The test makes its own CA (root -> intermediate ->
leaves, openssl), runs HTTPS servers (Python's ssl, TLS 1.2) and a DNS
server on 127.0.0.1 (slirp's 10.0.2.2 reaches them; *.ok.test resolves to
it) and a plain HTTP server that redirects to HTTPS: no traffic leaves
the machine. Checks: the page printed and status 200, TLS-INFO (version,
suite, subject, expiry), keep-alive, a redirect from http to https;
expired, not yet valid, wrong host name, unknown CA, self-signed, missing
intermediate, RSA-1024 and SHA-1 signed leaves refused with their reasons
and a THROW; servers that close, send garbage or stall in the handshake
reported with their reasons; an unset clock (SET-DATE to 1970) said so, and the same
server answering once the clock is set again. TAP output."""
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

check = nw.check
PAGE = b"hello from the https test server\n"


def openssl(*a):
    subprocess.run(["openssl", *a], check=True, capture_output=True)


def make_certs(d, name="www.ok.test"):
    with open(f"{d}/ca.cnf", "w") as f:
        f.write(f"""[ca]
default_ca = tca
[tca]
database = {d}/index.txt
new_certs_dir = {d}
serial = {d}/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[v3_leaf]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
""")
    open(f"{d}/index.txt", "w").close()
    with open(f"{d}/serial", "w") as f:
        f.write("1000\n")

    def cert(name, cn, issuer, ext, start, end, san=None, key="ec", md="sha256"):
        if key == "ec":
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{d}/{name}.key")
        else:
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{key[3:]}", "-out", f"{d}/{name}.key")
        req = ["req", "-new", "-key", f"{d}/{name}.key", "-subj", f"/CN={cn}", "-out", f"{d}/{name}.csr"]
        if san:
            req += ["-addext", f"subjectAltName={san}"]
        openssl(*req)
        ca = ["ca", "-batch", "-config", f"{d}/ca.cnf", "-extensions", ext, "-startdate", start,
              "-enddate", end, "-in", f"{d}/{name}.csr", "-out", f"{d}/{name}.pem", "-notext", "-md", md]
        if issuer == "self":
            ca += ["-selfsign", "-keyfile", f"{d}/{name}.key"]
        else:
            ca += ["-cert", f"{d}/{issuer}.pem", "-keyfile", f"{d}/{issuer}.key"]
        openssl(*ca)

    past, future = "20200101000000Z", "20450101000000Z"
    cert("root", "mneme e2e root", "self", "v3_ca", past, future)
    cert("inter", "mneme e2e intermediate", "root", "v3_ca", past, future)
    cert("other", "another root", "self", "v3_ca", past, future)
    cert("good", name, "inter", "v3_leaf", past, future, f"DNS:{name}")
    cert("expired", name, "inter", "v3_leaf", past, "20210101000000Z", f"DNS:{name}")
    cert("unknown", name, "other", "v3_leaf", past, future, f"DNS:{name}")
    cert("future", name, "inter", "v3_leaf", "20400101000000Z", future, f"DNS:{name}")
    cert("wrong", "other.example", "inter", "v3_leaf", past, future, "DNS:other.example")
    cert("self", name, "self", "v3_leaf", past, future, f"DNS:{name}")
    cert("weak", name, "inter", "v3_leaf", past, future, f"DNS:{name}", key="rsa1024")
    cert("sha1", name, "inter", "v3_leaf", past, future, f"DNS:{name}", md="sha1")


# The bad certificates every test refuses: (leaf, chain, reason, what).
BAD = (("expired", "inter", "TLS: certificate expired on 2021-01-01", "expired"),
       ("future", "inter", "TLS: certificate not yet valid (valid from 2040-01-01)", "not yet valid"),
       ("wrong", "inter", "TLS: host name mismatch", "wrong host name"),
       ("unknown", "other", "TLS: certificate from an unknown issuer", "unknown CA"),
       ("self", None, "TLS: certificate from an unknown issuer", "self-signed leaf"),
       ("good", None, "TLS: certificate from an unknown issuer", "missing intermediate"),
       ("weak", "inter", "TLS: certificate key too weak (RSA under 2048 bits)", "RSA-1024 key"),
       ("sha1", "inter", "TLS: certificate uses an unsupported algorithm (e.g. SHA-1", "SHA-1 signed leaf"))


def set_date_now():
    """The Forth line that sets mneme's clock to this machine's (UTC)."""
    t = time.gmtime()
    return f"{t.tm_sec} {t.tm_min} {t.tm_hour} {t.tm_mday} {t.tm_mon} {t.tm_year} SET-DATE"


sni_seen = []  # the host names clients asked for (SNI)


def https_server(d, leaf, chain="inter"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.sni_callback = lambda sock, name, c: sni_seen.append(name)
    if leaf in ("weak", "sha1"):  # OpenSSL would refuse to serve them
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if chain:
        with open(f"{d}/{leaf}.chain", "w") as f:
            f.write(open(f"{d}/{leaf}.pem").read() + open(f"{d}/{chain}.pem").read())
        ctx.load_cert_chain(f"{d}/{leaf}.chain", f"{d}/{leaf}.key")
    else:
        ctx.load_cert_chain(f"{d}/{leaf}.pem", f"{d}/{leaf}.key")
    return serve(ctx)


accepts = {}  # port -> connections accepted


def serve(ctx, redirect_to=None):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)

    def conn(c):
        try:
            if ctx:
                c = ctx.wrap_socket(c, server_side=True)
            f = c.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    return
                while f.readline() not in (b"\r\n", b""):
                    pass
                if redirect_to:
                    c.sendall(b"HTTP/1.1 301 Moved\r\nLocation: " + redirect_to.encode() +
                              b"\r\nContent-Length: 0\r\n\r\n")
                else:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(PAGE) + PAGE)
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()

    def loop():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            accepts[port] = accepts.get(port, 0) + 1
            threading.Thread(target=conn, args=(c,), daemon=True).start()

    port = s.getsockname()[1]
    threading.Thread(target=loop, daemon=True).start()
    return port


def rude_server(mode):
    """A server that misbehaves during the TLS handshake: after the
    ClientHello it closes ("close"), answers with something that is not
    TLS ("garbage") or says nothing ("stall")."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)

    def conn(c):
        try:
            c.recv(4096)
            if mode == "garbage":
                c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)
                time.sleep(5)
            elif mode == "stall":
                time.sleep(30)
        except OSError:
            pass
        c.close()

    def loop():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=conn, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]


# (mode, reason, what) of the rude servers.
RUDE = (("close", "TLS: the server closed the connection during the handshake", "closes"),
        ("garbage", "TLS: the server sent something that is not valid TLS", "sends garbage"))


def main():
    d = tempfile.mkdtemp(prefix="http_e2e.")
    make_certs(d)
    good = https_server(d, "good")
    bad = [(https_server(d, leaf, chain), why, what) for leaf, chain, why, what in BAD]
    fresh = https_server(d, "good")
    rude = [(rude_server(mode), why, what) for mode, why, what in RUDE]
    stall = rude_server("stall")
    rude.append((stall, f"TLS handshake with www.ok.test:{stall} timed out", "stalls"))
    plain = serve(None, redirect_to=f"https://www.ok.test:{good}/moved")
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 0))
    threading.Thread(target=nw.dns_server, args=(dns,), daemon=True).start()
    with open("config/hosted.toml") as f:
        base = f.read()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    cfg.write(base + f'\n[services.net]\ndhcp = true\ndns = ["10.0.2.2:{dns.getsockname()[1]}"]\n')
    cfg.close()
    sh = nw.Shell(cfg.name)
    try:
        check(sh.expect(r"net: slirp0 address 10\.0\.2\.15") is not None, "DHCP lease from slirp")
        # the test's root CA into the trust store, line by line
        sh.cmd("CREATE PEMBUF 4096 ALLOT  VARIABLE PEMLEN  0 PEMLEN !")
        sh.cmd(": +PEM ( c-addr u -- ) TUCK PEMBUF PEMLEN @ + SWAP MOVE PEMLEN +! "
               "10 PEMBUF PEMLEN @ + C! 1 PEMLEN +! ;")
        for line in open(f"{d}/root.pem").read().strip().splitlines():
            sh.cmd(f'S" {line}" +PEM')
        m = sh.cmd("PEMBUF PEMLEN @ TLS-TRUST .", r"(-?\d+)  ok\n")
        check(m is not None and m.group(1) == b"1", "TLS-TRUST adds the test's root CA")

        m = sh.cmd(f'S" https://www.ok.test:{good}/" HTTP-GET .', r"(?s)(.*?)(\d+)  ok\n", 30)
        check(m is not None and PAGE.strip() in m.group(1) and m.group(2) == b"200",
              "HTTP-GET over HTTPS prints the page, status 200")
        m = sh.cmd("TLS-INFO", r"(?s)(.*?) ok\n")
        info = m.group(1) if m else b""
        check(b"TLS 1.2 ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" in info or
              b"TLS 1.2 ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" in info or
              b"TLS 1.2 ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" in info,
              "TLS-INFO: version and suite")
        check(b"CN=www.ok.test; expires 2045-01-01" in info, "TLS-INFO: subject and expiry")
        check(b" alpn=http/1.1" in info and "www.ok.test" in sni_seen,
              "ALPN http/1.1 agreed (TLS-INFO), SNI www.ok.test seen by the server")
        m = sh.cmd(f'S" https://www.ok.test:{good}/again" HTTP-GET .', r"(?s)(.*?)(\d+)  ok\n", 30)
        m2 = sh.cmd("TLS-INFO", r"(?s)(.*?) ok\n")
        check(m is not None and m.group(2) == b"200" and m2 is not None and
              b"connection: kept alive (reused)" in m2.group(1) and accepts.get(good) == 1,
              "a second GET on the kept-alive connection (TLS-INFO says reused; the server saw 1 connection)")
        m = sh.cmd(f'S" http://10.0.2.2:{plain}/old" HTTP-GET .', r"(?s)(.*?)(\d+)  ok\n", 30)
        check(m is not None and PAGE.strip() in m.group(1) and m.group(2) == b"200",
              "http -> https redirect followed")
        for port, why, what in bad:
            m = sh.cmd(f'S" https://www.ok.test:{port}/" HTTP-GET .', r"HTTP-GET: (.*?)\r?\n.*?THROW (-\d+)", 30)
            check(m is not None and m.group(1).decode().startswith(why) and m.group(2) == b"-1029",
                  f"{what}: refused, '{why}', THROW -1029")
        # Servers that misbehave in the handshake: their reason, THROW, and
        # the kernel carries on (stall: the 15 s handshake timeout).
        for port, why, what in rude:
            m = sh.cmd(f'S" https://www.ok.test:{port}/" HTTP-GET .', r"HTTP-GET: (.*?)\r?\n.*?THROW (-\d+)", 40)
            check(m is not None and m.group(1).decode().startswith(why),
                  f"a server that {what} in the handshake: '{why}'")
        m = sh.cmd(f'S" https://10.0.2.2:{good}/" HTTP-GET .', r"HTTP-GET: (.*?)\r?\n.*?THROW (-\d+)", 30)
        check(m is not None and m.group(1).startswith(b"TLS: host name mismatch"),
              "an IPv4 literal not in the certificate: host name mismatch")
        # An unset clock (before 2024, as a machine with a dead RTC reads)
        # is said so; the same server works once the clock is set again.
        sh.cmd("0 0 0 1 1 1970 SET-DATE")
        m = sh.cmd("DATE", r"(?s)(.*?) ok\n")
        check(m is not None and b"clock not set" in m.group(1), "DATE: the clock is not set")
        m = sh.cmd(f'S" https://www.ok.test:{fresh}/" HTTP-GET .', r"HTTP-GET: (.*?)\r?\n.*?THROW (-\d+)", 30)
        check(m is not None and m.group(1).startswith(b"TLS: the clock is not set"),
              "unset clock: 'TLS: the clock is not set'")
        sh.cmd(set_date_now())
        m = sh.cmd(f'S" https://www.ok.test:{fresh}/" HTTP-GET .', r"(?s)(.*?)(\d+)  ok\n", 30)
        check(m is not None and m.group(2) == b"200", "clock set again: the same server answers 200")
        m = sh.cmd("S\" https://nosuch.bad.test/\" HTTP-GET .", r"HTTP-GET: (.*?)\r?\n", 30)
        check(m is not None and b"name not found" in m.group(1), "unknown name reported")
        m = sh.cmd("2 3 + .", r"5  ok\n")
        check(m is not None, "the shell still answers after the failures")
    finally:
        sh.close()
    return 1 if nw.n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
