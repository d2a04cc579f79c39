"""The portal's procedure catalogue: entries, their import, and a search forgiving of how
Japanese is typed (see docs/portal.md)."""
