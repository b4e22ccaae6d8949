"""Sync runs: cursors, batches, run summaries and scheduling."""
