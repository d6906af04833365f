"""Reference OCPP DUTs: charge points (1.6, 2.0.1) and a CSMS, with named faults."""
