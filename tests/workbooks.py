"""Real xlsx fixtures for the tests, written with openpyxl."""

import openpyxl


def write_workbook(path, sheets):
    """Write ``{sheet name: list of rows}`` as a workbook at ``path``; returns the path."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path
