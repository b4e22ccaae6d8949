"""Identity resolution: which guest a source record belongs to."""
