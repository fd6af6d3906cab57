"""Exchange rates that make sense: when a rate needs the person's explicit confirmation.

A rate is *units of the currency for one US dollar* (VND 22,350). The slip this guards
against is a rate off by a factor of a thousand (22.35 typed for 22,350, which books a
100,000 VND taxi as USD 4,474.27), or a rate entered the wrong way round (0.0000447 for
22,350). Such a rate is not refused: it needs a tick in "Confirm this rate" and a written
reason, which is kept with the expenditure (``Expenditure.rate_confirmation``), shown on its
page and in the auditor's workspace; who confirmed it and when is in the audit trail.

The rules (decided here; the issue left them open):

* **The last rate of that currency in the project.** The reference is the rate of the
  project's expenditure in the same currency with the latest date *on or before* the new
  expenditure's date (the latest booked first among several on that day), the expenditure
  being edited left out. Rates move with time, so an invoice of 2016 is compared with the
  rate of 2016, not with one of a later year; a back-dated booking is compared with the rate
  that was in force then. A rate more than 20% above or below it (``MAX_CHANGE``) needs
  confirmation. Without a date (the live preview before one is typed) the latest rate of the
  currency overall is the reference.
* **The first rate of a currency** (nothing booked in it on or before that date) is compared
  with a plausible band for the currency (``BANDS``); outside it, confirmation is needed.
  Currencies without a band have no first-time check (the second rate is then checked
  against the first).
* **Editing** an expenditure without changing its currency or rate checks nothing again, and
  keeps the reason given when it was confirmed. A rate that no longer needs confirmation
  drops the stored reason (it would explain a rate that is not there any more).

``BANDS``: approximate ranges of the market rate of each currency against the US dollar over
2010-2025, taken from the yearly average and extreme rates central banks and the IMF publish,
rounded outward by about a fifth so that a real rate of those years never falls outside.
Written December 2026 for projects of that period; widen a band when a currency moves past it
(a rate outside the band is never refused, only confirmed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..formatting import money, number
from ..models import Expenditure

MAX_CHANGE = Decimal("0.20")  # more than 20% away from the last rate needs confirmation
BANDS_AS_OF = "2026-12"

# Units per USD: (lowest plausible, highest plausible). See the module's doc for the source.
BANDS: dict[str, tuple[Decimal, Decimal]] = {code: (Decimal(low), Decimal(high)) for code, low, high in (
    ("VND", "15000", "32000"),   # about 18,600 (2010) to 25,500 (2025)
    ("KRW", "850", "1700"),      # about 1,050 (2014) to 1,480 (2025)
    ("JPY", "65", "200"),        # about 76 (2011) to 161 (2024)
    ("CNY", "5.5", "8.5"),       # about 6.05 (2014) to 7.35 (2024)
    ("THB", "24", "45"),         # about 28.6 (2013) to 38.2 (2022)
    ("LAK", "6500", "30000"),    # about 7,800 (2012) to 22,000 (2024)
    ("KHR", "3500", "4800"),     # about 3,950 to 4,200 throughout
    ("MMK", "700", "4500"),      # about 820 (2012) to 2,100 official, 3,500 market (2024)
    ("EUR", "0.6", "1.25"),      # about 0.67 (2011) to 1.04 (2022)
    ("GBP", "0.5", "1.0"),       # about 0.60 (2014) to 0.90 (2022)
    ("CHF", "0.65", "1.2"),      # about 0.76 (2011) to 1.03 (2016)
    ("AUD", "0.85", "1.9"),      # about 0.93 (2011) to 1.60 (2020)
    ("SGD", "1.1", "1.65"),      # about 1.22 (2013) to 1.45 (2016)
    ("IDR", "8000", "19000"),    # about 8,600 (2011) to 16,400 (2025)
    ("PHP", "38", "68"),         # about 41 (2013) to 59 (2024)
    ("MYR", "2.7", "5.2"),       # about 2.95 (2011) to 4.80 (2024)
    ("INR", "40", "100"),        # about 44 (2011) to 87 (2025)
    ("HKD", "7.6", "8.0"),       # pegged 7.75-7.85
)}


@dataclass(frozen=True)
class PreviousRate:
    """The rate a new one is compared with: the last booked in that currency in the project."""

    rate: Decimal
    spent_on: date
    voucher: str


@dataclass(frozen=True)
class RateCheck:
    """A rate that needs confirmation, and why (``previous`` or, for the first one, ``band``)."""

    currency: str
    rate: Decimal
    usd_cents: int | None
    previous: PreviousRate | None = None
    band: tuple[Decimal, Decimal] | None = None

    @property
    def warning(self) -> str:
        """What the form says: the last rate (or the usual range) and the USD figure it would book."""
        usd = money(self.usd_cents) if self.usd_cents is not None else "–"
        if self.previous is not None:
            return _("%(rate)s %(currency)s per USD is more than %(limit)s away from the last rate used for "
                     "%(currency)s in this project, %(previous)s on %(date)s (voucher %(voucher)s). At this rate "
                     "the expenditure books %(usd)s.",
                     rate=number(self.rate), currency=self.currency, limit="20%", previous=number(self.previous.rate),
                     date=self.previous.spent_on.isoformat(), voucher=self.previous.voucher, usd=usd)
        low, high = self.band
        return _("%(rate)s %(currency)s per USD is outside the usual range for %(currency)s (%(low)s to %(high)s per "
                 "USD), and no earlier %(currency)s rate is booked in this project. At this rate the expenditure "
                 "books %(usd)s.",
                 rate=number(self.rate), currency=self.currency, low=number(low), high=number(high), usd=usd)

    @property
    def refusal(self) -> str:
        """The error when the rate was not confirmed (the form's "Confirm this rate" field)."""
        return self.warning + " " + _("Check the rate. If it is right, tick “Confirm this rate” and say why.")


def previous_rate(project_id: int, currency: str, spent_on: date | None,
                  exclude_id: int | None = None) -> PreviousRate | None:
    """The project's last rate for ``currency`` on or before ``spent_on`` (any date when None)."""
    query = (select(Expenditure.exchange_rate, Expenditure.spent_on, Expenditure.voucher)
             .where(Expenditure.project_id == project_id, Expenditure.original_currency == currency,
                    Expenditure.exchange_rate.is_not(None))
             .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc()).limit(1))
    if spent_on is not None:
        query = query.where(Expenditure.spent_on <= spent_on)
    if exclude_id is not None:
        query = query.where(Expenditure.id != exclude_id)
    row = db.session.execute(query).first()
    return None if row is None else PreviousRate(Decimal(row[0]), row[1], row[2])


def check_rate(project_id: int, currency: str, rate: Decimal, spent_on: date | None, usd_cents: int | None,
               exclude_id: int | None = None) -> RateCheck | None:
    """A ``RateCheck`` when ``rate`` needs confirmation, else None (see the module's rules)."""
    previous = previous_rate(project_id, currency, spent_on, exclude_id)
    if previous is not None:
        if abs(rate - previous.rate) > previous.rate * MAX_CHANGE:
            return RateCheck(currency, rate, usd_cents, previous=previous)
        return None
    band = BANDS.get(currency)
    if band is not None and not band[0] <= rate <= band[1]:
        return RateCheck(currency, rate, usd_cents, band=band)
    return None


def confirmed_rates(project_id: int, limit: int = 50) -> tuple[list[Expenditure], int]:
    """The newest ``limit`` expenditures whose rate was confirmed with a reason (for the
    auditor), with their lines, and how many there are in all (two queries)."""
    from sqlalchemy import func
    from sqlalchemy.orm import joinedload

    where = (Expenditure.project_id == project_id, Expenditure.rate_confirmation != "")
    total = db.session.execute(select(func.count()).select_from(Expenditure).where(*where)).scalar()
    rows = db.session.execute(
        select(Expenditure).options(joinedload(Expenditure.line)).where(*where)
        .order_by(Expenditure.spent_on.desc(), Expenditure.id.desc()).limit(limit)).scalars().all()
    return rows, total
