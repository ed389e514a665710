"""Adding devices and setting options through the config-flow HTTP API, as the frontend does.

Settings > Devices & services > Add integration posts exactly these requests: start a flow for
the handler, pick a menu entry, then submit each form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .client import HassClient, Json
from .waiting import Check

DOMAIN = "vebus_marstek"
FLOWS = "/api/config/config_entries/flow"
OPTIONS_FLOWS = "/api/config/config_entries/options/flow"
# The VE.Bus port list ends with this choice: type a path or URL by hand.
MANUAL_PORT = "manual"

type FlowResult = dict[str, Any]
type Options = dict[str, Json]


class FlowFailedError(AssertionError):
    """A flow ended somewhere other than a new entry (an error, an abort)."""

    def __init__(self, result: FlowResult) -> None:
        super().__init__(
            f"flow stopped at {result.get('type')} {result.get('step_id') or ''}: "
            f"errors={result.get('errors')} reason={result.get('reason')}"
        )
        self.result = result


async def start_flow(client: HassClient) -> FlowResult:
    """Add integration > VE.Bus & Marstek Venus (local): the device-kind menu."""
    result: FlowResult = await client.post(
        FLOWS, {"handler": DOMAIN, "show_advanced_options": False}
    )
    return result


async def submit(client: HassClient, flow_id: str, data: Mapping[str, Json]) -> FlowResult:
    """Submit one form (or pick one menu entry with ``{"next_step_id": ...}``)."""
    result: FlowResult = await client.post(f"{FLOWS}/{flow_id}", dict(data))
    return result


async def abandon(client: HassClient, flow_id: str) -> None:
    """Close the dialog: the flow in progress goes away."""
    await client.delete(f"{FLOWS}/{flow_id}")


async def marstek_form(client: HassClient) -> FlowResult:
    """The Marstek host/port form, reached through the menu."""
    menu = await start_flow(client)
    return await submit(client, menu["flow_id"], {"next_step_id": "marstek"})


async def try_marstek(client: HassClient, host: str, port: int) -> FlowResult:
    """Submit one battery address; the result may be an entry or the form with an error."""
    form = await marstek_form(client)
    return await submit(client, form["flow_id"], {"host": host, "port": port})


async def add_marstek(client: HassClient, host: str, port: int) -> FlowResult:
    """Add the battery at ``host``; the created entry is in ``result["result"]``."""
    return _created(await try_marstek(client, host, port))


async def vebus_form(client: HassClient) -> FlowResult:
    """The form that takes a device path or URL, reached through the menu.

    With serial ports on the machine the flow first offers them; the last choice leads to the
    form for a path or URL typed by hand.
    """
    menu = await start_flow(client)
    step = await submit(client, menu["flow_id"], {"next_step_id": "vebus"})
    if step.get("step_id") == "vebus":
        step = await submit(client, step["flow_id"], {"device": MANUAL_PORT})
    return step


async def try_vebus(client: HassClient, device: str) -> FlowResult:
    """Submit one path or URL (e.g. socket://127.0.0.1:5000, as ser2net serves it)."""
    form = await vebus_form(client)
    return await submit(client, form["flow_id"], {"device": device})


async def add_vebus(client: HassClient, device: str) -> FlowResult:
    """Add the VE.Bus unit behind ``device``; the created entry is in ``result["result"]``."""
    return _created(await try_vebus(client, device))


async def add_site(
    client: HassClient, name: str, members: list[str], grid_sensor: str
) -> FlowResult:
    """Add a site over the entries ``members``, reading ``grid_sensor`` (+ = import)."""
    menu = await start_flow(client)
    form = await submit(client, menu["flow_id"], {"next_step_id": "site"})
    data: dict[str, Json] = {
        "name": name,
        "members": list(members),
        "grid_sensor": grid_sensor,
        "grid_sign": "import_positive",
    }
    return _created(await submit(client, form["flow_id"], data))


async def set_options(client: HassClient, entry_id: str, options: Options) -> None:
    """Entry menu > Configure: submit the options form (the entry reloads)."""
    form: FlowResult = await client.post(OPTIONS_FLOWS, {"handler": entry_id})
    result: FlowResult = await client.post(f"{OPTIONS_FLOWS}/{form['flow_id']}", dict(options))
    if result.get("type") != "create_entry":
        raise FlowFailedError(result)


async def entries(client: HassClient) -> list[dict[str, Any]]:
    """This integration's config entries, as the integrations page lists them."""
    found: list[dict[str, Any]] = await client.get(
        f"/api/config/config_entries/entry?domain={DOMAIN}"
    )
    return found


def _created(result: FlowResult) -> FlowResult:
    if result.get("type") != "create_entry":
        raise FlowFailedError(result)
    return result


def all_loaded(client: HassClient) -> Check:
    """A check that every entry of the integration is set up (after a reload, say)."""

    async def check() -> str | None:
        states = {entry["title"]: entry["state"] for entry in await entries(client)}
        waiting = {title: state for title, state in states.items() if state != "loaded"}
        return f"not loaded: {waiting}" if waiting else None

    return check
