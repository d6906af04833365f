"""Reference DUTs: conformant simulated chargers, BMSs, charge points, CSMSs and platforms,
each with named faults, found by role name through :mod:`vgi_bench.reference.registry`."""
