"""JDBC task types; kflow runs DuckDB (``io.kestra.plugin.jdbc.duckdb.Query``) in-process."""
