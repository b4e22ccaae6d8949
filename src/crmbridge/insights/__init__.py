"""From the unified profile to the front desk: segments, alert rules, the pre-arrival job."""
