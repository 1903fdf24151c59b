"""Spreadsheet import and export of people: CSV/XLSX in, preview with verdicts, confirm, export.

``parsing`` turns uploaded bytes into rows of text (encoding, delimiter, sheet, header row),
``mapping`` recognises column headers, ``validation`` cleans one row's values, ``services``
compares the rows with the database (preview), writes them (confirm) and builds exports.
"""
