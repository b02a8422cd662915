"""A small client for the emulator's control API (``/_emulator/…``), used by TuneDesk's admin
page. It never touches the Vertex routes: those go through the real SDKs."""

from __future__ import annotations

from typing import Any

import requests


class EmulatorUnavailable(Exception):
    """The emulator does not answer (not started, wrong address)."""


class EmulatorRefused(Exception):
    """The emulator answered 4xx; the message says what it did not accept."""


class EmulatorControl:
    def __init__(self, base_url: str, *, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = requests.request(
                method, f"{self.base_url}/_emulator/{path}", json=body, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise EmulatorUnavailable(str(error)) from error
        if 400 <= response.status_code < 500:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise EmulatorRefused(message)
        if response.status_code != 200:
            raise EmulatorUnavailable(f"HTTP {response.status_code}")
        return response.json()

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "state"))

    def add_fault(self, fault: dict[str, Any]) -> None:
        self._call("POST", "faults", fault)

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def fail_job(self, job_id: str) -> None:
        self._call("POST", f"jobs/{job_id}/fail")

    def update_settings(self, values: dict[str, Any]) -> None:
        self._call("POST", "settings", values)
