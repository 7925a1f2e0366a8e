"""A routine script: its domain values, the file models, loading with line numbers,
the schema for editors, the library of routines and starters."""
