"""Seed 001's last flow, unchanged: HTTP request → Python (polars, Process runner) writing
products.csv → DuckDB query with store: true, previewed as a table. The API is served from
127.0.0.1; polars is installed once per test session into the shared Python home."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kflow.cli import app

FLOW = """
id: getting_started
namespace: company.team

inputs:
  - id: api_url
    type: STRING
    defaults: https://dummyjson.com/products

tasks:
  - id: api
    type: io.kestra.plugin.core.http.Request
    uri: "{{ inputs.api_url }}"

  - id: python
    type: io.kestra.plugin.scripts.python.Script
    taskRunner:
      type: io.kestra.plugin.core.runner.Process # Runs the Python script in the same process as the flow rather than a Docker container
    beforeCommands:
      - pip install polars
    outputFiles:
      - "products.csv"
    script: |
      import polars as pl
      data = {{ outputs.api.body | jq('.products') | first }}
      df = pl.from_dicts(data)
      df.glimpse()
      df.select(["brand", "price"]).write_csv("products.csv")

  - id: sqlQuery
    type: io.kestra.plugin.jdbc.duckdb.Query
    inputFiles:
      in.csv: "{{ outputs.python.outputFiles['products.csv'] }}"
    sql: |
      SELECT brand, round(avg(price), 2) as avg_price
      FROM read_csv_auto('{{ workingDir }}/in.csv', header=True)
      GROUP BY brand
      ORDER BY avg_price DESC;
    store: true
"""


def test_tutorial_with_duckdb_and_preview(write_flow, httpserver, python_home, monkeypatch):
    monkeypatch.setenv("KFLOW_HOME", str(python_home))
    products = {
        "products": [
            {"id": 1, "brand": "Essence", "price": 9.99},
            {"id": 2, "brand": "Chanel", "price": 129.5},
            {"id": 3, "brand": "Chanel", "price": 70.5},
        ]
    }
    httpserver.expect_request("/products").respond_with_json(products)
    path = write_flow(FLOW)
    runner = CliRunner()
    result = runner.invoke(
        app, ["run", str(path), "-i", f"api_url={httpserver.url_for('/products')}", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    runs = {r["taskId"]: r for r in doc["taskRunList"]}
    assert runs["api"]["outputs"]["code"] == 200
    query = runs["sqlQuery"]["outputs"]
    assert query["size"] == 2 and query["uri"].endswith(".ion")
    preview = runner.invoke(app, ["preview", query["uri"]])
    assert preview.exit_code == 0
    assert "Chanel" in preview.stdout and "100.0" in preview.stdout
    assert "Essence" in preview.stdout and "9.99" in preview.stdout
