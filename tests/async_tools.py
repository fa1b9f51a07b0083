"""Running a coroutine from a test: in a thread of its own, since the session's Playwright browser
may own the main thread's event loop (asyncio.run would refuse to start there)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Coroutine


def run_in_own_loop(coroutine: Coroutine) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
