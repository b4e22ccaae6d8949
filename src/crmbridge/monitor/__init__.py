"""What operators watch: Prometheus metrics read from the store, and per-source freshness
against each schedule for /healthz. Served by the receiver's HTTP app (`crmbridge run`)."""
