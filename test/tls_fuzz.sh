#!/usr/bin/env bash
# Fuzzes the TLS client (tls/client.c over BearSSL, both instrumented)
# with hostile server bytes, libFuzzer (clang -fsanitize=fuzzer,address,
# undefined), for FUZZ_SECONDS (default 10). The BearSSL files it uses
# are compiled once into build/fuzz/tls/libbearssl.a. Needs make to
# have fetched BearSSL and
# generated the trust store (build/gen/tls). One TAP line.
set -u
secs=${FUZZ_SECONDS:-10}
out=build/fuzz/tls
bs=build/src/bearssl-0.6+dfsg.1-3
gen=build/gen/tls/anchors_mozilla.c
[ -f "$bs/.fetched" ] && [ -f "$gen" ] || { echo "not ok - tls fuzz: run make first (BearSSL, trust store)"; exit 1; }
mkdir -p "$out/corpus" "$out/seeds" "$out/obj"
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
flags="-std=gnu11 -g -O1 -Iinclude -I$bs/inc -Itls -DMN_HOSTED=1"
# Only the BearSSL files the client links are built instrumented (about a
# third of them): a plain link against make's host BearSSL with a link map
# says which (their objects are named dir_file.o there).
host=build/gen/tls/host/libbearssl.a
if [ ! -f "$out/libbearssl.a" ]; then
  [ -f "$host" ] || { echo "not ok - tls fuzz: run make first ($host)"; exit 1; }
  echo 'int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long);
int main(void) { return LLVMFuzzerTestOneInput((const unsigned char *)"", 0); }' > "$out/main.c"
  cc -std=gnu11 -O0 -Iinclude -I$bs/inc -Itls -DMN_HOSTED=1 -o "$out/plain" "$out/main.c" \
    test/tls_fuzz.c tls/client.c tls/anchors.c "$gen" "$host" -Wl,-Map="$out/map.txt" \
    || { echo "not ok - tls fuzz: plain link for the file list"; exit 1; }
  grep -o 'libbearssl.a([a-z0-9_]*\.o)' "$out/map.txt" | sed 's/.*(\(.*\)\.o)/\1/' | sort -u > "$out/used"
  for f in settings.c $(cat tls/bearssl.files); do
    grep -qx "$(echo "${f%.c}" | tr / _)" "$out/used" || continue
    o=$out/obj/$(echo "$f" | tr / _).o
    clang -O1 -g -w $san -I$bs/inc -I$bs/src -DBR_USE_UNIX_TIME=0 -DBR_USE_URANDOM=0 \
      -c "$bs/src/$f" -o "$o" || { echo "not ok - tls fuzz: BearSSL builds"; exit 1; }
  done
  ar rcs "$out/libbearssl.a" "$out"/obj/*.o
fi
if ! clang $flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     test/tls_fuzz.c tls/client.c tls/anchors.c "$gen" "$out/libbearssl.a" \
     -o "$out/tls_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - tls fuzz target builds"; exit 1
fi
# Seeds: a TLS alert record, a ServerHello-shaped record, garbage.
printf '\x05\x15\x03\x03\x00\x02\x02\x28' > "$out/seeds/alert"
printf '\x07\x16\x03\x03\x00\x2a\x02\x00\x00\x26\x03\x03AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\xc0\x2b\x00' > "$out/seeds/hello"
printf '\x01GET / HTTP/1.1\r\n\r\n' > "$out/seeds/garbage"
# And a real server flight (ServerHello, Certificate with a chain of two
# certificates, the leaf valid for a day, so expired at the fuzzer's
# 2027-01-15, ServerKeyExchange...) recorded once between
# http_probe and openssl s_server: it takes the fuzzer straight into the
# certificate path (the X.509 wrapper's subject and date decoding).
probe=${O:-build/hosted}/http_probe
if [ ! -s "$out/seeds/flight" ] && [ -x "$probe" ] && command -v openssl >/dev/null; then
  k=$out/flight; mkdir -p "$k"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$k/ca.key" \
    -out "$k/ca.pem" -days 3650 -subj "/CN=fuzz CA/O=mneme" 2>/dev/null &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$k/leaf.key" \
    -out "$k/leaf.csr" -subj "/CN=localhost/O=mneme/OU=fuzz" 2>/dev/null &&
  openssl x509 -req -in "$k/leaf.csr" -CA "$k/ca.pem" -CAkey "$k/ca.key" -CAcreateserial \
    -days 1 -out "$k/leaf.pem" 2>/dev/null &&
  python3 - "$probe" "$k" "$out/seeds/flight" <<'PY' || echo "# tls fuzz: no recorded flight seed (continuing)"
import socket, subprocess, sys, threading
probe, k, dest = sys.argv[1:]
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
srv = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", f"{k}/leaf.pem",
                        "-key", f"{k}/leaf.key", "-cert_chain", f"{k}/ca.pem", "-tls1_2",
                        "-naccept", "1", "-www"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
port = None
for line in srv.stdout:  # "ACCEPT 127.0.0.1:PORT"
    if line.startswith(b"ACCEPT"):
        port = int(line.split(b":")[-1]); break
flight = bytearray()
def relay():
    c, _ = ls.accept(); u = socket.create_connection(("127.0.0.1", port))
    def up():
        while (b := c.recv(65536)):
            u.sendall(b)
    threading.Thread(target=up, daemon=True).start()
    u.settimeout(5)
    try:
        while (b := u.recv(65536)):
            flight.extend(b); c.sendall(b)
    except OSError:
        pass
    c.close()
t = threading.Thread(target=relay, daemon=True); t.start()
subprocess.run([probe, "-T", "5000", f"https://localhost:{ls.getsockname()[1]}/"],
               capture_output=True, timeout=20)
t.join(6); srv.kill()
if len(flight) < 200:
    sys.exit(1)
open(dest, "wb").write(b"\xff" + bytes(flight))
PY
fi
if "$out/tls_fuzz" -max_total_time="$secs" -max_len=8192 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - tls client fuzzed with server bytes ${secs}s, ${runs:-?} inputs, no crash"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - tls client fuzz found a crash (see $out/fuzz.log)"
  exit 1
fi
