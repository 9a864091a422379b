#!/usr/bin/env python3
"""Inclusive share of perf samples whose call stack contains each pattern.

usage: perf script -i perf.data | bench/profile/stackshare.py PATTERN [PATTERN ...]
"""
import sys, re
pats = sys.argv[1:]
counts = {p: 0 for p in pats}
total = 0
stack = []
def flush():
    global total, stack
    if not stack: return
    total += 1
    joined = "\n".join(stack)
    for p in pats:
        if p in joined: counts[p] += 1
    stack = []
for line in sys.stdin:
    if not line.strip():
        flush(); continue
    if line[0] not in " \t":
        flush(); continue
    stack.append(line.strip())
flush()
print(f"total samples {total}")
for p in pats:
    print(f"{100*counts[p]/max(total,1):6.2f}%  {p}")
