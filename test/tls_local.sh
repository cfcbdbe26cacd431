#!/usr/bin/env bash
# TLS client + HTTP response parser against local openssl s_server
# instances (127.0.0.1 only), with the test's own CA made here by openssl:
# good chains (root -> intermediate -> leaf, ECDSA P-256 and RSA-2048
# leaves) accepted and the page printed; expired, not yet valid, wrong host
# name, unknown CA, self-signed leaf, missing intermediate, RSA-1024 leaf
# and TLS 1.1-only / CBC-only servers refused with their reasons. TAP.
set -u
O=${O:-build/hosted}
probe=$O/tls_probe
d=$O/test/tls_local
rm -rf "$d" && mkdir -p "$d"
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

cat > "$d/ca.cnf" <<CNF
[ca]
default_ca = tca
[tca]
database = $d/index.txt
new_certs_dir = $d
serial = $d/serial
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
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
CNF
: > "$d/index.txt"; echo 1000 > "$d/serial"
gen() { # gen NAME TYPE
  case $2 in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$1.key" ;;
    rsa*) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:${2#rsa} -out "$d/$1.key" ;;
  esac 2>/dev/null
}
sign() { # sign NAME CN ISSUER EXT START END [SAN]
  local san=${7:-}
  openssl req -new -key "$d/$1.key" -subj "/CN=$2" ${san:+-addext "subjectAltName=$san"} \
    -out "$d/$1.csr" 2>/dev/null
  if [ "$3" = self ]; then
    openssl ca -batch -config "$d/ca.cnf" -selfsign -keyfile "$d/$1.key" -extensions "$4" \
      -startdate "$5" -enddate "$6" -in "$d/$1.csr" -out "$d/$1.pem" -notext 2>"$d/$1.log"
  else
    openssl ca -batch -config "$d/ca.cnf" -cert "$d/$3.pem" -keyfile "$d/$3.key" -extensions "$4" \
      -startdate "$5" -enddate "$6" -in "$d/$1.csr" -out "$d/$1.pem" -notext 2>"$d/$1.log"
  fi || { cat "$d/$1.log"; notok "make certificate $1"; exit 1; }
}
PAST=20200101000000Z; FUTURE=20450101000000Z
gen root ec; sign root "mneme test root" self v3_ca $PAST $FUTURE
gen inter ec; sign inter "mneme test intermediate" root v3_ca $PAST $FUTURE
gen other ec; sign other "some other root" self v3_ca $PAST $FUTURE
gen ecleaf ec; sign ecleaf localhost inter v3_leaf $PAST $FUTURE DNS:localhost
gen rsaleaf rsa2048; sign rsaleaf localhost inter v3_leaf $PAST $FUTURE DNS:localhost
gen expired ec; sign expired localhost inter v3_leaf $PAST 20210101000000Z DNS:localhost
gen future ec; sign future localhost inter v3_leaf 20400101000000Z $FUTURE DNS:localhost
gen wrong ec; sign wrong other.example inter v3_leaf $PAST $FUTURE DNS:other.example
gen unknown ec; sign unknown localhost other v3_leaf $PAST $FUTURE DNS:localhost
gen weak rsa1024; sign weak localhost inter v3_leaf $PAST $FUTURE DNS:localhost
gen self ec; sign self localhost self v3_leaf $PAST $FUTURE DNS:localhost
for c in ecleaf rsaleaf expired future wrong unknown weak; do
  iss=inter; [ $c = unknown ] && iss=other
  cat "$d/$c.pem" "$d/$iss.pem" > "$d/$c.chain"
done

# run NAME CERT CHAIN EXPECT [s_server options]: starts a server on a free
# port (it prints ACCEPT when listening), runs the probe, checks the output.
run() {
  local name=$1 cert=$2 chain=$3 expect=$4; shift 4
  local port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local log=$d/$name.server
  openssl s_server -accept 127.0.0.1:$port -cert "$d/$cert.pem" -key "$d/$cert.key" \
    ${chain:+-cert_chain "$d/$chain"} -www -naccept 1 "$@" > "$log" 2>&1 &
  local spid=$!
  for _ in $(seq 200); do grep -q ACCEPT "$log" && break; kill -0 $spid 2>/dev/null || break; sleep 0.05; done
  grep -q ACCEPT "$log" || { cat "$log"; notok "$name: server did not start"; kill $spid 2>/dev/null; return; }
  local out
  out=$(timeout 20 "$probe" $port localhost "$d/root.pem" 2>&1)
  kill $spid 2>/dev/null; wait $spid 2>/dev/null
  if printf '%s\n' "$out" | grep -qF -- "$expect"; then ok "$name: $expect"
  else printf '%s\n' "$out" | head -20 | sed 's/^/# /'; notok "$name: expected '$expect'"; fi
}
run ecdsa-p256-chain ecleaf inter.pem "status: 200" -tls1_2
run rsa-2048-chain rsaleaf inter.pem "status: 200" -tls1_2
run page-printed ecleaf inter.pem "s_server -accept" -tls1_2
run info ecleaf inter.pem "tls: TLS 1.2 ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" -tls1_2
run expired expired inter.pem "error: certificate expired or not yet valid"
run not-yet-valid future inter.pem "error: certificate expired or not yet valid"
run wrong-host wrong inter.pem "error: host name mismatch"
run unknown-ca unknown other.pem "error: certificate from an unknown issuer"
run self-signed self "" "error: certificate from an unknown issuer"
run missing-intermediate ecleaf "" "error: certificate from an unknown issuer"
run rsa-1024 weak inter.pem "error: certificate key too weak" -cipher "DEFAULT:@SECLEVEL=0"
run tls1.1-only ecleaf inter.pem "error: handshake failure: the server refused our offer" -tls1_1 -cipher 'ALL:@SECLEVEL=0'
run cbc-only ecleaf inter.pem "error: handshake failure" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256
exit $fail
