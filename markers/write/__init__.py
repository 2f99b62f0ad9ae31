"""Tables for the next tool: atomic writes, provenance, CSV/XLSX/JSON writers."""
