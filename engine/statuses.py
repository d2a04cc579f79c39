"""The public status vocabulary of an application (DESIGN §4), shown to applicants and staff."""

STATUSES = ("received", "in_review", "returned", "approved", "rejected", "withdrawn", "issued", "completed")
