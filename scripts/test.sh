#!/usr/bin/env bash
# Sets up and runs the whole test suite. Tests start their own redis-server processes on free
# loopback ports and stop them by PID; nothing else needs to run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build --parallel
