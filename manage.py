#!/usr/bin/env python
"""Django's manage.py, for operators used to it; `spacebetween` is the same command."""
import sys

from spacebetween.cli import main

if __name__ == "__main__":
    sys.exit(main())
