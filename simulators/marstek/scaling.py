"""How each (family, firmware) scales physical values on the wire (reference B.16)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Family(StrEnum):
    """Hardware line; scaling and capabilities depend on (family, firmware ver)."""

    HMG50 = "HMG-50"  # Venus E 2.0 and Venus C
    VNSE3 = "VNSE3"  # Venus E 3.0
    VENUS_A = "VNSA"
    VENUS_D = "VNSD"
    E_MINI = "VNSEM"


type GetModeCtFields = Literal["absent", "zero", "live"]


@dataclass(frozen=True, slots=True)
class WireEncoding:
    """Scaling of physical values on the wire.  Multipliers: physical = raw * multiplier."""

    bat_power_w_per_raw: float | None  # None: ES.GetStatus has no bat_power
    grid_energy_wh_per_raw: int  # total_grid_input/output_energy, total_load_energy
    pv_energy_wh_per_raw: int  # total_pv_energy
    pv_hardcoded_zero: bool  # ES.pv_power and total_pv_energy always 0
    load_energy_hardcoded_zero: bool
    bat_temp_c_per_raw: float  # 0.1, 1.0, or 10.0 (sent with one decimal: 2.0 = 20 degC)
    bat_capacity_wh_per_raw: int
    getmode_ct_fields: GetModeCtFields
    # PV.GetStatus channel 1 (others in W): 0.1 on every observed firmware; 1.0 models a
    # firmware that fixed it.
    pv1_w_per_raw: float = 0.1


def derive_encoding(family: Family, ver: int) -> WireEncoding:
    """The project's encoding matrix for one (family, firmware) pair."""
    hmg = family is Family.HMG50
    old_vnse3 = family is Family.VNSE3 and ver <= 139
    has_bat_power = (hmg and ver <= 153) or family is Family.E_MINI or old_vnse3
    deci_bat_power = (hmg and ver < 154) or old_vnse3
    grid_unit = (10 if ver < 154 else 100) if hmg else 1
    pv_energy_unit = (
        10 if (family in (Family.VENUS_A, Family.VENUS_D) and ver >= 149) or ver >= 150 else 1
    )
    pv_zero = (family is Family.VENUS_A and ver <= 148) or (family is Family.VENUS_D and ver <= 147)
    getmode_ct: GetModeCtFields
    if family is Family.VNSE3 and ver >= 150:
        getmode_ct = "zero"
    elif ver >= 150 or family is Family.VENUS_A:
        getmode_ct = "live"
    else:
        getmode_ct = "absent"
    return WireEncoding(
        bat_power_w_per_raw=(0.1 if deci_bat_power else 1.0) if has_bat_power else None,
        grid_energy_wh_per_raw=grid_unit,
        pv_energy_wh_per_raw=pv_energy_unit,
        pv_hardcoded_zero=pv_zero,
        load_energy_hardcoded_zero=family in (Family.VNSE3, Family.VENUS_A, Family.VENUS_D),
        # The BMS of HMG-50 firmware 154+ reports tens of degrees: 2.0 for 20 degC (jaapp #67).
        bat_temp_c_per_raw=0.1 if old_vnse3 else 10.0 if hmg and ver >= 154 else 1.0,
        bat_capacity_wh_per_raw=10 if old_vnse3 or (hmg and ver < 154) else 1,
        getmode_ct_fields=getmode_ct,
    )
