"""Applicant accounts (residents and businesses): registration, one-time mail links, sign-in,
profile, and the applications an applicant filed with their public status.

No web framework here: the portal's views call these through :class:`engine.facade.Engine`.
"""
