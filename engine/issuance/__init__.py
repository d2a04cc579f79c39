"""Issued documents: templates rendered to PDF, numbered, sealed (PAdES), stored and verified."""
