"""Reports (tables, figures) rendered from stored results, and utility regression."""
