#!/usr/bin/env bash
# tests/llmserve/clients.sh PORT EXPECTED_FILE: curl and the official
# `openai` npm client (openai_check.cjs; installed into build/npm by
# npm_openai.sh) against mneme's OpenAI-compatible server on
# 127.0.0.1:PORT, whichever platform runs it (tests/llmserve/hosted.sh:
# hosted; tests/qemu/llmserve.sh: x86_64 in QEMU). EXPECTED_FILE is
# mneme-infer --chat's greedy answer to "Once upon a time", 16 tokens.
# TAP lines; exits non-zero when a check fails.
set -u
cd "$(dirname "$0")/../.."
port=$1
expected=$2
fails=0
model=$(curl -sf --max-time 20 "http://127.0.0.1:$port/v1/models" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])') ||
  { echo "not ok - curl GET /v1/models"; exit 1; }
echo "ok - mneme --serve answers curl (model '$model')"
# curl, not streamed and streamed (the recorded llama.cpp exchange's request)
body='{"model":"'"$model"'","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":16,"temperature":0}'
got=$(curl -sf --max-time 60 -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port/v1/chat/completions" |
      python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["choices"][0]["message"]["content"])')
if [ "$got" = "$(cat "$expected")" ]; then echo "ok - curl: greedy answer equals mneme-infer --chat"
else fails=1; echo "not ok - curl: greedy answer equals mneme-infer --chat"; echo "#   got '$got'"; fi
sbody='{"model":"'"$model"'","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":16,"temperature":0,"stream":true}'
got=$(curl -sfN --max-time 60 -H 'Content-Type: application/json' -d "$sbody" "http://127.0.0.1:$port/v1/chat/completions" |
      python3 -c '
import json,sys
out="";done=False
for line in sys.stdin:
    line=line.strip()
    if not line.startswith("data: "): continue
    if line=="data: [DONE]": done=True; continue
    c=json.loads(line[6:])["choices"]
    if c: out+=c[0]["delta"].get("content","")
sys.stdout.write(out if done else "(no [DONE])")')
if [ "$got" = "$(cat "$expected")" ]; then echo "ok - curl -N: streamed answer equals mneme-infer --chat"
else fails=1; echo "not ok - curl -N: streamed answer equals mneme-infer --chat"; echo "#   got '$got'"; fi
OPENAI_DIR=build/npm/node_modules/openai timeout 900 node tests/llmserve/openai_check.cjs \
  "http://127.0.0.1:$port" "$model" "$expected" || fails=1
exit $fails
