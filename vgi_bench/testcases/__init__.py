"""The conformance suites, one package per standard; each case tied to its clause."""
