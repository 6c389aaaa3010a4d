#!/bin/sh
# Rebuilds the test modules. The .wasm files are committed, so tests and CI do not need
# these tools; Debian: apt-get install -y wabt clang lld wasi-libc libclang-rt-dev-wasm32
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-all probe.c -o probe.wasm
for w in busy busy-start big-initial imported-memory needs-env reactor unstable; do
  wat2wasm "$w.wat" -o "$w.wasm"
done
