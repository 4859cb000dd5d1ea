"""Silence C-level output: point file descriptors at a file while a noisy library starts.

TensorFlow prints absl lines with timestamps and process ids before its logging
reads ``TF_CPP_MIN_LOG_LEVEL``, and the JVM behind Spark writes start-up banners;
both go straight to file descriptors 1 and 2, past ``sys.stdout``. In a notebook
they would make every stored output differ from a fresh run.
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

__all__ = ["redirect_fds"]


@contextlib.contextmanager
def redirect_fds(target=os.devnull, fds=(1, 2)):
    """Send ``fds`` to ``target`` (appended; default the null device) inside the block, then restore them.

    Where a descriptor cannot be duplicated (no usable fd 2, say) the block runs unredirected.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # pragma: no cover - exotic streams
            pass
    if target != os.devnull:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    fd, saved = None, []
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for n in fds:
            saved.append(os.dup(n))
    except OSError:
        for s in saved:
            os.close(s)
        if fd is not None:
            os.close(fd)
        yield
        return
    try:
        for n in fds:
            os.dup2(fd, n)
        yield
    finally:
        for n, s in zip(fds, saved):
            os.dup2(s, n)
            os.close(s)
        os.close(fd)
