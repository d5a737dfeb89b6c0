#!/usr/bin/env bash
# Runs the fault suite once and writes its observed figures to docs/fault-tests.md (one run, one
# table). Usage: bash scripts/fault-report.sh [debug|release]   (default release)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
configuration="${1:-release}"
rows="$(mktemp -d)"
trap 'rm -rf "$rows"' EXIT
if [ "$configuration" = release ]; then
    swift build -c release --build-tests -Xswiftc -enable-testing
    FAULT_REPORT_DIR="$rows" swift test -c release -Xswiftc -enable-testing --skip-build --filter FaultTests
else
    swift build --build-tests
    FAULT_REPORT_DIR="$rows" swift test --skip-build --filter FaultTests
fi
{
    echo "| fault | time to detect | time to recover | errors during the fault | notes |"
    echo "|---|---|---|---|---|"
    cat "$rows"/*.row
} > "$rows/table.md"
python3 - "$rows/table.md" "$configuration" <<'PY'
import re, sys, datetime, platform, os
table = open(sys.argv[1]).read()
path = "docs/fault-tests.md"
text = open(path).read()
stamp = f"<!-- fault-table: {sys.argv[2]} build, {datetime.date.today()}, {os.cpu_count()} cores, {platform.platform()} -->"
text = re.sub(r"<!-- fault-table:.*?<!-- /fault-table -->", stamp + "\n" + table + "<!-- /fault-table -->", text, flags=re.S)
open(path, "w").write(text)
PY
echo "wrote docs/fault-tests.md"
