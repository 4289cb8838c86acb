"""Task types, looked up by their Kestra type name (see :mod:`kflow.tasks.base`)."""
