"""AdFlux: job-advertising automation."""

__version__ = "0.1.0"
