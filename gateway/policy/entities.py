"""Entity names a policy may refer to. A rule naming anything else is a typo and fails validation."""

from __future__ import annotations

# Presidio's predefined recognizers (English) plus the country-specific ones it ships.
PRESIDIO_ENTITIES: frozenset[str] = frozenset({
    "CREDIT_CARD", "CRYPTO", "DATE_TIME", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "LOCATION", "MAC_ADDRESS",
    "MEDICAL_LICENSE", "NRP", "ORGANIZATION", "PERSON", "PHONE_NUMBER", "URL", "UUID",
    "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN", "US_PASSPORT", "US_SSN",
    "UK_NHS", "UK_NINO", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "IT_DRIVER_LICENSE", "IT_VAT_CODE", "IT_PASSPORT",
    "IT_IDENTITY_CARD", "PL_PESEL", "SG_NRIC_FIN", "SG_UEN", "AU_ABN", "AU_ACN", "AU_TFN", "AU_MEDICARE",
    "IN_PAN", "IN_AADHAAR", "IN_VEHICLE_REGISTRATION", "IN_VOTER", "IN_PASSPORT", "FI_PERSONAL_IDENTITY_CODE",
    "KR_RRN", "TH_TNIN",
})

# Entities the gateway's own detectors produce.
GATEWAY_ENTITIES: dict[str, str] = {
    "SECRET": "API keys, tokens, private keys, passwords (OCR text)",
    "MRZ": "machine-readable zone of a passport or ID card",
    "FACE": "a human face (face detector)",
    "EXIF_GPS": "GPS position in the image metadata",
    "DEVICE_SERIAL": "camera/phone serial number in the metadata",
    "CAMERA_OWNER": "owner/artist/copyright name in the metadata",
    "ID_DOCUMENT_NUMBER": "an identity document number",
    "DATE_OF_BIRTH": "a date of birth",
}

BUILTIN_ENTITIES: frozenset[str] = PRESIDIO_ENTITIES | frozenset(GATEWAY_ENTITIES)

# text: a document's own text; prompt: the text a user sends with the upload (chat messages, prompt fields)
SOURCES: tuple[str, ...] = ("ocr", "face", "metadata", "barcode", "text", "prompt")
