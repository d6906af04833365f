"""vgi-bench: hardware-in-the-loop conformance bench for vehicle-charger-grid interaction."""

__version__ = "0.1.0"
