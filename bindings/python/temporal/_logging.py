"""Receiving the library's log messages (it is silent by default)."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Callable, List, Optional

from . import _library as _lib

__all__ = ["LOG_ERROR", "LOG_WARN", "LOG_INFO", "LOG_DEBUG", "set_log_callback", "log_to_logging"]

LOG_ERROR = 1
LOG_WARN = 2
LOG_INFO = 3
LOG_DEBUG = 4

# Every trampoline ever installed stays referenced: the header allows calls already running to
# use the previous callback after it is replaced, so freeing one could leave the library calling
# into released memory. They are tiny.
_installed: List[object] = []
_lock = threading.Lock()

_TO_LOGGING = {LOG_ERROR: logging.ERROR, LOG_WARN: logging.WARNING, LOG_INFO: logging.INFO, LOG_DEBUG: logging.DEBUG}


def set_log_callback(fn: Optional[Callable[[int, str], None]], max_level: int = LOG_INFO) -> None:
    """Install ``fn(level, message)`` to receive every library message with
    ``level <= max_level`` (LOG_ERROR=1 .. LOG_DEBUG=4); ``None`` restores silence.

    The callback runs on the thread of the library call that logs, possibly on several threads
    at once, with the GIL held. It must not call into ``temporal``. Exceptions it raises are
    printed to stderr and otherwise ignored (they cannot cross the C boundary).

    Raises:
        InvalidArgumentError: ``max_level`` outside [1, 4] when ``fn`` is given.
    """
    _lib.ensure_usable()
    if fn is None:
        with _lock:
            _lib.check(_lib.f_set_log_callback(_lib.LOG_FN(), 0, None))
        return
    if not callable(fn):
        raise TypeError(f"fn must be callable or None, got {type(fn).__name__}")

    def trampoline(level: int, message: Optional[bytes], user: object) -> None:
        try:
            fn(int(level), (message or b"").decode("utf-8", errors="replace"))
        except BaseException:  # must not propagate into C
            print("Exception in temporal log callback:", file=sys.stderr)
            import traceback

            traceback.print_exc()

    cfn = _lib.LOG_FN(trampoline)
    with _lock:
        _installed.append(cfn)
        _lib.check(_lib.f_set_log_callback(cfn, int(max_level), None))


def log_to_logging(logger: Optional[logging.Logger] = None, max_level: int = LOG_INFO) -> None:
    """Forward library messages to a :mod:`logging` logger (default ``"temporal"``)."""
    log = logger or logging.getLogger("temporal")
    set_log_callback(lambda level, msg: log.log(_TO_LOGGING.get(level, logging.DEBUG), msg), max_level)
