"""HTTP task types (Request, Download)."""
