"""Grid-level vehicle-grid interaction platform suites."""
