# See plugins/<name>/__init__.py: test packages get unique names.
