"""Bulk import of products, customers and stock receipts from CSV and Excel files.

`reader` turns a file into rows of text, `mapping` turns a row into a capability's input schema, `runner`
applies the rows in one transaction (a savepoint per row) and reports what went wrong where. The CLI and
the web UI both call `runner.import_file`.
"""
