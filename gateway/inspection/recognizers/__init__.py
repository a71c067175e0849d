"""Presidio recognizers the defaults lack, one family per module (the Presidio way): secrets, e-mail, phone,
names (labelled, cued, known by their words), IP addresses, IBANs, card numbers, dates of birth, ICAO 9303 MRZ, printed document numbers, street addresses, and the policy's own (custom)."""

from gateway.inspection.recognizers.address import StreetAddressRecognizer
from gateway.inspection.recognizers.bank import SentenceIbanRecognizer
from gateway.inspection.recognizers.cards import GluedCardRecognizer
from gateway.inspection.recognizers.common import is_placeholder, looks_random
from gateway.inspection.recognizers.custom import build_custom
from gateway.inspection.recognizers.dates import (
    DOB_CONTEXT_CHARS,
    DateOfBirthRecognizer,
    find_dates,
)
from gateway.inspection.recognizers.documents import DocumentNumberRecognizer
from gateway.inspection.recognizers.email import (
    DotlessEmailRecognizer,
    LostAtEmailRecognizer,
    OfflineEmailRecognizer,
    public_suffix,
)
from gateway.inspection.recognizers.known_names import KnownNameRecognizer
from gateway.inspection.recognizers.mrz import (
    MAX_DOC_VARIANTS,
    MrzRecognizer,
    mrz_check_digit,
)
from gateway.inspection.recognizers.network import VersionAwareIpRecognizer
from gateway.inspection.recognizers.person import (
    EmailNameRecognizer,
    LabelledNameRecognizer,
    NameCueRecognizer,
    SpacedLabelNameRecognizer,
)
from gateway.inspection.recognizers.phone import (
    InternationalPhoneRecognizer,
    LinePhoneRecognizer,
)
from gateway.inspection.recognizers.secrets import (
    CredentialAssignmentRecognizer,
    KeyShapeRecognizer,
    SecretRecognizer,
)

__all__ = [
    "DOB_CONTEXT_CHARS", "MAX_DOC_VARIANTS", "CredentialAssignmentRecognizer", "DateOfBirthRecognizer", "DocumentNumberRecognizer", "SentenceIbanRecognizer",
    "DotlessEmailRecognizer", "EmailNameRecognizer", "GluedCardRecognizer", "InternationalPhoneRecognizer", "KeyShapeRecognizer", "KnownNameRecognizer", "LabelledNameRecognizer", "LinePhoneRecognizer", "LostAtEmailRecognizer",
    "MrzRecognizer", "NameCueRecognizer", "OfflineEmailRecognizer", "SecretRecognizer", "SpacedLabelNameRecognizer", "StreetAddressRecognizer", "VersionAwareIpRecognizer", "build_custom",
    "find_dates", "is_placeholder", "looks_random", "mrz_check_digit", "public_suffix",
]
