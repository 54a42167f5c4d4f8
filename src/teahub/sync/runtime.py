"""Outbound sync as continuous loops (low latency), for `teahub sync run` or a thread of the worker:
the relay (with a broker) and one loop per enabled target, each holding its lease while it runs and going
round again when a pass ends. Failing passes back off (their cursor records the pause)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.sync.broker import BrokerConfig, BrokerError
from teahub.sync.delivery import DeliveryOptions, deliver, enabled_target_ids
from teahub.sync.relay import RelayOptions, relay

log = logging.getLogger("teahub.sync")

PASS_SECONDS = 20.0  # a pass holds its lease this long before going round (and noticing config changes)
RESCAN_SECONDS = 5.0  # how often the list of enabled targets is read again


class SyncRuntime:
    def __init__(self, engine: Engine | sessionmaker[Session], broker: BrokerConfig | None, *,
                 relay_options: RelayOptions | None = None, delivery_options: DeliveryOptions | None = None) -> None:
        self.factory = engine if isinstance(engine, sessionmaker) else make_session_factory(engine)
        self.broker = broker
        self.relay_options = relay_options or RelayOptions()
        self.delivery_options = delivery_options or DeliveryOptions()
        self.stop = threading.Event()
        self.threads: dict[str, threading.Thread] = {}

    def uow(self, actor: str) -> UnitOfWork:
        return UnitOfWork(self.factory, actor=actor)

    def _loop(self, name: str, one_pass: Callable[[], str]) -> None:
        failures = 0
        while not self.stop.is_set():
            try:
                state = one_pass()
                failures = 0
            except BrokerError:
                state = "failed"  # logged and recorded on the cursor by the pass
            except Exception:  # noqa: BLE001 - e.g. the database away for a moment: wait and go on
                failures += 1
                log.exception("sync %s: pass failed", name)
                state = "failed"
            if state in ("busy", "paused", "failed"):
                self.stop.wait(min(0.5 * 2 ** min(failures, 6), 30.0) if failures else 0.5)
            if state == "disabled":
                return

    def _relay_pass(self) -> str:
        assert self.broker is not None
        return relay(self.uow("sync:relay"), self.broker, budget=PASS_SECONDS, stop=self.stop,
                     options=self.relay_options).state

    def _target_pass(self, target_id: int) -> str:
        return deliver(self.uow(f"sync:target:{target_id}"), target_id, broker=self.broker, budget=PASS_SECONDS,
                       stop=self.stop, options=self.delivery_options).state

    def _start(self, name: str, one_pass: Callable[[], str]) -> None:
        thread = self.threads.get(name)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=self._loop, args=(name, one_pass), name=f"teahub-{name}", daemon=True)
        self.threads[name] = thread
        thread.start()

    def run(self) -> None:
        """Until `stop` is set: keep the relay and one loop per enabled target running."""
        if self.broker is not None:
            self._start("sync-relay", self._relay_pass)
        while not self.stop.is_set():
            try:
                for target_id in enabled_target_ids(self.uow("sync")):
                    self._start(f"sync-target-{target_id}", lambda tid=target_id: self._target_pass(tid))
            except Exception:  # noqa: BLE001 - the database away: try again at the next scan
                log.exception("sync: reading the targets failed")
            self.stop.wait(RESCAN_SECONDS)
        for thread in list(self.threads.values()):
            thread.join(timeout=PASS_SECONDS + 10)


def start(engine: Engine | sessionmaker[Session], broker: BrokerConfig | None,
          **kwargs: object) -> tuple[threading.Thread, threading.Event]:
    """Run the sync loops in a daemon thread; set the returned event to stop them, then join the thread."""
    runtime = SyncRuntime(engine, broker, **kwargs)  # type: ignore[arg-type]
    thread = threading.Thread(target=runtime.run, name="teahub-sync", daemon=True)
    thread.start()
    return thread, runtime.stop
