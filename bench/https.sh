#!/usr/bin/env bash
# make bench: mneme's HTTPS client beside curl against the same local
# openssl s_server (127.0.0.1, TLS 1.2, the bench's own CA): the median
# full-handshake time with ECDHE-ECDSA P-256 and ECDHE-RSA 2048 (AES-128-GCM
# both), and the throughput of a 100 MB download. mneme's hosted network
# is slirp only, so the client (http/client.c + tls/client.c over BearSSL)
# runs here over host sockets in build/hosted/http_probe: the same code the
# kernel runs, without the slirp/lwIP path (bench/net.sh measures that).
set -eu
O=${O:-build/hosted}
probe=$O/http_probe
N=${HANDSHAKES:-20}
d=$(mktemp -d /tmp/https_bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$d"' EXIT
command -v curl >/dev/null || { echo "https bench: curl is missing (make deps)"; exit 1; }
q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" \
  -out "$d/ca.pem" -days 30 -subj "/CN=bench CA" -addext "basicConstraints=critical,CA:true"
printf 'subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:false\nextendedKeyUsage=serverAuth\n' > "$d/ext"
for k in ec rsa; do
  if [ $k = ec ]; then q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$k.key"
  else q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/$k.key"; fi
  q openssl req -new -key "$d/$k.key" -subj /CN=localhost -out "$d/$k.csr"
  q openssl x509 -req -in "$d/$k.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
    -extfile "$d/ext" -out "$d/$k.pem"
done
mkdir "$d/www"
head -c 100000000 /dev/zero | openssl enc -aes-128-ctr -K 00 -iv 00 2>/dev/null > "$d/www/big"
echo hi > "$d/www/small"
serve() { # serve KEY CIPHER: prints the port
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$d/www" && exec openssl s_server -accept 127.0.0.1:$port -cert "$d/$1.pem" -key "$d/$1.key" \
     -tls1_2 -cipher "$2" -WWW -quiet > "$d/server.$1.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 200); do q curl -s --cacert "$d/ca.pem" https://localhost:$port/small && break; sleep 0.05; done
  echo "$port"
}
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
curl_hs() { # median of time_appconnect - time_connect, microseconds
  for _ in $(seq "$N"); do
    curl -s -o /dev/null --cacert "$d/ca.pem" --tlsv1.2 --tls-max 1.2 --no-sessionid \
      -w '%{time_connect} %{time_appconnect}\n' "https://localhost:$1/small"
  done | python3 -c 'import sys,statistics; print(int(statistics.median((float(b)-float(a))*1e6 for a,b in (l.split() for l in sys.stdin))))'
}
py_hs() { # the same with OpenSSL through Python's ssl, its context made once
  python3 - "$d/ca.pem" "$1" "$2" "$N" <<'PY'
import socket, ssl, statistics, sys, time
ca, port, cipher, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers(cipher)
ts = []
for _ in range(n):
    s = socket.create_connection(("localhost", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.perf_counter()
    c = ctx.wrap_socket(s, server_hostname="localhost")
    ts.append(time.perf_counter() - t0)
    c.close()
print(int(statistics.median(ts) * 1e6))
PY
}
echo "https bench: mneme's client (BearSSL, host sockets) beside curl $(curl --version | head -1 | cut -d' ' -f2) ($(openssl version | cut -d' ' -f1,2)), loopback, TLS 1.2"
for k in ec rsa; do
  if [ $k = ec ]; then cs=ECDHE-ECDSA-AES128-GCM-SHA256; name="ECDHE-ECDSA P-256"; else cs=ECDHE-RSA-AES128-GCM-SHA256; name="ECDHE-RSA 2048"; fi
  port=$(serve $k $cs)
  m=$("$probe" -c "$d/ca.pem" -k "$N" "https://localhost:$port/" | sed -n 's/^handshake-us: //p')
  c=$(curl_hs "$port")
  p=$(py_hs "$port" $cs)
  echo "handshake $name: mneme ${m} us, curl ${c} us (median of $N), mneme/curl time $(ratio "$m" "$c")x (aim <= 1.5)"
  echo "  (curl's time includes setting up OpenSSL for each connection; OpenSSL alone, context made once (Python ssl): ${p} us, mneme/OpenSSL $(ratio "$m" "$p")x)"
  if [ $k = ec ]; then
    out=$("$probe" -c "$d/ca.pem" -q "https://localhost:$port/big")
    ms=$(printf '%s\n' "$out" | sed -n 's/^seconds: //p'); mb=$(printf '%s\n' "$out" | sed -n 's/^bytes: //p')
    [ "$mb" = 100000000 ] || { printf '%s\n' "$out"; py_hs() { # the same with OpenSSL through Python's ssl, its context made once
  python3 - "$d/ca.pem" "$1" "$2" "$N" <<'PY'
import socket, ssl, statistics, sys, time
ca, port, cipher, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers(cipher)
ts = []
for _ in range(n):
    s = socket.create_connection(("localhost", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.perf_counter()
    c = ctx.wrap_socket(s, server_hostname="localhost")
    ts.append(time.perf_counter() - t0)
    c.close()
print(int(statistics.median(ts) * 1e6))
PY
}
echo "https bench: mneme's download is short"; exit 1; }
    cs_=$(curl -s -o /dev/null --cacert "$d/ca.pem" --tlsv1.2 --tls-max 1.2 -w '%{time_total} %{size_download}' "https://localhost:$port/big")
    set -- $cs_
    [ "$2" = 100000000 ] || { echo "https bench: curl's download is short ($2)"; exit 1; }
    mrate=$(python3 -c "print('%.0f' % (100/$ms))"); crate=$(python3 -c "print('%.0f' % (100/$1))")
    echo "download 100 MB ($name, AES-128-GCM): mneme ${mrate} MB/s, curl ${crate} MB/s, mneme/curl throughput $(ratio "$mrate" "$crate")x (aim >= 0.8)"
    echo "  mneme: $(printf '%s\n' "$out" | sed -n 's/^tls: //p')"
  fi
done
