#!/usr/bin/env bash
# tests/llmserve/npm_openai.sh: installs the official `openai` npm client
# (pinned) into build/npm from the npm registry, once.
set -eu
cd "$(dirname "$0")/../.."
version=6.49.0
dir=build/npm
if [ -f "$dir/node_modules/openai/package.json" ] &&
   grep -q "\"version\": \"$version\"" "$dir/node_modules/openai/package.json"; then
  exit 0
fi
mkdir -p "$dir"
npm install --silent --no-audit --no-fund --no-save --prefix "$dir" "openai@$version" >&2
