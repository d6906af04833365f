"""pytest plugin: placeholder while the bench is being built."""
