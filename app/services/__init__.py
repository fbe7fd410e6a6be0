"""Business rules: plain functions that take ids and values, do the work and own the commit."""
