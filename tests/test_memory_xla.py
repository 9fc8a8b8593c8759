"""Lab 4's XLA set-up and the memory helpers of its threaded training (lab_utils.memory)."""

import platform
import subprocess
import sys

import pytest

from lab_utils import memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="malloc_trim and mallopt are glibc's")
def test_glibc_accepts_the_arena_limit_and_returns_freed_memory():
    assert memory.limit_malloc_arenas(2) is True
    garbage = [bytes(1000) for _ in range(100_000)]  # 100 MB in small blocks, on the heap
    del garbage
    assert memory.release_memory() is True


def test_memory_helpers_do_nothing_without_glibc(monkeypatch):
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.limit_malloc_arenas(2) is False
    assert memory.release_memory() is False


def test_xla_setup_keeps_jit_compile_and_leaves_op_determinism_off():
    code = """
from lab_utils import setup_notebook
setup_notebook(seed=0, xla=True)
import keras
from tensorflow.python.framework.config import is_op_determinism_enabled
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(loss="mse", jit_compile=True)
print(is_op_determinism_enabled(), model.jit_compile)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]
    code = code.replace("xla=True", "xla=False")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "False"]  # the default: deterministic ops, so Keras turns XLA off
