#!/usr/bin/env python3
"""Judge one classified iscsi-test-cu run (iscsi_classify.py output) against
tests/conformance/allowed_skips. Usage: iscsi_judge.py RESULTS ALLOWED
[--must-pass PATTERN ...]
Prints every failure, every skip that no allowlist line covers (pattern AND
message), every --must-pass test that did not pass, and the allowed skips
grouped by reason. Exit 0 only when there is none of the first three."""
import fnmatch
import sys

res, allowed_file = sys.argv[1], sys.argv[2]
must = sys.argv[sys.argv.index("--must-pass") + 1:] if "--must-pass" in sys.argv else []
allowed = []
for line in open(allowed_file):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    parts = [p.strip() for p in line.split("|", 2)]
    if len(parts) != 3 or not all(parts):
        sys.exit(f"iscsi_judge: malformed allowlist line: {line}")
    allowed.append(parts)

bad = []
ok_skips = {}
results = {}
for line in open(res):
    line = line.rstrip("\n")
    if line.startswith("counts:"):
        continue
    verdict, rest = line.split(" ", 1)
    name, _, msg = rest.partition(" | ")
    results[name] = verdict
    if verdict == "failed":
        bad.append(f"failed   {name}")
    elif verdict == "skipped":
        for pat, want, why in allowed:
            if fnmatch.fnmatchcase(name, pat) and want in msg:
                ok_skips.setdefault(why, []).append(name)
                break
        else:
            bad.append(f"skipped  {name} ({msg}): not in allowed_skips")
for pat in must:
    hits = [n for n in results if fnmatch.fnmatchcase(n, pat)]
    if not hits:
        bad.append(f"missing  {pat}: no such test ran")
    for n in hits:
        if results[n] != "passed":
            bad.append(f"{results[n]:8} {n}: must pass in this run")
for why, names in ok_skips.items():
    print(f"  allowed skip ({len(names)}): {why}")
for b in bad:
    print(f"  {b}")
sys.exit(1 if bad else 0)
