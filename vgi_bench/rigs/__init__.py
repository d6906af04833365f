"""Rigs: what a case runs against any DUT, real or simulated — the bench's role on the
DUT's link (CAN bus, websocket, HTTP), its capture, and the reference DUT when the
profile says ``simulated``."""
