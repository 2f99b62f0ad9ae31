"""Reading files: safety checks, workbook and text readers, cells as text."""
