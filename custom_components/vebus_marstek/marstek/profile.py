"""Firmware profiles: what a model and firmware generation can do and how it scales values.

The same field is encoded differently by different hardware lines and firmware builds
(see the project's Marstek reference, section B.13). Everything that depends on the model
or the firmware is decided here, once, from ``Marstek.GetDevice``'s ``device`` and ``ver``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import re


class Family(StrEnum):
    """Hardware line, as told apart by the firmware numbering it uses."""

    VENUS_E2 = "venus_e2"  # HMG-50: Venus E 2.0 and Venus C
    VENUS_E3 = "venus_e3"  # VNSE3
    VENUS_A = "venus_a"  # VNSA
    VENUS_D = "venus_d"  # VNSD
    VENUS_E_MINI = "venus_e_mini"  # VNSEM
    UNKNOWN = "unknown"


# Normalised (lower case, no spaces/dashes/underscores) device strings and SKUs.
# Matched exactly: "venuse" is a Venus E 2.0 while "venuse30" is a Venus E 3.0 and
# "venuseMini" a mini, so substring matching would confuse them.
_FAMILY_BY_NAME: dict[str, Family] = {
    "venusc": Family.VENUS_E2,
    "venuse": Family.VENUS_E2,
    "venuse20": Family.VENUS_E2,
    "hmg50": Family.VENUS_E2,
    "venuse30": Family.VENUS_E3,
    "vnse3": Family.VENUS_E3,
    "vnse30": Family.VENUS_E3,
    "venusa": Family.VENUS_A,
    "vnsa": Family.VENUS_A,
    "vnsa0": Family.VENUS_A,
    "venusepro": Family.VENUS_A,
    "venusd": Family.VENUS_D,
    "vnsd": Family.VENUS_D,
    "vnsd0": Family.VENUS_D,
    "venusemini": Family.VENUS_E_MINI,
    "vnsem": Family.VENUS_E_MINI,
    "vnsem0": Family.VENUS_E_MINI,
}

_MODEL_NAMES: dict[Family, str] = {
    Family.VENUS_E2: "Venus E 2.0 / Venus C",
    Family.VENUS_E3: "Venus E 3.0",
    Family.VENUS_A: "Venus A",
    Family.VENUS_D: "Venus D",
    Family.VENUS_E_MINI: "Venus E mini",
    Family.UNKNOWN: "Marstek Venus",
}


def family_from_device(device: str | None) -> Family:
    """Map a ``device`` string (or SKU) from GetDevice to a hardware line."""
    if not device:
        return Family.UNKNOWN
    key = re.sub(r"[\s._-]", "", device).lower()
    return _FAMILY_BY_NAME.get(key, Family.UNKNOWN)


def parse_generation(ver: object) -> int | None:
    """Firmware generation from ``ver``: 150, "150", "148.3" and 1487 (= 148.7) all work."""
    if isinstance(ver, bool):
        return None
    number: float
    if isinstance(ver, int | float):
        number = float(ver)
    elif isinstance(ver, str):
        match = re.match(r"\s*[vV]?(\d+)", ver)
        if match is None:
            return None
        number = float(match.group(1))
    else:
        return None
    generation = int(number)
    # Four-digit values are app versions with the dot removed: 1487 means 148.7.
    if 1000 <= generation <= 1999:
        generation //= 10
    return generation if generation > 0 else None


@dataclass(frozen=True, kw_only=True)
class FirmwareProfile:
    """Capabilities and scaling for one model and firmware generation."""

    family: Family
    generation: int | None
    model: str
    pv_channels: int
    has_meter: bool
    has_system_settings: bool  # DOD.SET, Led.Ctrl, Ble.Adv
    has_ups: bool
    accepts_passive: bool
    manual_slots: int
    max_power_w: int
    reset_prone: bool
    mode_readback_reverts: bool  # ES.GetMode right after ES.SetMode reverts the mode
    es_pv_hardcoded_zero: bool  # ES.GetStatus pv_power is always 0; PV.GetStatus is the truth
    es_capacity_is_remaining: bool  # ES.GetStatus bat_cap is stored energy, not the rated size
    # Multipliers from the raw wire value to W, Wh or degrees Celsius.
    battery_power_scale: float
    grid_energy_scale: float
    pv_energy_scale: float
    temperature_scale: float
    capacity_scale: float
    pv1_power_scale: float

    @property
    def has_pv(self) -> bool:
        """Whether PV.GetStatus exists on this model."""
        return self.pv_channels > 0


def resolve_profile(device: str | None, ver: object) -> FirmwareProfile:
    """Decide capabilities and scaling from GetDevice's ``device`` and ``ver``."""
    family = family_from_device(device)
    gen = parse_generation(ver)
    g = gen if gen is not None else 0
    e2 = family is Family.VENUS_E2
    e3 = family is Family.VENUS_E3
    a_or_d = family in (Family.VENUS_A, Family.VENUS_D)
    known_new = family is not Family.UNKNOWN and family is not Family.VENUS_E2 and g >= 150
    return FirmwareProfile(
        family=family,
        generation=gen,
        model=_MODEL_NAMES[family],
        pv_channels=4 if a_or_d else 0,
        has_meter=not (e2 and g < 155),
        has_system_settings=known_new or family is Family.VENUS_E_MINI,
        has_ups=known_new,
        accepts_passive=family is not Family.VENUS_E_MINI,
        manual_slots=6 if family is Family.VENUS_E_MINI else 10,
        max_power_w=_max_power(family),
        reset_prone=_reset_prone(family, g),
        mode_readback_reverts=g == 148,
        es_pv_hardcoded_zero=(family is Family.VENUS_A and g <= 148)
        or (family is Family.VENUS_D and g <= 147),
        es_capacity_is_remaining=family is Family.VENUS_E_MINI,
        battery_power_scale=0.1 if (e2 and g < 154) or (e3 and g <= 139) else 1.0,
        grid_energy_scale=(10.0 if g < 154 else 100.0) if e2 else 1.0,
        pv_energy_scale=10.0 if (a_or_d and g >= 149) or g >= 150 else 1.0,
        # bat_temp: tenths on VNSE3 139; tens of degrees on HMG-50 154+ (2.0 = 20 degC, jaapp #67)
        temperature_scale=0.1 if e3 and g <= 139 else 10.0 if e2 and g >= 154 else 1.0,
        capacity_scale=10.0 if (e3 and g <= 139) or (e2 and g < 154) else 1.0,
        pv1_power_scale=0.1,
    )


def _max_power(family: Family) -> int:
    if family is Family.VENUS_A or family is Family.VENUS_E_MINI:
        return 1500
    if family is Family.VENUS_D:
        return 2200
    return 2500


def _reset_prone(family: Family, generation: int) -> bool:
    """Firmware known to switch its Local API off (or reset) under sustained traffic."""
    threshold = {
        Family.VENUS_E2: 156,
        Family.VENUS_E3: 150,
        Family.VENUS_A: 149,
        Family.VENUS_D: 150,
    }.get(family)
    return threshold is not None and generation < threshold
