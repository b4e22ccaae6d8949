"""crmbridge POS adapter: Oracle Simphony BI API and POS file exports."""
