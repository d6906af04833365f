"""Reports: HTML/PDF from the run's results, signatures, traceability, diff and
repeatability."""
