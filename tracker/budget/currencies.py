"""ISO 4217 currency codes in circulation, with their minor units (decimals).

Kept in code (no network, no extra package). Funds codes and precious metals (XAU, XDR...)
are left out: nobody pays an invoice in them. The list follows ISO 4217 as amended in 2024
(ZWG, XCG and SLE in; HRK, SLL and ZWL out).
"""

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
    "VND": "Vietnamese đồng", "USD": "US dollar", "EUR": "Euro", "KRW": "South Korean won",
    "JPY": "Japanese yen", "CNY": "Chinese yuan", "GBP": "Pound sterling", "CHF": "Swiss franc",
    "THB": "Thai baht", "LAK": "Lao kip", "KHR": "Cambodian riel", "MMK": "Myanmar kyat",
    "SGD": "Singapore dollar", "AUD": "Australian dollar", "IDR": "Indonesian rupiah",
    "PHP": "Philippine peso", "MYR": "Malaysian ringgit", "INR": "Indian rupee", "HKD": "Hong Kong dollar",
    "CAD": "Canadian dollar", "NZD": "New Zealand dollar", "SEK": "Swedish krona", "NOK": "Norwegian krone",
    "DKK": "Danish krone", "XOF": "West African CFA franc", "XAF": "Central African CFA franc",
    "KES": "Kenyan shilling", "ZAR": "South African rand", "BRL": "Brazilian real", "MXN": "Mexican peso",
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


def choices() -> list[tuple[str, str]]:
    """(code, label) for a select: named currencies first, then every other code."""
    named = sorted((c for c in NAMES if c != "USD"), key=lambda c: (c != "VND", c))
    rest = sorted(CURRENCIES - set(NAMES))
    return ([("", "— paid in USD —")] + [(c, f"{c} – {NAMES[c]}") for c in named]
            + [(c, c) for c in rest])
