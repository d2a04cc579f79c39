"""Attachments: what files a procedure accepts, and resumable uploads that become references
in application data (docs/portal.md, "Attachments")."""

from engine.attachments.policy import AttachmentPolicy, human_size, parse_size
from engine.attachments.uploads import AttachmentRefused, OffsetMismatch, UploadState

__all__ = ["AttachmentPolicy", "AttachmentRefused", "OffsetMismatch", "UploadState", "human_size", "parse_size"]
