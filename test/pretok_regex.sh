#!/usr/bin/env bash
# Checks the hand-coded pre-tokenizers (infer/pretok.c) against the real
# regexes of each family, run by Python's `regex` module, on llama.cpp's
# tokenizer test strings (gpt-2, llama-bpe = llama3, qwen2). These check
# the word splits only; the vocabularies of llama-bpe and qwen2 are not
# in the test data, so their ids cannot be compared.
set -u
O=${O:-build/hosted}
V=../shared/testdata/llm/vocab
fail=0
# Debian's python3-regex is installed for /usr/bin/python3; another python3
# first on PATH may lack it.
PY=python3
python3 -c 'import regex' 2>/dev/null || PY=/usr/bin/python3
for pair in gpt2:gpt-2 llama3:llama-bpe qwen2:qwen2; do
  pre=${pair%%:*} vocab=${pair#*:}
  if ! "$PY" - "$pre" "$V/ggml-vocab-$vocab.gguf.inp" > "$O/pretok-$pre.want" <<'PY'
import sys, regex
C = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
R = {
  "gpt2": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
  "llama3": C + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
  "qwen2": C + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}
text = open(sys.argv[2], encoding="utf-8").read()
for t in text.split("\n__ggml_vocab_test__\n")[:-1]:
    print(" ".join(w.encode().hex() for w in regex.findall(R[sys.argv[1]], t)))
PY
  then
    echo "not ok - pretok $pre: python3 with the regex module is needed"; fail=1; continue
  fi
  "$O/pretok-dump" "$pre" "$V/ggml-vocab-$vocab.gguf.inp" > "$O/pretok-$pre.got"
  total=$(wc -l < "$O/pretok-$pre.want")
  same=$(paste -d '\n' "$O/pretok-$pre.want" "$O/pretok-$pre.got" | awk 'NR%2{w=$0;next} w==$0{n++} END{print n+0}')
  if [ "$same" = "$total" ] && [ "$total" -gt 0 ]; then
    echo "ok - pretok $pre splits $same/$total $vocab test strings like its regex"
  else
    echo "not ok - pretok $pre splits $same/$total $vocab test strings like its regex"
    diff "$O/pretok-$pre.want" "$O/pretok-$pre.got" | head -20
    fail=1
  fi
done
exit $fail
