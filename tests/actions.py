"""Calling actions as the frontend does, waiting for them so that a test sees what they did."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.vebus_marstek.const import DOMAIN


async def call(hass: HomeAssistant, domain: str, service: str, data: dict[str, Any]) -> None:
    """Call any action (``number.set_value``, ``select.select_option``, ...)."""
    await hass.services.async_call(domain, service, data, blocking=True)


async def call_action(hass: HomeAssistant, service: str, data: dict[str, Any]) -> None:
    """Call one of this integration's own actions (``set_passive_mode``, ...)."""
    await call(hass, DOMAIN, service, data)
