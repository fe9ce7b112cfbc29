"""The service's samples from `perf script -F comm,tid,ip,sym,dso` on stdin, by owner: the innermost
frame of a named assembly that is not the runtime's own (CoreLib, threading); kernel time by the
system call it came through. Then the Patron methods among them. Argument: how many rows."""
import collections
import re
import sys

RUNTIME = re.compile(r"\[(System\.Private\.CoreLib|System\.Runtime|System\.Threading[^\]]*)\]")
ASSEMBLY = re.compile(r"\[([A-Za-z0-9_.]+)\] (.*)")
GROUPS = [("Microsoft.AspNetCore.Server.Kestrel", "Kestrel"), ("System.IO.Pipelines", "Kestrel"),
          ("Microsoft.AspNetCore", "ASP.NET Core (other)"), ("Microsoft.EntityFrameworkCore", "EF Core")]


def short(method):
    """A method's name without its signature, tier and generic arguments."""
    name = re.sub(r"\(.*|\[Optimized.*", "", method)
    while (shorter := re.sub(r"\[[^\[\]]*\]", "", name)) != name:
        name = shorter
    return name[-100:]


def owner(frames):
    kernel = None
    if frames[0].endswith("([kernel.kallsyms])"):
        call = next((m.group(1) for f in frames if (m := re.search(r"__x64_sys_(\w+)", f))), None)
        kernel = "kernel: " + (call or "other")
    for f in frames:
        if ".map)" not in f or RUNTIME.search(f):
            continue
        if m := ASSEMBLY.search(f):
            name = next((g for prefix, g in GROUPS if m.group(1).startswith(prefix)), m.group(1))
            method = short(m.group(2)) if m.group(1) == "Patron" else None
            return (f"{kernel} ← {name}" if kernel else name), method
    if "libcrypto" in frames[0]:
        return "libcrypto (DES, hashes)", None
    if "libe_sqlite3" in frames[0]:
        return "SQLite's own code (libe_sqlite3)", None
    return (f"{kernel} ← (runtime)" if kernel else "runtime, CoreLib, other"), None


owners, methods, frames, total = collections.Counter(), collections.Counter(), [], 0


def flush():
    global frames, total
    if frames:
        total += 1
        name, method = owner(frames)
        owners[name] += 1
        if method:
            methods[method] += 1
    frames = []


for line in sys.stdin:
    if line.startswith("\t"):
        frames.append(line.strip())
    elif not line.strip():
        flush()
flush()
top = int(sys.argv[1]) if len(sys.argv) > 1 else 20
print(f"service: {total} samples, self time by owner")
for name, n in owners.most_common(top):
    print(f"  {100 * n / total:5.1f} %  {name}")
print("Patron's methods")
for name, n in methods.most_common(top):
    print(f"  {100 * n / total:5.1f} %  {name}")
