"""One whole GB/T 27930 session between the reference charger and the bench's BMS, recorded.

Where a real capture is needed without hardware (the trace tests, the trace throughput
benchmark): both nodes and a listening bus share a fresh python-can ``virtual`` channel,
and the listener keeps every frame of both directions with its bus timestamp, exactly as
a run's ``can.asc`` does.
"""

from __future__ import annotations

import contextlib
import time
import uuid

import can

from vgi_bench.gbt27930.bms_role import BmsRole, BmsScript, Phase
from vgi_bench.reference.gbt27930.charger import ReferenceCharger


class SessionFailed(RuntimeError):
    """The BMS did not reach the end of the session in time."""


class _Collect(can.Listener):
    def __init__(self) -> None:
        self.messages: list[can.Message] = []

    def on_message_received(self, msg: can.Message) -> None:
        self.messages.append(msg)


def record_session(
    writer: can.Listener | None = None,
    *,
    faults: tuple[str, ...] = (),
    script: BmsScript | None = None,
    timeout_s: float = 30.0,
    settle_s: float = 0.6,
) -> list[can.Message]:
    """Run one session (the BMS charges for 1 s by default) and return its frames.

    ``writer`` (e.g. a ``can.ASCWriter``) gets every frame as it arrives and is stopped
    at the end. ``settle_s`` keeps recording after the BMS is done, so the charger's
    last CSDs are in. Raises :class:`SessionFailed` if the BMS is not done in time.
    """
    channel = f"recording-{uuid.uuid4().hex}"
    collect = _Collect()
    listeners: list[can.Listener] = [collect] + ([writer] if writer is not None else [])
    with contextlib.ExitStack() as stack:
        if writer is not None:
            stack.callback(writer.stop)
        buses = [can.Bus(interface="virtual", channel=channel) for _ in range(3)]
        for bus in buses:
            stack.callback(bus.shutdown)
        notifier = can.Notifier(buses[0], listeners, timeout=0.05)
        stack.callback(notifier.stop, 1.0)
        charger = ReferenceCharger(buses[1], faults=faults)
        charger.start()
        stack.callback(charger.stop)
        bms = BmsRole(buses[2], script or BmsScript(charge_for_s=1.0), own_notifier=True)
        bms.start()
        stack.callback(bms.stop)
        if not bms.wait_phase(Phase.DONE, timeout_s):
            raise SessionFailed(f"the BMS stopped in phase {bms.phase.value}")
        time.sleep(settle_s)
    return collect.messages
