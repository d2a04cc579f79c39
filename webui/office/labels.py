"""The words the office shows for the engine's codes: tabs, task kinds, decisions, history events."""

from __future__ import annotations

from flask_babel import gettext as _


def tab_label(tab: str) -> str:
    return {"mine": _("My tasks"), "groups": _("My groups' tasks"), "delegated": _("Delegated to me"),
            "overdue": _("Overdue")}.get(tab, tab)


def kind_label(kind: str) -> str:
    return {"task": _("Procedure task"), "approve": _("Review or decision (回議・決裁)"),
            "consult": _("Consultation (合議)"), "resubmit": _("Returned for resubmission"),
            "circulate": _("Circulation (供覧)"), "review_after": _("Review afterwards (後閲)")}.get(kind, kind)


def decision_label(decision: str) -> str:
    return {"approve": _("Approve"), "return": _("Return to an earlier step (差戻し)"), "reject": _("Reject (却下)"),
            "return_to_applicant": _("Return to the applicant"), "agree": _("Agree"), "object": _("Object"),
            "resubmit": _("Resubmit"), "withdraw": _("Withdraw (取下げ)"), "acknowledge": _("Acknowledge"),
            "draft": _("Drafted (起案)"), "recall": _("Recalled (引戻し)"),
            "approve_ahead": _("Approved ahead (引上げ)")}.get(decision, decision)


def event_label(action: str) -> str:
    return {"application_started": _("Application received"), "task_created": _("Task opened"),
            "task_completed": _("Task completed"), "task_claimed": _("Task claimed"),
            "task_unclaimed": _("Task released"), "task_cancelled": _("Task cancelled"),
            "approval_route_started": _("Approval route started"),
            "approval_route_finished": _("Approval route finished"),
            "approval_route_cancelled": _("Approval route cancelled"),
            "application_data_changed": _("Application data changed"),
            "application_completed": _("Application completed"), "message_received": _("Message received"),
            "service_task_completed": _("Automatic step completed"), "task_assigned": _("Task assigned"),
            "task_unassigned": _("Task unassigned")}.get(action, action)


def task_status_label(status: str) -> str:
    return {"open": _("Open"), "completed": _("Completed"), "cancelled": _("Cancelled")}.get(status, status)
