"""Who may see what: staff, roles, the audit of every read, consent. Every surface (CLI, staff
API, exports) reads personal data through `service.Access`, the one place that decides."""
