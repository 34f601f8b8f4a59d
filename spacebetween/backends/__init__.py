"""Database backends: Django's own, with what Space Between needs on top."""
