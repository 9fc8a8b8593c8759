"""What the grading sandbox costs per submission (issue: safe grading; target <= 1 s).

Two measures, each as the median over alternated runs (sandboxed, plain, sandboxed, ...), warm
against warm: the first pair of each is a discarded warm-up (page cache, bytecode, the probe of
bubblewrap cached in this process).

- ``kernel``: start a grading kernel, run the labs' set-up imports (``import lab_utils``,
  NumPy), shut it down: :class:`lab_utils.instructor.sandbox.SandboxedKernelManager` with the
  sandbox on, then off.  This is what the sandbox adds to every submission.
- ``autograde``: ``nbgrader autograde`` of one perfect Lab 1 submission in a fresh course,
  ``LAB_UTILS_SANDBOX`` on, then off (a whole submission, nbgrader's own start-up included).

``python benchmarks/sandbox_overhead.py`` prints them; ``benchmarks/run.py`` records them.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.0


async def _kernel_once(sandboxed: bool) -> float:
    from lab_utils.instructor.sandbox import SandboxedKernelManager

    start = time.perf_counter()
    km = SandboxedKernelManager(kernel_name="python3", sandbox=sandboxed)
    await km.start_kernel(cwd=tempfile.gettempdir())
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=120)
        reply = await kc.execute_interactive("import lab_utils, numpy", timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return time.perf_counter() - start


def kernel_overhead(repeats: int = 5) -> dict:
    """Median seconds of a kernel's life (start, set-up imports, shutdown), with and without
    the sandbox, runs alternated; the first pair is a warm-up."""
    times = {True: [], False: []}
    for i in range(repeats + 1):
        for sandboxed in (True, False):
            seconds = asyncio.run(_kernel_once(sandboxed))
            if i:
                times[sandboxed].append(seconds)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    return {"sandboxed_s": round(on, 3), "plain_s": round(off, 3),
            "overhead_s": round(on - off, 3), "runs": repeats,
            "measure": "kernel start + set-up imports + shutdown, warm vs warm, median"}


def autograde_overhead(repeats: int = 2, lab: str = "lab1_embeddings") -> dict:
    """Median seconds of ``nbgrader autograde`` of one perfect submission, sandbox on / off."""
    from lab_utils.config import SANDBOX_ENV
    from lab_utils.instructor import grading

    times = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        template = grading.new_course(Path(tmp) / "template", ROOT, [lab])
        source, released = grading.read_lab(template, lab)
        perfect = grading.perfect_submission(source, released)
        grading.submit(template, "perfect", lab, perfect)
        for i in range(repeats + 1):
            for sandboxed in (True, False):
                os.environ[SANDBOX_ENV] = "on" if sandboxed else "off"
                start = time.perf_counter()
                grading.run_nbgrader(template, "autograde", lab, "--force")
                if i:
                    times[sandboxed].append(time.perf_counter() - start)
    os.environ.pop(SANDBOX_ENV, None)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    return {"sandboxed_s": round(on, 2), "plain_s": round(off, 2),
            "overhead_s": round(on - off, 2), "runs": repeats, "lab": lab,
            "measure": "nbgrader autograde of one perfect submission, warm vs warm, median"}


def measure(kernel_repeats: int = 5, autograde_repeats: int = 2) -> dict:
    """Both measures, and whether the kernel overhead meets :data:`TARGET_S`."""
    kernel = kernel_overhead(kernel_repeats)
    out = {"kernel": kernel, "target_s": TARGET_S, "met": kernel["overhead_s"] <= TARGET_S}
    if autograde_repeats:
        out["autograde"] = autograde_overhead(autograde_repeats)
    return out


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    result = measure(autograde_repeats=int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["met"] else 1)
