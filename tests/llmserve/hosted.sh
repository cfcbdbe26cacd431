#!/usr/bin/env bash
# tests/llmserve/hosted.sh: mneme's OpenAI-compatible server (llmserve/)
# against the official `openai` npm client (tests/llmserve/openai_check.cjs)
# and curl, on the hosted platform: mneme runs as a Linux process with
# stories260K (--model), its network on libslirp with 127.0.0.1:PORT
# forwarded to the guest's 8080 (--serve 8080). The greedy answer must
# equal mneme-infer --chat's. TAP lines. Skips when node/npm or the model
# are missing.
#
#   tests/llmserve/hosted.sh [BUILD_DIR]      (default build/hosted)
set -u
cd "$(dirname "$0")/../.."
O=${1:-${O:-build/hosted}}
MODEL=${LLMSERVE_MODEL:-../shared/testdata/llm/models/stories260K-f32.gguf}
missing=
command -v node >/dev/null || missing="$missing nodejs"
command -v npm >/dev/null || missing="$missing npm"
command -v curl >/dev/null || missing="$missing curl"
[ -e "$MODEL" ] || missing="$missing $MODEL"
if [ -n "$missing" ]; then
  echo "ok - llmserve with the openai client (hosted) # SKIP missing:$missing"
  exit 0
fi
tests/llmserve/npm_openai.sh || { echo "not ok - install the openai npm client into build/npm"; exit 1; }
for p in mneme mneme-infer; do
  [ -x "$O/$p" ] || make -s TARGET=$(basename "$O") "$O/$p" >/dev/null ||
    { echo "not ok - build $O/$p"; exit 1; }
done
work=$(mktemp -d /tmp/llmserve-test.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
# the greedy reference: mneme-infer with the model's chat template
"$O/mneme-infer" -m "$MODEL" -p "Once upon a time" -n 16 --temp 0 --chat 2>/dev/null > "$work/infer.txt" ||
  { echo "not ok - mneme-infer --chat"; exit 1; }
python3 -c "import sys; t=open(sys.argv[1],encoding='utf-8').read(); open(sys.argv[2],'w',encoding='utf-8').write(t[:-1] if t.endswith('\n') else t)" \
  "$work/infer.txt" "$work/expected.txt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$O/mneme" --serial none --log info --net "slirp,hostfwd=$port:8080" --model "$MODEL" --serve 8080 \
  < /dev/null > "$work/mneme.log" 2>&1 &
pid=$!
# ready: the server listens and the interface has its address
for _ in $(seq 1 600); do
  grep -q "llmserve: OpenAI-compatible server listening" "$work/mneme.log" &&
    grep -q "net: .* address" "$work/mneme.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "llmserve: OpenAI-compatible server listening" "$work/mneme.log"; then
  echo "not ok - mneme --serve comes up"; sed 's/^/#   /' "$work/mneme.log" | tail -20; exit 1
fi
tests/llmserve/clients.sh "$port" "$work/expected.txt"
rc=$?
if ! kill -0 "$pid" 2>/dev/null; then
  echo "not ok - mneme still running after the tests"; tail -20 "$work/mneme.log" | sed 's/^/#   /'; exit 1
fi
exit $rc
