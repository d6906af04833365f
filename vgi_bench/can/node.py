"""One protocol participant on a CAN bus: the runtime shared by bench roles and simulated DUTs.

A node owns one thread that takes received frames and timer expiries in order, so a
role's state machine runs single-threaded and needs no locks. Single-frame periodic
messages go through python-can's ``send_periodic`` (the kernel's broadcast manager on
SocketCAN); multi-packet messages are repeated by the node's own timers through the
J1939-21 transport.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import can

from vgi_bench.can.j1939 import Frame
from vgi_bench.can.transport import (
    TP_CM_PGN,
    TP_DT_PGN,
    TpAborted,
    TpCompleted,
    TpReceiver,
    TpSender,
    TpTimers,
)

log = logging.getLogger(__name__)

#: GIL switch interval for bench processes (CPython's default is 5 ms). Periodic senders
#: and the node thread wait for the GIL when they wake; a shorter interval bounds that
#: wait well under a 10 ms message period. Set by the CLI and by conformance runs.
REALTIME_SWITCH_INTERVAL_S = 0.0005


def tune_for_realtime() -> None:
    """Apply :data:`REALTIME_SWITCH_INTERVAL_S` to this process."""
    sys.setswitchinterval(REALTIME_SWITCH_INTERVAL_S)


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class _Inbox(can.Listener):
    """Hands frames from python-can's notifier thread to the node thread."""

    def __init__(self, q: queue.SimpleQueue) -> None:
        self._q = q

    def on_message_received(self, msg: can.Message) -> None:
        self._q.put(msg)

    def on_error(self, exc: Exception) -> None:
        log.error("bus receive error: %s", exc)


@dataclass
class Periodic:
    """A periodic single-frame message: what is sent, how often, and python-can's task."""

    name: str
    frame: Frame
    period_s: float
    task: can.broadcastmanager.CyclicSendTaskABC | None = None


@dataclass
class MultiPeriodic:
    """A periodic multi-packet message sent through the transport on each period."""

    name: str
    pgn: int
    payload: bytes
    dst: int
    period_s: float
    stop_after_packets: int | None = None
    timer: _Timer | None = None


class CanNode:
    """Base of every role and simulated DUT: frames in, timers, periodic and TP sends out.

    Subclasses implement :meth:`on_frame` and :meth:`on_transfer`; all callbacks run in
    the node thread. ``now()`` is the host clock used for the node's own timers.
    """

    def __init__(
        self,
        bus: can.BusABC,
        address: int,
        *,
        name: str = "node",
        tp_timers: TpTimers | None = None,
        dt_gap: float = 0.0,
        own_notifier: bool = True,
    ) -> None:
        self.bus = bus
        self.address = address
        self.name = name
        self.tp_timers = tp_timers or TpTimers()
        self.dt_gap = dt_gap
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._periodic: dict[str, Periodic] = {}
        self._multi: dict[str, MultiPeriodic] = {}
        self._senders: dict[int, TpSender] = {}  # by destination address
        # Periodic transfers that came due while another transfer to the same peer ran
        # (J1939 allows one at a time per pair): started in order as the slot frees.
        self._waiting: dict[int, list[str]] = {}
        self.tp_receiver = TpReceiver(address, timers=self.tp_timers)
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._own_notifier = own_notifier
        self._notifier: can.Notifier | None = None
        self.inbox = _Inbox(self._q)
        self.errors: list[str] = []

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._own_notifier:
            self._notifier = can.Notifier(self.bus, [self.inbox], timeout=0.05)
        self._running.set()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-node", daemon=True)
        self._thread.start()
        self.call_soon(self.on_start)

    def stop(self) -> None:
        """Stop sending and the thread; idempotent."""
        if not self._running.is_set():
            return
        self._running.clear()
        self._q.put(None)
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self.stop_all_sending()
        if self._notifier is not None:
            self._notifier.stop(timeout=1.0)
            self._notifier = None

    def _run(self) -> None:
        while self._running.is_set():
            timeout = self._until_next_timer()
            try:
                item = self._q.get(timeout=timeout)
            except queue.Empty:
                item = None
            try:
                if isinstance(item, can.Message):
                    self._dispatch(item)
                elif callable(item):
                    item()
                self._fire_timers()
                self._poll_transport()
            except Exception as exc:  # a role bug must not kill the bus or lose the capture
                log.exception("%s: error in node thread", self.name)
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def _until_next_timer(self) -> float:
        deadlines = [t.due for t in self._timers[:1]]
        tp = self._tp_deadline()
        if tp is not None:
            deadlines.append(tp)
        if not deadlines:
            return 0.05
        return max(0.0, min(min(deadlines) - self.now(), 0.05))

    # -- time ------------------------------------------------------------------------
    @staticmethod
    def now() -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(self.now() + delay, next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` in the node thread (safe to call from any thread)."""
        self._q.put(callback)

    def _fire_timers(self) -> None:
        now = self.now()
        while self._timers and self._timers[0].due <= now:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.callback()

    # -- receiving -------------------------------------------------------------------
    def _dispatch(self, msg: can.Message) -> None:
        # Our own frames come back on a bus opened to echo them (driver echo, multicast
        # loopback: ``is_rx`` false) or from our own address: neither is the peer's.
        if not msg.is_rx:
            return
        frame = Frame.from_can(msg)
        if frame is None or frame.src == self.address:
            return
        if frame.dst not in (self.address, 0xFF):
            return
        self.on_any_frame(frame)
        if frame.pgn in (TP_CM_PGN, TP_DT_PGN):
            self._on_tp_frame(frame)
            return
        self.on_frame(frame)

    def _on_tp_frame(self, frame: Frame) -> None:
        now = self.now()
        sender = self._senders.get(frame.src)
        if sender is not None and frame.pgn == TP_CM_PGN and frame.data[:1] != b"\x10":
            self.send_frames(sender.on_frame(frame, now))
            self._finish_sender(frame.src, sender)
            return
        if not self.accept_tp(frame):
            return
        out, events = self.tp_receiver.on_frame(frame, now)
        self.send_frames(out)
        for event in events:
            self.on_transfer(event)

    def accept_tp(self, frame: Frame) -> bool:
        """Whether the responder handles this TP frame; fault hooks override it."""
        return True

    def on_any_frame(self, frame: Frame) -> None:
        """Every frame addressed to us, before any handling (presence tracking)."""

    def on_start(self) -> None:
        """Called once in the node thread after start."""

    def on_frame(self, frame: Frame) -> None:
        """A single-frame message addressed to us (or global) arrived."""

    def on_transfer(self, event: TpCompleted | TpAborted) -> None:
        """A multi-packet transfer to us completed or was aborted."""

    def on_sent_transfer(self, result: TpCompleted | TpAborted) -> None:
        """A multi-packet transfer we originated ended."""

    # -- sending ---------------------------------------------------------------------
    def send(self, frame: Frame) -> None:
        try:
            self.bus.send(frame.to_can())
        except can.CanError as exc:
            log.warning("%s: send failed: %s", self.name, exc)
            self.errors.append(f"send failed: {exc}")

    def send_frames(self, frames: list[Frame]) -> None:
        for frame in frames:
            self.send(frame)

    def start_periodic(
        self, name: str, frame: Frame, period_s: float, *, immediate: bool = False
    ) -> None:
        """Send ``frame`` every ``period_s``; replaces the data if already running.

        A running message takes new data at its next period, unless ``immediate``
        (a state change the peer should see at once), which restarts the cycle now.
        """
        current = self._periodic.get(name)
        if (
            not immediate
            and current is not None
            and current.task is not None
            and current.period_s == period_s
        ):
            current.frame = frame
            current.task.modify_data(frame.to_can())  # type: ignore[attr-defined]  # ModifiableCyclicTaskABC
            return
        self.stop_periodic(name)
        task = self.bus.send_periodic(frame.to_can(), period_s, store_task=False)
        self._periodic[name] = Periodic(name, frame, period_s, task)

    def stop_periodic(self, name: str) -> None:
        current = self._periodic.pop(name, None)
        if current is not None and current.task is not None:
            current.task.stop()
        multi = self._multi.pop(name, None)
        if multi is not None:
            if multi.timer is not None:
                multi.timer.cancel()
            self._abort_transfer(multi.dst, multi.pgn)

    def _abort_transfer(self, dst: int, pgn: int) -> None:
        """Abort a transfer of ``pgn`` still under way: the message is no longer wanted,
        and J1939 allows one transfer per peer, so it would hold up the next message."""
        sender = self._senders.get(dst)
        if sender is not None and sender.pgn == pgn and sender.result is None:
            self.send_frames(sender.abort(self.now(), detail="message stopped"))
            self._finish_sender(dst, sender)

    def is_sending(self, name: str) -> bool:
        return name in self._periodic or name in self._multi

    def stop_all_sending(self) -> None:
        for name in list(self._periodic) + list(self._multi):
            self.stop_periodic(name)

    def send_transfer(
        self, pgn: int, payload: bytes, dst: int, *, stop_after_packets: int | None = None
    ) -> bool:
        """Start one TP transfer to ``dst``; ``False`` if one to ``dst`` is still running."""
        if dst in self._senders:
            return False
        sender = TpSender(
            pgn,
            payload,
            self.address,
            dst,
            timers=self.tp_timers,
            dt_gap=self.dt_gap,
            stop_after_packets=stop_after_packets,
        )
        self._senders[dst] = sender
        self.send_frames(sender.start(self.now()))
        return True

    def start_periodic_transfer(
        self,
        name: str,
        pgn: int,
        payload: bytes,
        dst: int,
        period_s: float,
        *,
        stop_after_packets: int | None = None,
    ) -> None:
        """Repeat a multi-packet message every ``period_s`` (first transfer now)."""
        self.stop_periodic(name)
        multi = MultiPeriodic(name, pgn, payload, dst, period_s, stop_after_packets)
        self._multi[name] = multi
        self._repeat_transfer(multi)

    def update_periodic_transfer(self, name: str, payload: bytes) -> None:
        if name in self._multi:
            self._multi[name].payload = payload

    def _repeat_transfer(self, multi: MultiPeriodic) -> None:
        if self._multi.get(multi.name) is not multi:
            return
        started = self.send_transfer(
            multi.pgn, multi.payload, multi.dst, stop_after_packets=multi.stop_after_packets
        )
        waiting = self._waiting.setdefault(multi.dst, [])
        if not started and multi.name not in waiting:
            waiting.append(multi.name)
        multi.timer = self.call_later(multi.period_s, lambda: self._repeat_transfer(multi))

    def _poll_transport(self) -> None:
        now = self.now()
        for dst, sender in list(self._senders.items()):
            self.send_frames(sender.poll(now))
            self._finish_sender(dst, sender)
        out, events = self.tp_receiver.poll(now)
        self.send_frames(out)
        for event in events:
            self.on_transfer(event)

    def _finish_sender(self, dst: int, sender: TpSender) -> None:
        if self._senders.get(dst) is not sender:
            return
        if sender.result is not None:
            del self._senders[dst]
            self.on_sent_transfer(sender.result)
        elif sender.silent:  # stopped mid-transfer on purpose: free the slot for the next one
            del self._senders[dst]
        else:
            return
        self._start_waiting(dst)

    def _start_waiting(self, dst: int) -> None:
        """Start the oldest periodic transfer to ``dst`` that is still wanted."""
        waiting = self._waiting.get(dst, [])
        while waiting and dst not in self._senders:
            multi = self._multi.get(waiting.pop(0))
            if multi is not None and multi.dst == dst:
                self.send_transfer(
                    multi.pgn, multi.payload, dst, stop_after_packets=multi.stop_after_packets
                )

    def _tp_deadline(self) -> float | None:
        deadlines = [d for s in self._senders.values() if (d := s.next_deadline()) is not None]
        receiver_deadline = self.tp_receiver.next_deadline()
        if receiver_deadline is not None:
            deadlines.append(receiver_deadline)
        return min(deadlines) if deadlines else None
