"""A serial relay / fault-injection board: insulation-fault resistors, contactors and the
emergency-stop line, switched by name (the profile maps names to channels).

pyserial carries it (``/dev/ttyUSB0``, or ``socket://host:port`` for a LAN bridge or
the simulator). Every command goes through the link's guard like the SCPI instruments.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from vgi_bench.instruments.link import InstrumentError, Link

log = logging.getLogger(__name__)

#: The channel name whose relay drives the DUT's emergency-stop input.
ESTOP = "estop"


class SerialTransport:
    """pyserial behind the link's write/read interface (line-based ASCII)."""

    def __init__(self, url: str, baudrate: int, timeout_s: float, write_termination: str):
        import serial  # pyserial, imported here so SCPI-only benches need not load it

        self.port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout_s)
        self._eol = write_termination.encode()

    def write(self, text: str) -> None:
        self.port.write(text.encode("ascii") + self._eol)

    def read(self) -> str:
        line = self.port.readline()
        if not line:
            raise TimeoutError("no reply")
        return line.decode("ascii", "replace")

    def close(self) -> None:
        self.port.close()


class RelayBoard:
    def __init__(self, link: Link, channels: Mapping[str, int], name: str = "relay") -> None:
        self.link = link
        self.cmap = link.cmap
        self.channels = dict(channels)
        self.name = name

    def _channel(self, what: str) -> int:
        if what not in self.channels:
            raise InstrumentError(f"{self.name}: no channel named {what!r} in the profile")
        return self.channels[what]

    def _do(self, command: str) -> None:
        reply = self.link.query(command)
        if not reply.upper().startswith("OK"):
            raise InstrumentError(f"{self.name}: {command!r} -> {reply!r}")

    def close(self, what: str) -> None:
        self._do(self.cmap.command("close", channel=self._channel(what)))

    def open(self, what: str) -> None:
        self._do(self.cmap.command("open", channel=self._channel(what)))

    def open_all(self) -> None:
        self._do(self.cmap.command("open_all"))

    def emergency_stop(self) -> bool:
        """Close the E-stop relay (the DUT's E-stop input); True when the board confirmed."""
        try:
            self.close(ESTOP)
        except Exception as exc:  # the safe path reports, it does not raise
            log.error("%s: EMERGENCY STOP FAILED: %s", self.name, exc)
            return False
        log.warning("%s: emergency stop", self.name)
        return True
