"""Street addresses (LOCATION): a street line and the city line after it, in US, UK, German, Dutch, Nordic, French,
Italian, Spanish and Portuguese formats.

spaCy's small model tags a city now and then but never "5475 Pine Court". An address is found by its shape: a
house number next to capitalised name words and a street type, then optionally a city with a US state and ZIP, a
UK postcode, or a five-digit postcode and city. A street line alone scores under the acting level unless a context
word ("address", "ship to", ...) or a city line confirms it: "3 Google Drive files" must not act. After a street field's label
(`Address:`, `"street":`) the value is a street without a house number or street type too.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from gateway.inspection.recognizers.common import LABEL_SEP, VALUE_END

_US_STATES = ("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC "
              "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI").split()
_STREET_TYPES = ("Street|St|Avenue|Ave|Av|Road|Rd|Drive|Dr|Lane|Ln|Court|Ct|Boulevard|Blvd|Way|Place|Pl|Terrace|Ter|"
                 "Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Close|Crescent|Cres|Grove|Gardens|Mews|Row|Trail|Trl|"
                 "Loop|Alley|Walk|Hill|Park|Pike|Plaza|Point|Ridge|Run|View|Green")
_NAME = r"(?:[A-Z][a-z]+(?:['-][A-Za-z][a-z]+)?|[A-Z]{2,}(?:['-][A-Z]+)?)\.?"  # Title Case or SHIPPING-LABEL CAPS
_DIRECTION = r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?[ \t]+)?"
_UNIT = r"(?:,?[ \t]+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|#)\.?[ \t]*#?[0-9A-Za-z-]{1,6})?"
_NUMBER = r"(?<![\w.,$€£-])\d{1,5}[A-Za-z]?(?:-\d{1,4})?"
# "5475 Pine Court", "12 N. Maple Ave, Suite 300", "Flat 3, 12 Albert Street"
STREET = (rf"{_NUMBER}[ \t]+{_DIRECTION}(?:{_NAME}[ \t]+){{1,3}}(?:{_STREET_TYPES}|{_STREET_TYPES.upper()})\b\.?"
          rf"(?i:{_UNIT})")
_CITY = r"(?:[A-Z][a-z]+(?:[ \t.-]+[A-Z][a-z]+){0,2}|[A-Z]{3,}(?:[ \t.-]+[A-Z]{2,}){0,2})"
US_CITY = rf"{_CITY},?[ \t]+(?:{'|'.join(_US_STATES)})[ \t]+\d{{5}}(?:-\d{{4}})?\b"
UK_POSTCODE = r"\b[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}\b"
_EU_CITY = r"[A-ZÄÖÜÉ][a-zäöüßéèêàç]+(?:[ \t-][A-ZÄÖÜÉa-z][a-zäöüßéèêàç]+){0,2}"
EU_CITY = rf"\b\d{{5}}[ \t]+{_EU_CITY}"
# The street name first, then the number, its type a suffix: German "Hauptstrasse 12a", "Am Lindenweg 4"; Dutch
# "Kerkstraat 89", "Keizersgracht 71"; Nordic "Storgatan 5", "Nørrebrogade 12"; or its type a word before the name:
# Italian, Spanish, Portuguese "Via Garibaldi 12", "Calle Mayor 5", "Rua Augusta 100".
DE_STREET = (r"(?:\b(?:[A-ZÄÖÜ][a-zäöüß]+[ \t-])?[A-ZÄÖÜÆØÅ][a-zäöüßæøå]*(?:straße|strasse|str\.|weg|allee|platz|gasse|"
             r"ring|damm|ufer|chaussee|steig|pfad|straat|gracht|laan|plein|kade|dijk|singel|steeg|gatan|gata|"
             r"vägen|vagen|veien|gade|vej|stræde|torget|torv)[ \t]+\d{1,4}[a-z]?\b"
             # the space lost ("Kerkstraat89"): only after suffixes no identifier ends in ("Keyring2")
             r"|\b[A-ZÄÖÜÆØÅ][a-zäöüßæøå]*(?:straße|strasse|straat|gracht|gatan|vägen|allee|platz|gasse)\d{1,4}[a-z]?\b)")
SOUTH_STREET = (r"\b(?:Via|Viale|Piazza|Corso|Vicolo|Calle|Avenida|Avda\.|Plaza|Paseo|Carrer|Rua|Travessa|Largo)"
                r"[ \t]+(?:(?:de|del|della|di|da|do|dos|la|las|los)[ \t]+){0,2}[A-ZÁÉÍÓÚ][\w'-]+"
                r"(?:[ \t]+(?:(?:de|del|di|da)[ \t]+)?[A-ZÁÉÍÓÚ][\w'-]+){0,2},?[ \t]+\d{1,4}[A-Za-z]?\b")
# "87 boulevard Victor Hugo", "12 bis, rue de la Paix"
FR_STREET = (r"(?<![\w.,-])\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?:rue|avenue|av\.|boulevard|bd|place|all[ée]e|chemin|"
             r"impasse|quai|cours|route)[ \t]+(?:(?:de|du|des|la|le|l'|d')[ \t]*){0,2}[A-ZÉ][\w'-]+(?:[ \t]+[A-ZÉ][\w'-]+){0,3}")
# Words that make a street of the names around them ("3963 Washington Lane", "avenue Jean Jaures", "Via Garibaldi").
STREET_WORDS = frozenset({w.lower() for w in _STREET_TYPES.split("|")} | set(
    "rue avenue boulevard bd place allée allee chemin impasse quai cours route via viale piazza corso vicolo calle "
    "avenida plaza paseo carrer rua travessa largo straße strasse weg platz gasse straat gracht gatan vägen".split()))
_SEP = r",?[ \t]+"
# A street's field label (forms, JSON, CRM exports) and what it holds: "street": "Kulas Light", Address: 4 Elm Row.
# Qualified addresses are not streets: IP, MAC, e-mail, web, memory, wallet addresses.
_STREET_LABEL = (r"(?i:(?<![\w-])(?<!(?:ip|mac|e-?mail|web|url|server|memory|wallet|bitcoin|btc|eth|contract|"
                 r"hardware|network|return|base|physical|virtual|link|host)[ _-]?)(?:street(?:[ _-]?address)?|"
                 r"address(?:[ _-]?line)?(?:[ _-]?[12])?|addr(?:ess)?[12]?|adresse|anschrift|stra(?:ss|ß)e|"
                 r"direcci[oó]n|"
                 r"indirizzo|morada|adres))")
LABELLED_STREET = (rf"(?<={_STREET_LABEL}{LABEL_SEP})(?:\d{{1,5}}[A-Za-z]?[ \t]+)?{_DIRECTION}{_NAME}"
                   rf"(?:[ \t]+(?:{_NAME}|\d{{1,5}}[a-z]?)){{0,4}}(?i:{_UNIT}){VALUE_END}")
LABELLED_UNIT = (rf"(?<=(?i:(?<![\w-])(?:suite|apt|apartment|unit|flat))\b{LABEL_SEP})"
                 rf"(?:Apt|Apartment|Suite|Ste|Unit|Flat)\.?[ \t]*#?\d{{1,5}}[A-Za-z]?{VALUE_END}")


class StreetAddressRecognizer(PatternRecognizer):
    """Street addresses as one span: the street line with its city line when they share an OCR line."""

    PATTERNS = [
        Pattern("us street + city", rf"{STREET}{_SEP}{US_CITY}", 0.85),
        Pattern("uk street + postcode", rf"{STREET}{_SEP}(?:{_CITY}{_SEP})?{UK_POSTCODE}", 0.8),
        Pattern("de street + city", rf"{DE_STREET}{_SEP}{EU_CITY}", 0.85),
        Pattern("fr street + city", rf"{FR_STREET}{_SEP}{EU_CITY}", 0.85),
        Pattern("us city line", US_CITY, 0.6),
        Pattern("uk city + postcode", rf"\b{_CITY}{_SEP}{UK_POSTCODE}", 0.55),
        Pattern("de street", DE_STREET, 0.6),
        Pattern("south-european street + city", rf"{SOUTH_STREET}{_SEP}{EU_CITY}", 0.85),
        Pattern("south-european street", SOUTH_STREET, 0.45),  # "Via Slack 2": English capitalises "Via" too
        Pattern("fr street", FR_STREET, 0.6),
        Pattern("street", STREET, 0.45),
        Pattern("labelled street", LABELLED_STREET, 0.7),
        Pattern("labelled unit", LABELLED_UNIT, 0.6),
    ]
    CONTEXT = ["address", "addr", "street", "ship", "shipping", "billing", "mailing", "home", "residence", "lives",
               "located", "deliver", "delivery", "anschrift", "adresse", "strasse", "wohnort"]

    def __init__(self) -> None:
        super().__init__(supported_entity="LOCATION", name="StreetAddressRecognizer", patterns=self.PATTERNS,
                         context=self.CONTEXT, supported_language="en", global_regex_flags=0)
