"""Documents for people: the PDF/PNG report and the text summaries."""
