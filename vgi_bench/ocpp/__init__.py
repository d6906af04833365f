"""OCPP-J (1.6 and 2.0.1) over websockets: frames, schema checks, message log, sessions.

Built on the ``ocpp`` library (message classes, ``@on`` routing, the official JSON schemas)
and ``websockets``. Written here by hand is only what those lack for a conformance bench:
a tolerant frame parser that never raises, schema checks that report every violation by
field instead of raising, per-call timeouts with measured response times, garbage and
deliberately invalid frames, and a message log of every frame in both directions.
"""
