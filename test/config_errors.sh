#!/usr/bin/env bash
# config_errors.sh: every class of configuration error gives a message
# "file:line: key: what" from tools/mkconfig.py and a non-zero exit; good
# configurations bake. TAP output. Run from the repository root.
set -u
dir=${O:-build/hosted}/tmp-config-errors
rm -rf "$dir" && mkdir -p "$dir"
fail=0

good_base() { # a valid configuration to edit
  cat <<'TOML'
[kernel]
heap = "256K"

[services.serial]

[services.sermux]

[services.loopback]
port = 0

[services.hello]
port = 1

[platform]
name = "hosted"
TOML
}

# expect NAME PATTERN: TOML on stdin must fail with a stderr line matching
# the extended regex PATTERN (file:line: key: ...).
expect() {
  local name=$1 pattern=$2 err f
  f="$dir/$(tr -c 'a-z0-9' _ <<<"$name").toml"
  cat > "$f"
  if err=$(python3 tools/mkconfig.py "$f" 2>&1 >/dev/null); then
    echo "not ok - $name: accepted"; fail=1; return
  fi
  if grep -Eq -- "^$f:$pattern" <<<"$err"; then
    echo "ok - $name"
  else
    echo "not ok - $name: got: $err"; fail=1
  fi
}

if python3 tools/mkconfig.py config/hosted.toml --c "$dir/h.c" --bin "$dir/h.bin" \
   && [ -s "$dir/h.c" ] && [ -s "$dir/h.bin" ] \
   && [ "$(head -c 4 "$dir/h.bin")" = MNCF ]; then
  echo "ok - config/hosted.toml bakes to C and .bin"
else
  echo "not ok - config/hosted.toml bakes to C and .bin"; fail=1
fi

good_base | sed 's/^port = 1$/port = 1\nintervl_ms = 5/' |
  expect "misspelt key in a service" '13: services\.hello\.intervl_ms: unknown key'
good_base | sed 's/^heap = .*/&\nheep = 5/' |
  expect "unknown key in [kernel]" '3: kernel\.heep: unknown key'
good_base | sed 's/^name = "hosted"/&\nbaud = 9600/' |
  expect "unknown key in [platform]" '16: platform\.baud: unknown key'
{ good_base; printf '\n[extra]\nx = 1\n'; } |
  expect "unknown section" '17: extra: unknown section'
{ good_base; printf '\n[services.blinky]\n'; } |
  expect "unknown service" '17: services\.blinky: unknown service'
good_base | sed 's/^port = 0$/port = "zero"/' |
  expect "wrong type (string for integer)" '9: services\.loopback\.port: expected an integer 0\.\.65535, got string "zero"'
good_base | sed 's/^port = 0$/port = 70000/' |
  expect "integer out of range" '9: services\.loopback\.port: 70000 is out of range 0\.\.65535'
good_base | sed 's/^port = 0$/port = true/' |
  expect "bool is not an integer" '9: services\.loopback\.port: expected an integer'
good_base | sed 's/^heap = .*/heap = "lots"/' |
  expect "bad size" '2: kernel\.heap: expected a size'
{ good_base; printf '\n[services.tracing]\nmax_level = "loud"\n'; } |
  expect "bad log level" '18: services\.tracing\.max_level: expected one of "trace"'
{ good_base; printf '\n[services.forth_shells]\nports = [10, 10]\n'; } |
  expect "bad port list" '18: services\.forth_shells\.ports: ports repeat'
{ good_base; printf '\n[services.forth_shells]\nstack_cells = 8\n'; } |
  expect "VM stack too small" '18: services\.forth_shells\.stack_cells: 8 is out of range 16\.\.4096'
good_base | sed 's/^\[services\.sermux\]$/&\nenabled = "yes"/' |
  expect "enabled is not a bool" '7: services\.sermux\.enabled: expected true or false'
good_base | sed '/^heap = /d' |
  expect "missing required kernel.heap" '1: kernel\.heap: missing required value'
good_base | sed '/^name = /d' |
  expect "missing required platform.name" '14: platform\.name: missing required value'
good_base | sed 's/^name = "hosted"/name = "amiga"/' |
  expect "unknown platform" '15: platform\.name: unknown platform'
good_base | sed 's/^\[services\.sermux\]$/&\nenabled = false/' |
  expect "dependency disabled" "9: services\.loopback: needs service 'sermux', which is disabled"
{ good_base; printf '\n[services.pseudo_keyboard]\n'; } |
  expect "dependency not configured" "17: services\.pseudo_keyboard: needs service 'keyboard_mux', which is not configured"
good_base | sed 's/^port = 1$/port = 0/' |
  expect "port used twice" '12: services\.hello\.port: port 0 is already used by services\.loopback'
good_base | sed 's/^\[services\.sermux\]$/&\nports = 1/' |
  expect "more ports used than sermux allows" '7: services\.sermux\.ports: 2 ports are used by the enabled services but only 1 may be open'
{ good_base; printf '\n[services.forth_shells]\nports = [16]\n'; } > "$dir/p16.toml"
if python3 tools/mkconfig.py "$dir/p16.toml" > /dev/null; then
  echo "ok - sermux.ports is a count, not a port"
else
  echo "not ok - sermux.ports is a count, not a port"; fail=1
fi
if python3 tools/mkconfig.py config/hosted.toml --bin - | cmp -s - "$dir/h.bin"; then
  echo "ok - --bin - writes the bytes to stdout"
else
  echo "not ok - --bin - writes the bytes to stdout"; fail=1
fi
good_base | sed 's/^\[services\.hello\]$/[services.hello/' |
  expect "TOML syntax error" '11: syntax error'
printf '[kernel]\nheap = "1M"\n\n[platform]\nname = "hosted"\n\n[services]\nhello.port = "one"\n' |
  expect "dotted key line" '8: services\.hello\.port: expected an integer'

# [services.net]: addresses, DNS servers, a static address without dhcp
net() { good_base; printf '\n[services.net]\n%b\n' "$1"; }
net 'address = "10.0.2.300"' | expect "net: bad address" '[0-9]+: services\.net\.address: expected an IPv4 address'
net 'dns = ["10.0.2.3", "1.1.1.1", "8.8.8.8"]' | expect "net: three DNS servers" '[0-9]+: services\.net\.dns: expected a list of at most 2'
net 'dns = ["10.0.2.2:99999"]' | expect "net: bad DNS port" '[0-9]+: services\.net\.dns: expected'
net 'dns = ["10.0.2.2:53", "10.0.2.3:5353"]' | expect "net: DNS ports differ" '[0-9]+: services\.net\.dns: all DNS servers must use the same port'
net 'dhcp = false' | expect "net: static without address" '[0-9]+: services\.net\.address: missing required value'
net 'dhcp = false\naddress = "10.0.2.15"\ngateway = "10.0.2.2"\ndns = ["10.0.2.2:5353"]' > "$dir/net.toml"
if python3 tools/mkconfig.py "$dir/net.toml" --dump | grep "^service net: {'dhcp': False, 'address': '10.0.2.15'" >/dev/null; then
  echo "ok - net: static configuration bakes"
else
  echo "not ok - net: static configuration bakes"; fail=1
fi

# all errors of a file at once, in line order
f="$dir/many.toml"
good_base | sed -e 's/^heap = .*/heap = -1/' -e 's/^port = 1$/port = 1\nbogus = 1/' > "$f"
err=$(python3 tools/mkconfig.py "$f" 2>&1)
if [ "$(wc -l <<<"$err")" -eq 2 ] && head -1 <<<"$err" | grep -q ":2: kernel.heap" \
   && tail -1 <<<"$err" | grep -q ":13: services.hello.bogus"; then
  echo "ok - every error reported, in line order"
else
  echo "not ok - every error reported, in line order: $err"; fail=1
fi

# a disabled service needs nothing and is left out of the bytes
good_base | sed 's/^\[services\.hello\]$/&\nenabled = false/' > "$dir/off.toml"
if python3 tools/mkconfig.py "$dir/off.toml" --dump | grep -q '^service hello'; then
  echo "not ok - disabled service left out"; fail=1
else
  echo "ok - disabled service left out"
fi
exit $fail
