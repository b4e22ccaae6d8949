"""The `crmbridge` command line: thin commands over the engine and the store."""
