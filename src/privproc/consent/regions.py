"""Where the law requires asking before content is used for training.

In the regions of :data:`ASK_REQUIRED` an account that was never asked counts as
*refused*: only an explicit grant makes its content eligible. Elsewhere an unset
account takes the operator's documented default (:attr:`RegionPolicy.default_elsewhere`,
granted unless the operator configures refused); an explicit refusal always wins,
everywhere. ``ZZ`` (ISO 3166 "unknown") is in the table, so an account whose region
is not known is treated as one where asking is required: fail closed.

The table is an engineering default, not legal advice: an operator's counsel
decides the final list, and :class:`RegionPolicy` takes any set of codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from privproc.consent.events import ConsentState, check_region
from privproc.errors import MisuseError

__all__ = ["ASK_REQUIRED", "RegionPolicy"]

_EU = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip
_EEA = ("IS", "LI", "NO")

#: Region code (ISO 3166-1 alpha-2) -> the law under which we ask first.
ASK_REQUIRED: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(_EU, "EU GDPR (Regulation 2016/679)"),
        **dict.fromkeys(_EEA, "GDPR via the EEA Agreement"),
        "GB": "UK GDPR and Data Protection Act 2018",
        "CH": "Swiss revised Federal Act on Data Protection (revFADP)",
        "BR": "Brazil LGPD (Lei 13.709/2018)",
        "ZZ": "region unknown: fail closed",
    }
)


@dataclass(frozen=True, slots=True)
class RegionPolicy:
    """How an account's recorded state and region become its effective consent."""

    #: What an unset account counts as outside :attr:`ask_required` (the operator's default).
    default_elsewhere: ConsentState = ConsentState.GRANTED
    #: Regions where unset means refused.
    ask_required: frozenset[str] = field(default_factory=lambda: frozenset(ASK_REQUIRED))

    def __post_init__(self) -> None:
        if self.default_elsewhere is ConsentState.UNSET:
            raise MisuseError("default_elsewhere must be granted or refused")
        for code in self.ask_required:
            check_region(code)

    def asks_first(self, region: str) -> bool:
        """True where an account must be asked before its content is used."""
        return region in self.ask_required

    def effective(self, state: ConsentState, region: str) -> ConsentState:
        """Granted or refused: the recorded state, or the region's rule when unset."""
        if state is not ConsentState.UNSET:
            return state
        if self.asks_first(region):
            return ConsentState.REFUSED
        return self.default_elsewhere
