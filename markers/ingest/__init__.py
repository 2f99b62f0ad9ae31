"""From raw cells to a tidy Dataset: column mapping, results, dates, units, issues."""
