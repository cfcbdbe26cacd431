#!/usr/bin/env bash
# mneme-quantize: stories260K-f32 to Q8_0 and Q4_0 gives exactly the bytes
# of llama.cpp's llama-quantize: the stored files of
# ../shared/testdata/llm/models (llama.cpp c392e509) always, and today's
# llama-quantize from ../shared/tools when it runs on this CPU. Bad input
# gets an error. TAP output; run from the repository root with O=build/hosted.
set -u
O=${O:-build/hosted}
BIN=$O/mneme-quantize
LLM=${LLM:-../shared/testdata/llm}
LQ=${LQ:-../shared/tools/llama.cpp/llama-quantize}
fails=0
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$LLM/models/stories260K-f32.gguf
for t in Q8_0 Q4_0; do
  l=$(echo $t | tr A-Z a-z)
  if "$BIN" "$src" "$tmp/m-$l.gguf" $t 2>"$tmp/err"; then ok "$t written"; else nok "$t written: $(cat "$tmp/err")"; continue; fi
  if cmp -s "$tmp/m-$l.gguf" "$LLM/models/stories260K-$l.gguf"; then ok "$t identical to the stored llama.cpp file"
  else nok "$t identical to the stored llama.cpp file ($(cmp "$tmp/m-$l.gguf" "$LLM/models/stories260K-$l.gguf" 2>&1 | head -1))"; fi
  if [ -x "$LQ" ] && "$LQ" "$src" "$tmp/r-$l.gguf" $t 1 >/dev/null 2>&1; then
    if cmp -s "$tmp/m-$l.gguf" "$tmp/r-$l.gguf"; then ok "$t identical to today's llama-quantize"
    else nok "$t identical to today's llama-quantize"; fi
  else
    echo "ok - $t against today's llama-quantize # SKIP it does not run here"
  fi
done
if "$BIN" "$src" "$tmp/x.gguf" Q2_K 2>"$tmp/err"; then nok "unknown type refused"
else grep -q "unsupported type" "$tmp/err" && ok "unknown type refused" || nok "unknown type message"; fi
if "$BIN" "$tmp/none.gguf" "$tmp/x.gguf" Q8_0 2>"$tmp/err"; then nok "missing input refused"
else grep -q "cannot read" "$tmp/err" && ok "missing input refused" || nok "missing input message"; fi
head -c 100 "$src" > "$tmp/trunc.gguf"
if "$BIN" "$tmp/trunc.gguf" "$tmp/x.gguf" Q8_0 2>"$tmp/err"; then nok "truncated input refused"
else grep -q "not a valid GGUF" "$tmp/err" && ok "truncated input refused" || nok "truncated input message"; fi
exit $((fails > 0))
