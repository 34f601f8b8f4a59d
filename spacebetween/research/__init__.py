"""Command-line tools for researchers over the framework-free core (CSV in, CSV or JSON out)."""
