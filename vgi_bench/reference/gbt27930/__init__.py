"""Reference GB/T 27930 DUTs: a charger and a BMS with named faults, and a recorded session."""
