#!/usr/bin/env bash
# .venv-bench: the benchmark-only environment of scripts/bench_peers.py. It sees everything the
# product's .venv has (a .pth file names its site-packages and this checkout) and adds bm25s and
# txtai, which are peers to measure against, never dependencies of the product. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
[ -x .venv-bench/bin/python ] || .venv/bin/python -m venv .venv-bench
product=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
bench=$(.venv-bench/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n%s\n' "$product" "$PWD" > "$bench/product-venv.pth"
.venv-bench/bin/python -m pip install -q bm25s txtai
echo "bench env ready: $(.venv-bench/bin/python -c 'import bm25s, txtai, kb; print("bm25s", bm25s.__version__)')"
