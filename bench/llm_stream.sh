#!/bin/sh
# Streaming from an LLM server: a local mock server streams 500 events at
# a fixed pace; llm-remote (hosted kernel in a process, plain HTTP) against
# `curl -N` on the same server in the same run: time to first token and
# per-event latency (last byte of the event on the wire -> its text in
# the client's ring, median and p99), with ratios; the same to the chat
# screen's glyphs (chat core, chat view, glyphs drawn into a memory
# framebuffer: test/chat_bench_client.c) and the whole hosted kernel path.
# Usage: O=build/hosted bench/llm_stream.sh
set -e
cd "$(dirname "$0")/.."
exec python3 bench/llm_stream.py
