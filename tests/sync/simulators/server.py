"""Serving an ASGI app on 127.0.0.1 and a free port, in a thread; and the fault switches the simulators share."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn


class Served:
    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.01)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()


@dataclass
class Faults:
    """`fail(op, kind, times)`: the next `times` calls of `op` answer 500, time out after doing the work
    (sleep `delay` seconds before answering) or are refused with a business error."""

    delay: float = 1.5
    planned: dict[str, list[str]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)

    def fail(self, op: str, kind: str, times: int = 1) -> None:
        assert kind in ("500", "timeout", "business"), kind
        self.planned.setdefault(op, []).extend([kind] * times)

    def next(self, op: str) -> str | None:
        self.calls[op] += 1
        plan = self.planned.get(op)
        return plan.pop(0) if plan else None

    async def after(self, kind: str | None) -> None:
        if kind == "timeout":
            await asyncio.sleep(self.delay)
