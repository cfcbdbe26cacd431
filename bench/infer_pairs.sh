#!/usr/bin/env bash
# make bench: mneme-infer against today's llama.cpp, side by side.
#
# Models: the TinyLlama-1.1B-shaped random model (bench/gen_model.c writes
# it as F16 into build/bench-models/, llama-quantize makes Q8_0, Q4_0 and
# Q4_K_M of it, so both engines read the same bytes; about 4.6 GB of disk,
# made once) and the synth d256 models of ../shared/testdata/llm/models.
# For each model and 1 and 2 threads, PAIRS pairs (default 5), the two
# programs alternating (and which goes first alternating too):
#
#   llama-bench -m M -p 128 -n 64 -r 1 -t T
#   mneme-infer -m M --bench 128 --bench-tg 64 -r 1 -t T -c 256
#
# Both the same way: a warm-up run of each test, then one timed run (-r 1)
# of a 128-token prompt and of 64 tokens generated one at a time, each
# from an empty KV cache, with random token ids.
# Prints each side's median tokens/s with its spread ((max - min) /
# median), and the ratio of the medians (mneme / llama.cpp), for prompt
# (pp128) and generation (tg64); then peak resident memory of both (GNU
# time) against mneme's limit, file + KV cache + 10%.
# A figure whose spread is above
# 30% on either side is marked "noisy": the machine is shared.
#
# BENCH_MODELS="1.1b d256" (default both) picks the sets, THREADS="1 2"
# the thread counts, ONLY=regex the
# model files; PAIRS=n; RAW=file keeps the raw figures; SUMMARIZE="raw
# files" only prints the table of earlier runs' raw figures.
set -u
O=${O:-build/hosted}
LLM=${LLM:-../shared/testdata/llm}
TOOLS=${TOOLS:-../shared/tools/llama.cpp}
PAIRS=${PAIRS:-5}
SETS=${BENCH_MODELS:-1.1b d256}
MB=build/bench-models
INFER=$O/mneme-infer
LB=$TOOLS/llama-bench
LQ=$TOOLS/llama-quantize

if [ -n "${SUMMARIZE:-}" ]; then
  sed -n '/^summarize() {/,/^}$/p' "$0" > /tmp/infer_pairs_sum.$$ && . /tmp/infer_pairs_sum.$$
  rm -f /tmp/infer_pairs_sum.$$
  summarize $SUMMARIZE
  exit 0
fi
if ! "$LB" --help >/dev/null 2>&1; then
  echo "infer_pairs: $LB does not run here (it needs AVX-512): compare with $LLM/bench/tinyllama-shape.md"
  exit 0
fi

models=()
if [[ " $SETS " == *" 1.1b "* ]]; then
  mkdir -p "$MB"
  f16=$MB/tinyllama-f16.gguf
  if [ ! -s "$f16" ]; then
    avail=$(df -Pk "$MB" | awk 'NR==2 {print $4}')
    if [ "$avail" -lt 6000000 ]; then
      echo "infer_pairs: less than 6 GB free under $MB: skipping the 1.1B model"
    else
      echo "writing $f16 (random TinyLlama-1.1B shape, F16)"
      "$O/bench/gen-model" "$LLM/vocab/ggml-vocab-llama-spm.gguf" "$f16.tmp" tinyllama && mv "$f16.tmp" "$f16"
    fi
  fi
  if [ -s "$f16" ]; then
    for t in Q8_0 Q4_0 Q4_K_M; do
      q=$MB/tinyllama-$(echo $t | tr A-Z a-z).gguf
      if [ ! -s "$q" ]; then
        echo "quantizing to $t with llama-quantize"
        "$LQ" "$f16" "$q.tmp" $t 2 > "$q.log" 2>&1 && mv "$q.tmp" "$q" || echo "llama-quantize $t failed: $q.log"
      fi
      [ -s "$q" ] && models+=("$q")
    done
  fi
fi
if [[ " $SETS " == *" d256 "* ]]; then
  models+=("$LLM/models/synth-llama-d256-q8_0.gguf" "$LLM/models/synth-llama-d256-q4_0.gguf"
           "$LLM/models/synth-llama-d256-q4_k_m.gguf")
fi

if [ -n "${RAW:-}" ]; then # keep the raw lines (RAW=file), written as they come
  out=$RAW
  : > "$out"
else
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
fi
llama_run() { # model threads
  /usr/bin/time -f "rss_kb %M" "$LB" -m "$1" -p 128 -n 64 -r 1 -t "$2" -o csv 2>&1 |
    awk -F, '/^"/ { gsub(/"/, ""); if ($(NF-7) == "128") print "llama pp", $(NF-1); else print "llama tg", $(NF-1) } /^rss_kb/ { split($0, a, " "); print "llama rss", a[2] }'
}
mneme_run() { # llama-bench's method: a warm-up run, then one timed pp128 and tg64 from an empty cache
  /usr/bin/time -f "rss_kb %M" "$INFER" -m "$1" --bench 128 --bench-tg 64 -r 1 -t "$2" -c 256 2>&1 |
    awk '/^pp128 t\/s:/ { print "mneme pp", $3 } /^tg64 t\/s:/ { print "mneme tg", $3 }
         /^peak memory/ { gsub(/\(/, ""); print "mneme limit", $6, $10 } /^rss_kb/ { print "mneme rss", $2 }'
}
for m in "${models[@]}"; do
  [[ "$(basename "$m")" =~ ${ONLY:-.} ]] || continue
  for t in ${THREADS:-1 2}; do
    echo "== $(basename "$m") $t $(stat -c %s "$m")" >> "$out"
    for p in $(seq "$PAIRS"); do
      if [ $((p % 2)) -eq 1 ]; then
        llama_run "$m" "$t" >> "$out"; mneme_run "$m" "$t" >> "$out"
      else
        mneme_run "$m" "$t" >> "$out"; llama_run "$m" "$t" >> "$out"
      fi
    done
    echo "load $(cut -d' ' -f1 /proc/loadavg)" >> "$out"
  done
done

summarize() {
python3 - "$@" <<'PY'
import statistics, sys
rows, cur = [], None
lines = [l for path in sys.argv[1:] for l in open(path)]
for line in lines:
    f = line.split()
    if not f:
        continue
    if f[0] == "==":
        cur = {"model": f[1].replace(".gguf", ""), "t": int(f[2]), "size": int(f[3])}
        rows.append(cur)
    elif f[0] == "load":
        cur["load"] = float(f[1])
    elif len(f) >= 3:
        try:
            vals = [float(v) for v in f[2:]]
        except ValueError:
            continue
        cur.setdefault((f[0], f[1]), []).append(vals if f[1] == "limit" else vals[0])

def stat(v):
    if not v:
        return None, None
    med = statistics.median(v)
    return med, (max(v) - min(v)) / med * 100 if med else 0

print("mneme-infer vs llama-bench (llama.cpp), medians of %s alternated pairs; spread = (max-min)/median"
      % max(len(r.get(("mneme", "pp"), [])) for r in rows))
print("| model | T | pp llama.cpp | pp mneme | ratio | tg llama.cpp | tg mneme | ratio | peak RSS llama.cpp / mneme MiB | mneme limit MiB | load |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|")
scale = {}
for r in rows:
    if not r.get(("mneme", "pp")) and not r.get(("llama", "pp")):
        continue
    cells = [r["model"], str(r["t"])]
    for test in ("pp", "tg"):
        lm, ls = stat(r.get(("llama", test), []))
        mm, ms = stat(r.get(("mneme", test), []))
        if lm is None or mm is None:
            cells += ["n/a", "n/a", "n/a"]
            continue
        noisy = " noisy" if max(ls, ms) > 30 else ""
        cells += ["%.1f ±%.0f%%" % (lm, ls), "%.1f ±%.0f%%" % (mm, ms), "**%.2f**%s" % (mm / lm, noisy)]
        scale[(r["model"], r["t"], test)] = (lm, mm)
    lr = r.get(("llama", "rss"), [])
    mr = r.get(("mneme", "rss"), [])
    lim = r.get(("mneme", "limit"), [])
    limit = (lim[0][0] + lim[0][1]) * 1.1 if lim else None
    peak = max(mr) / 1024 if mr else None
    cells.append("%.0f / %.0f" % (max(lr) / 1024 if lr else 0, peak or 0))
    cells.append("%.0f %s" % (limit, "ok" if peak and peak <= limit else "OVER") if limit else "n/a")
    cells.append("%.1f" % r.get("load", 0))
    print("| " + " | ".join(cells) + " |")
print()
print("Prompt scaling, 2 threads / 1 thread (median pp):")
for (model, t, test), (lm, mm) in sorted(scale.items()):
    if t == 2 and test == "pp" and (model, 1, "pp") in scale:
        l1, m1 = scale[(model, 1, "pp")]
        print("  %-28s llama.cpp %.2f  mneme %.2f" % (model, lm / l1, mm / m1))
PY
}
summarize "$out"
