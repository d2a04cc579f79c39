"""Helpers of the resident records tests: the stand-in server seen through its HTTP controls,
and the small diagrams that call the two operations."""

from __future__ import annotations

import httpx

from plugins.resident_records.standin import StandinServer
from tests.diagrams import chain, process, user_task
from tests.engine.jobs.support import camunda_external_task, service_task


class Standin:
    """A running stand-in, controlled the way the demo controls it: over HTTP."""

    def __init__(self, server: StandinServer):
        self.server = server
        self.url, self.api_url, self.token = server.url, server.api_url, server.token

    def fault(self, **spec) -> None:
        httpx.post(f"{self.url}/_standin/faults", json=spec, timeout=5).raise_for_status()

    def changes(self) -> list[dict]:
        return httpx.get(f"{self.url}/_standin/changes", timeout=5).json()["changes"]

    def requests(self, path_contains: str = "") -> list[dict]:
        every = httpx.get(f"{self.url}/_standin/requests", timeout=5).json()["requests"]
        return [r for r in every if path_contains in r["path"]]

    def resident(self, atena: str) -> dict:
        answer = httpx.get(f"{self.api_url}/residents/{atena}", timeout=5,
                           headers={"Authorization": f"Bearer {self.token}"})
        answer.raise_for_status()
        return answer.json()["resident"]


def one_call(pid: str, task_xml: str) -> str:
    """start → the call (element id ``call``) → a clerk's ``check`` task → end."""
    return process(pid, "\n".join(['<bpmn:startEvent id="s"/>', task_xml, user_task("check"),
                                   '<bpmn:endEvent id="e"/>', chain("s", "call", "check", "e")]))


def lookup_by_name(pid: str = "lookup_by_name", *, retry: tuple[int, int] | None = None) -> str:
    """A Spiff-dialect lookup taking the applicant's name, birth date and address."""
    return one_call(pid, service_task("call", "resident_records.lookup", {
        "name": "applicant['name']", "birth_date": "applicant['birth_date']", "address": "applicant['address']",
    }, retry=retry))


def lookup_by_serial(pid: str = "lookup_by_serial") -> str:
    """A Spiff-dialect lookup by the serial of the applicant's signing certificate."""
    return one_call(pid, service_task("call", "resident_records.lookup", {"jpki_serial": "certificate_serial"}))


def notify_address_change(pid: str = "notify_change") -> str:
    return one_call(pid, service_task("call", "resident_records.notify_change", {
        "resident_id": "resident_id", "kind": "'address_change'", "fields": "{'address': new_address}",
        "effective_date": "moved_on",
    }))


def camunda_lookup_then_notify(pid: str = "camunda_move") -> str:
    """Camunda external tasks receive the whole task data: the lookup's ``resident`` included."""
    return process(pid, "\n".join([
        '<bpmn:startEvent id="s"/>', camunda_external_task("find", "resident_records.lookup"),
        user_task("review"), camunda_external_task("notify", "resident_records.notify_change"),
        '<bpmn:endEvent id="e"/>', chain("s", "find", "review", "notify", "e")]))
