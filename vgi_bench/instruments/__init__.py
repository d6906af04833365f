"""Instrument drivers (supplies, analyzers, relay boards) from command maps, their safety
guard, calibration, and simulators."""
