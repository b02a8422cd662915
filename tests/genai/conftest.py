"""The genai tests run the gateway through the real SDKs against the emulator over HTTP."""

from __future__ import annotations

from tests.emulator_fixture import emulator, emulator_server  # noqa: F401
