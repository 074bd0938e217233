"""One way to open an ONNX Runtime session for every shipped artifact, so thread caps and providers agree."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["open_session", "thread_cap"]


def thread_cap(threads: int | None = None) -> int:
    """`threads`, else $HOTICH_THREADS, else 0 (no cap: the library's own choice)."""
    return threads or int(os.environ.get("HOTICH_THREADS", "0"))


def open_session(path: Path, threads: int | None = None, providers: Sequence[str] | None = None):
    """An inference session on `path`. `threads` caps the intra-op threads (default: $HOTICH_THREADS, else ONNX
    Runtime's choice); providers default to the CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    threads = thread_cap(threads)
    # Idle intra-op threads sleep instead of spinning: a page's decoding (Python, beside the next batch's
    # inference) otherwise shares the cores with spinning threads; a page then took a quarter more CPU
    # time, while lines read at batch 32 were as fast either way.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=list(providers or ["CPUExecutionProvider"]))
