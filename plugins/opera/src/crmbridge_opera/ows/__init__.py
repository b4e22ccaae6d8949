"""The OPERA 5 adapter: OWS 5.1 SOAP web services, through zeep."""
