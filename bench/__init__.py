"""The benchmark suite behind `spacebetween bench` (docs/performance.md); runs from a source checkout."""
