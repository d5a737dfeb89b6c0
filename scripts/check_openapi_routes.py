"""Fails when openapi.yaml and the router disagree: every route in GatewayRoutes.swift must be a
path + method in openapi.yaml, and every documented path + method must be routed."""
import re
import sys
from pathlib import Path

import yaml

root = Path(__file__).resolve().parent.parent
source = (root / "Sources/GatewayService/GatewayRoutes.swift").read_text()
# A last segment {name*} (one or more segments) is documented as {name}.
routed = {
    (path.replace("*}", "}"), method) for method, path in re.findall(r'add(?:Async|Inline)?\(\.(\w+), "([^"]+)"', source)
}
# The fallback route serves any other first segment as a Redis command (GET, HEAD, POST, PUT).
if "setFallback" in source or "setAsyncFallback" in source:
    for path in ("/{command}", "/{command}/{arguments}"):
        routed |= {(path, method) for method in ("get", "post", "put")}
spec = yaml.safe_load((root / "openapi.yaml").read_text())
documented = {
    (path, method)
    for path, item in spec["paths"].items()
    for method in item
    if method in {"get", "put", "post", "delete", "patch", "head", "options"}
}
problems = [f"routed but not in openapi.yaml: {m.upper()} {p}" for p, m in sorted(routed - documented)]
problems += [f"in openapi.yaml but not routed: {m.upper()} {p}" for p, m in sorted(documented - routed)]
for problem in problems:
    print(problem)
if problems:
    sys.exit(1)
print(f"openapi.yaml matches the {len(routed)} routes")
