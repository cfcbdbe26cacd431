#!/bin/sh
# Runs the wire codec benchmark (COBS, sermux framing, postcard) against
# memcpy in the same run. Usage: O=build/hosted bench/wire.sh
set -e
"${O:-build/hosted}/bench/wire_bench"
