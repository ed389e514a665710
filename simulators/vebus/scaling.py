"""RAM-variable and setting scales: physical value <-> raw word (reference D)."""

from __future__ import annotations

from dataclasses import dataclass

from .wire import BIT_VARIABLE_OFFSET


def s16(word: int) -> int:
    word &= 0xFFFF
    return word - 0x10000 if word & 0x8000 else word


def u16(value: int) -> bytes:
    return (value & 0xFFFF).to_bytes(2, "little")


def u24(value: int) -> bytes:
    return max(0, min(value, 0xFFFFFF)).to_bytes(3, "little")


@dataclass(frozen=True, slots=True)
class RamVarInfo:
    """Scale and offset words of a RAM variable exactly as GetRAMVarInfo sends them (D.1)."""

    scale_word: int
    offset_word: int = 0

    @property
    def scale(self) -> int:
        return s16(self.scale_word)

    @property
    def offset(self) -> int:
        return s16(self.offset_word)

    @property
    def is_bit(self) -> bool:
        return self.offset_word == BIT_VARIABLE_OFFSET

    @property
    def bit(self) -> int:
        """Bit position of a bit variable (scale word = bit + 1)."""
        return self.scale - 1

    @property
    def signed(self) -> bool:
        return self.scale < 0

    @property
    def multiplier(self) -> float:
        magnitude = abs(self.scale)
        return float(magnitude) if magnitude < 0x4000 else 1.0 / (0x8000 - magnitude)

    def to_raw(self, value: float) -> int:
        """The u16 word a device reports for `value` (physical units), saturated."""
        raw = round(value / self.multiplier) - self.offset
        low, high = (-0x8000, 0x7FFF) if self.signed else (0, 0xFFFF)
        return min(max(raw, low), high) & 0xFFFF

    def to_value(self, word: int) -> float:
        raw = s16(word) if self.signed else word & 0xFFFF
        return self.multiplier * (raw + self.offset)


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """GetSettingInfo fields (D.3): value = multiplier * (raw + offset)."""

    scale: int  # s16: > 0 multiplier, < 0 divisor
    default: int
    minimum: int
    maximum: int  # flag words: mask of the supported bits
    offset: int = 0
    access: int = 0  # ACCESS_GRID_CODE / ACCESS_RESET_REQUIRED
    flag_word: bool = False

    @property
    def multiplier(self) -> float:
        return float(self.scale) if self.scale > 0 else 1.0 / -self.scale

    def to_value(self, raw: int) -> float:
        return self.multiplier * (raw + self.offset)

    def to_raw(self, value: float) -> int:
        return round(value / self.multiplier - self.offset)
