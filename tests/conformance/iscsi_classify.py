#!/usr/bin/env python3
"""Classify iscsi-test-cu output: one line per test, 'passed', 'failed' or
'skipped'. CUnit counts a test that printed '[SKIPPED] ... not implemented'
as passed; here it counts as skipped. Usage: iscsi_classify.py OUTPUT_FILE
Prints '<result> <Suite>.<Test>' lines (skipped ones followed by
' | <the [SKIPPED] message>'), then 'counts: P passed, F failed, S skipped'."""
import re
import sys

text = open(sys.argv[1], errors="replace").read()
starts = [(m.start(), m.end(), m.group(1)) for m in re.finditer(r"  Test: (\S+) \.\.\.", text)]
suites = [(m.start(), m.group(1)) for m in re.finditer(r"^Suite: (\S+)", text, re.M)]
res_re = re.compile(r"(?:\A|\n)(passed|FAILED)\b")
skip_re = re.compile(r"\[SKIPPED\] *([^\n]*)")
counts = {"passed": 0, "failed": 0, "skipped": 0}
for i, (s, e, name) in enumerate(starts):
    end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
    seg = text[e:end]
    m = res_re.search(seg)
    suite = ""
    for pos, sname in suites:
        if pos < s:
            suite = sname
    if not m:
        result = "failed"          # crashed or cut off
        cut = len(seg)
    else:
        result = "passed" if m.group(1) == "passed" else "failed"
        cut = m.start()
    why = ""
    if result == "passed" and "[SKIPPED]" in seg[:cut]:
        result = "skipped"
        why = " | " + skip_re.search(seg[:cut]).group(1).strip()
    counts[result] += 1
    print(f"{result} {suite}.{name}{why}")
print(f"counts: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
