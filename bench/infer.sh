#!/usr/bin/env bash
# make bench: mneme-infer against llama.cpp on the reference models.
#
# For every model in ../shared/testdata/llm/models and 1 and 2 threads:
# prompt processing of 128 tokens (pp128) and generation of 128 tokens
# one at a time (tg128), as llama-bench measures them, REPS times each.
# Prints our median tokens/s with the run-to-run spread (min..max), our
# cpu/wall share (below 1 per thread means the shared machine took CPU
# from us), llama.cpp's figures from ../shared/testdata/llm/bench/
# (llama-bench.csv and its 10-repetition rerun, where present) and the
# ratio of our median to their mean; at one thread also that ratio divided
# by our cpu/wall share: an estimate of it had the machine not taken CPU
# from us.
# Then peak memory against the limit file + KV cache + 10%, and the dot
# kernels' speed per type and variant (build/hosted/bench/infer_kernels).
set -u
O=${O:-build/hosted}
LLM=${LLM:-../shared/testdata/llm}
REPS=${REPS:-5}
BIN=$O/mneme-infer
out=$(mktemp)
for model in "$LLM"/models/*.gguf; do
  for t in 1 2; do
    echo "== $(basename "$model") t=$t" >> "$out"
    "$BIN" -m "$model" --bench 128 -r "$REPS" -t "$t" >> "$out" 2>&1 || echo "error" >> "$out"
  done
  echo "== mem $(basename "$model")" >> "$out"
  "$BIN" -m "$model" -p "Once upon a time" -n 64 --temp 0 2>&1 >/dev/null | grep 'peak memory' >> "$out"
done
python3 - "$out" "$LLM/bench" <<'PY'
import csv, re, statistics, sys, os
out, bdir = sys.argv[1], sys.argv[2]
ref = {}
for name in ("llama-bench.csv", "llama-bench.r10.csv"):
    path = os.path.join(bdir, name)
    if not os.path.exists(path):
        continue
    for row in csv.DictReader(open(path)):
        test = "pp128" if row["n_prompt"] == "128" else "tg128"
        ref.setdefault((row["model_filename"], int(row["n_threads"]), test), []).append(float(row["avg_ts"]))
model = threads = None
for line in open(out):
    m = re.match(r"== (\S+) t=(\d+)", line)
    if m:
        model, threads = m.group(1), int(m.group(2))
        continue
    m = re.match(r"(pp128|tg128) t/s: (.*)", line)
    if m:
        test, runs = m.group(1), [float(v) for v in m.group(2).split()]
        med = statistics.median(runs)
        spread = (max(runs) - min(runs)) / med * 100
        cur = (test, med, min(runs), max(runs), spread)
        continue
    m = re.match(r"(pp128|tg128) cpu/wall: (\S+)", line)
    if m:
        test, med, lo, hi, spread = cur
        theirs = ref.get((model, threads, test), [])
        tstr = " / ".join("%.0f" % v for v in theirs) or "n/a"
        ratio = med / statistics.mean(theirs) if theirs else None
        share = float(m.group(2))
        rstr = "%.2fx" % ratio if ratio else "n/a"
        # one thread: what the ratio would be had we had the whole core (an
        # estimate for a loaded machine; rusage is coarse on short runs)
        nstr = "%.2fx" % (ratio / min(share, 1.0)) if ratio and share > 0 and threads == 1 else "n/a"
        print("%-32s t%d %s  mneme %8.1f t/s (min %.1f max %.1f, spread %3.0f%%, cpu/wall %.2f)  llama.cpp %s  ratio %s  (at full CPU ~%s)"
              % (model, threads, test, med, lo, hi, spread, share, tstr, rstr, nstr))
        continue
    m = re.match(r"== mem (\S+)", line)
    if m:
        model = m.group(1)
        continue
    m = re.match(r"peak memory: (\S+) MiB \(file (\S+) MiB, KV cache (\S+) MiB", line)
    if m:
        peak, f, kv = map(float, m.groups())
        limit = (f + kv) * 1.10
        print("%-32s memory: peak %.2f MiB, limit (file + KV) * 1.1 = %.2f MiB: %s"
              % (model, peak, limit, "ok" if peak <= limit else "over"))
PY
rm -f "$out"
# the kernels alone, in thread CPU time (robust to a loaded machine)
if [ -x "$O/bench/infer_kernels" ]; then
  "$O/bench/infer_kernels" | grep -v scalar
fi
exit 0
