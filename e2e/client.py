"""Home Assistant's HTTP and websocket APIs, as the frontend uses them: onboarding, login, calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

type Json = Any  # what json.loads returns; callers check the shape they expect

LANGUAGE = "en"


class HassApiError(Exception):
    """Home Assistant answered with an error: an HTTP status, or a websocket error code."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(f"{code or f'HTTP {status}'}: {message}")
        self.status = status
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Credentials:
    """The demo user: what a person types on the login page."""

    name: str
    username: str
    password: str


class HassClient:
    """One logged-in user of one Home Assistant instance (tokens refreshed as needed)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        # The frontend's client id is its own origin; Home Assistant accepts it without lookup.
        self.client_id = f"{base_url}/"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._message_id = 0

    async def close(self) -> None:
        await self._session.close()

    # --- start-up and onboarding ----------------------------------------------------------

    async def serving(self) -> str | None:
        """None once the HTTP server answers at all (it starts when hass has started)."""
        try:
            # Served without a login (asking /api/ would count as a failed login attempt).
            async with self._session.get(f"{self.base_url}/auth/providers") as response:
                return None if response.status < 500 else f"HTTP {response.status}"
        except aiohttp.ClientError as err:
            return f"{self.base_url}: {err}"

    async def running(self) -> str | None:
        """None once Home Assistant has finished starting (needs a login)."""
        try:
            state = (await self.get("/api/config")).get("state")
        except (aiohttp.ClientError, HassApiError) as err:
            return f"{self.base_url}: {err}"
        return None if state == "RUNNING" else f"Home Assistant is {state}"

    async def onboard(self, user: Credentials) -> None:
        """Every onboarding step the frontend's first-run wizard posts, then log in."""
        created = await self._post_json(
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": user.name,
                "username": user.username,
                "password": user.password,
                "language": LANGUAGE,
            },
            authenticated=False,
        )
        await self._token({"grant_type": "authorization_code", "code": created["auth_code"]})
        await self.post("/api/onboarding/core_config", {})
        await self.post("/api/onboarding/analytics", {})
        await self.post(
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": f"{self.client_id}?auth_callback=1"},
        )
        await self.keep_http_settings()

    async def keep_http_settings(self) -> None:
        """Confirm the HTTP settings of configuration.yaml, as the dialog's Confirm button does.

        From 2026.10 Home Assistant moves them to its storage as a trial and, unless someone
        confirms them, reverts to the defaults five minutes later by restarting. Releases
        before that have no such command; a confirmed configuration has nothing pending.
        """
        try:
            await self.ws({"type": "http/config/promote"})
        except HassApiError as err:
            if err.code not in {"unknown_command", "not_allowed"}:
                raise

    async def _token(self, form: Mapping[str, str]) -> None:
        data = {**form, "client_id": self.client_id}
        async with self._session.post(f"{self.base_url}/auth/token", data=data) as response:
            body = await _json_or_raise(response)
        self._access_token = body["access_token"]
        self._refresh_token = body.get("refresh_token", self._refresh_token)

    async def _refresh(self) -> None:
        if self._refresh_token is None:
            raise HassApiError(401, "not logged in")
        await self._token({"grant_type": "refresh_token", "refresh_token": self._refresh_token})

    # --- REST -----------------------------------------------------------------------------

    async def get(self, path: str) -> Json:
        return await self._request("GET", path)

    async def post(self, path: str, payload: Json = None) -> Json:
        return await self._request("POST", path, payload)

    async def delete(self, path: str) -> Json:
        return await self._request("DELETE", path)

    async def _post_json(self, path: str, payload: Json, *, authenticated: bool) -> Json:
        if authenticated:
            return await self.post(path, payload)
        async with self._session.post(f"{self.base_url}{path}", json=payload) as response:
            return await _json_or_raise(response)

    async def _request(self, method: str, path: str, payload: Json = None) -> Json:
        """One authenticated call; an expired access token is refreshed once."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self._access_token}"}
            async with self._session.request(
                method, f"{self.base_url}{path}", json=payload, headers=headers
            ) as response:
                if response.status == 401 and attempt == 0:
                    await self._refresh()
                    continue
                return await _json_or_raise(response)
        raise AssertionError("unreachable")

    async def states(self) -> dict[str, Json]:
        """Every entity's state object, by entity id."""
        return {state["entity_id"]: state for state in await self.get("/api/states")}

    async def call_service(self, domain: str, service: str, data: Mapping[str, Json]) -> Json:
        """An action, called the way the frontend calls it (validation errors come back
        as ``service_validation_error`` with their message, where REST only says 500)."""
        return await self.ws(
            {"type": "call_service", "domain": domain, "service": service, "service_data": data}
        )

    # --- websocket ------------------------------------------------------------------------

    async def ws(self, command: Mapping[str, Json]) -> Json:
        """One websocket command (e.g. the registries, which have no REST API)."""
        for attempt in range(2):
            async with self._session.ws_connect(f"{self.base_url}/api/websocket") as socket:
                await socket.receive_json()  # auth_required
                await socket.send_json({"type": "auth", "access_token": self._access_token})
                if (await socket.receive_json()).get("type") != "auth_ok":
                    if attempt == 0:
                        await self._refresh()
                        continue
                    raise HassApiError(401, "websocket login refused")
                return await self._ws_command(socket, command)
        raise AssertionError("unreachable")

    async def _ws_command(
        self, socket: aiohttp.ClientWebSocketResponse, command: Mapping[str, Json]
    ) -> Json:
        self._message_id += 1
        await socket.send_json({**command, "id": self._message_id})
        while True:
            reply = await socket.receive_json()
            if reply.get("id") == self._message_id and reply.get("type") == "result":
                break
        if not reply.get("success"):
            error = reply.get("error") or {}
            raise HassApiError(400, str(error.get("message")), code=error.get("code"))
        return reply.get("result")


async def _json_or_raise(response: aiohttp.ClientResponse) -> Json:
    text = await response.text()
    if response.status >= 400:
        raise HassApiError(response.status, text)
    if not text:
        return None
    return await response.json(content_type=None)
