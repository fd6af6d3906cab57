"""ISO 4217 currency codes in circulation, with their minor units (decimals).

Kept in code (no network, no extra package). Funds codes and precious metals (XAU, XDR...)
are left out: nobody pays an invoice in them. The list follows ISO 4217 as amended in 2024
(ZWG, XCG and SLE in; HRK, SLL and ZWL out).

The names shown in the form's list are lazy (translated when the list is drawn, in the
request's locale); the codes never are.
"""

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

# Codes whose minor unit is not 2.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"

_CODES = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN
NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW
UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""

CURRENCIES: frozenset[str] = frozenset(_CODES.split())

# Names for the currencies a project in the region is most likely to meet (others show their code).
NAMES = {
    "VND": _l("Vietnamese đồng"),
    "USD": _l("US dollar"),
    "EUR": _l("Euro"),
    "KRW": _l("South Korean won"),
    "JPY": _l("Japanese yen"),
    "CNY": _l("Chinese yuan"),
    "GBP": _l("Pound sterling"),
    "CHF": _l("Swiss franc"),
    "THB": _l("Thai baht"),
    "LAK": _l("Lao kip"),
    "KHR": _l("Cambodian riel"),
    "MMK": _l("Myanmar kyat"),
    "SGD": _l("Singapore dollar"),
    "AUD": _l("Australian dollar"),
    "IDR": _l("Indonesian rupiah"),
    "PHP": _l("Philippine peso"),
    "MYR": _l("Malaysian ringgit"),
    "INR": _l("Indian rupee"),
    "HKD": _l("Hong Kong dollar"),
    "CAD": _l("Canadian dollar"),
    "NZD": _l("New Zealand dollar"),
    "SEK": _l("Swedish krona"),
    "NOK": _l("Norwegian krone"),
    "DKK": _l("Danish krone"),
    "XOF": _l("West African CFA franc"),
    "XAF": _l("Central African CFA franc"),
    "KES": _l("Kenyan shilling"),
    "ZAR": _l("South African rand"),
    "BRL": _l("Brazilian real"),
    "MXN": _l("Mexican peso"),
}


def minor_units(code: str) -> int:
    """Decimals of the currency's amounts: 0 for VND and JPY, 3 for KWD, 2 for most."""
    if code in _ZERO.split():
        return 0
    if code in _THREE.split():
        return 3
    if code in _FOUR.split():
        return 4
    return 2


def _label(code: str) -> str:
    return f"{code} – {NAMES[code]}"


def choices() -> list[tuple[str, str]]:
    """(code, label) for a select: named currencies first, then every other code (the labels of
    the named ones are lazy: the list is built once, at import, and shown in any language)."""
    named = sorted((c for c in NAMES if c != "USD"), key=lambda c: (c != "VND", c))
    rest = sorted(CURRENCIES - set(NAMES))
    return ([("", _l("— paid in USD —"))] + [(c, LazyString(_label, c)) for c in named]
            + [(c, c) for c in rest])
