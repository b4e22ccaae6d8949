"""From the store to the front desk: segments, alert rules, the pre-arrival job, dining insights."""
