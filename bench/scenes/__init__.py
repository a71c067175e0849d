"""Scene templates of the benchmark corpus, one family per module, and which split each belongs to.

A template is `render(rng, clean) -> Scene`. No template is in two splits, and the dev and test templates draw with
disjoint font families (bench.corpus.FONT_ROLES): the test split measures what the dev split cannot teach.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from bench.corpus import Scene
from bench.scenes import (barcodes, cards, chat, code, documents, handwriting, id_docs, logs, mail, people, photos,
                          receipts, tables)


@dataclass(frozen=True)
class Category:
    render: Callable[[random.Random, bool], Scene]
    n_pii: int
    n_clean: int
    text_like: bool = True  # drawn page or screen: degradations apply
    photo: bool = False  # camera photo: always JPEG
    geometries: tuple[tuple[str, float], ...] = ()  # widened templates: degradations they meet, with weights
    degrade: float = 0.5  # share of a widened template's images that get one


# The manifest-version-1 templates (dev split, images 0000-0202 at seed 7), in their original order.
LEGACY: dict[str, Category] = {
    "letter": Category(documents.letter, 14, 5),
    "invoice": Category(documents.invoice, 14, 4),
    "hr_form": Category(documents.hr_form, 14, 4),
    "it_ticket": Category(documents.it_ticket, 8, 0),
    "directory": Category(people.directory, 6, 0, text_like=False),
    "chat_light": Category(lambda r, c: chat.chat(r, c, dark=False), 12, 4),
    "chat_dark": Category(lambda r, c: chat.chat(r, c, dark=True), 12, 4),
    "code_editor": Category(lambda r, c: code.code(r, c, terminal=False), 12, 6),
    "terminal": Category(lambda r, c: code.code(r, c, terminal=True), 12, 6),
    "passport": Category(lambda r, c: id_docs.id_document(r, c, passport=True), 10, 0),
    "id_card": Category(lambda r, c: id_docs.id_document(r, c, passport=False), 10, 0),
    "face_photo": Category(photos.face_photo, 12, 0, text_like=False, photo=True),
    "gps_photo": Category(photos.gps_photo, 8, 14, text_like=False, photo=True),
    "qr_card": Category(barcodes.qr_card, 8, 4, text_like=False),
}

_SCREEN = (("downscale", 3), ("rescreen", 2), ("photo", 2), ("tilt", 1), ("upscale", 1), ("rot90", 0.5))
_PAPER = (("photo", 4), ("tilt", 2), ("downscale", 1), ("rot90", 0.5), ("upscale", 0.5))
_PHOTO = (("photo", 6), ("tilt", 1))

# The widened dev templates (images 0203 on, spread through the version-1 ones).
DEV: dict[str, Category] = {
    "spreadsheet": Category(tables.spreadsheet, 4, 1, geometries=_SCREEN, degrade=0.4),
    "payment_table": Category(tables.payment_table, 4, 2, geometries=_SCREEN),
    "log_viewer": Category(logs.log_viewer, 6, 2, geometries=_SCREEN),
    "ide_dark": Category(code.ide_dark, 6, 2, geometries=_SCREEN),
    "residence_permit": Category(id_docs.residence_permit, 5, 0, geometries=_PAPER, degrade=0.6),
    "id_td2": Category(id_docs.id_td2, 5, 0, geometries=_PAPER, degrade=0.6),
    "receipt": Category(receipts.receipt, 4, 2, geometries=_PAPER, degrade=0.6),
    "business_card": Category(cards.business_card, 4, 2, geometries=_PAPER, degrade=0.6),
    "sticky_notes": Category(handwriting.sticky_notes, 4, 2, geometries=_PHOTO, degrade=0.8),
    "mail_client": Category(mail.mail_client, 6, 2, geometries=_SCREEN),
    "shipping_label": Category(documents.shipping_label, 4, 2, geometries=_PAPER, degrade=0.6),
}

# The test split: its own templates, fonts, themes, names and places.
TEST: dict[str, Category] = {
    "crm_table": Category(tables.crm_table, 4, 2, geometries=_SCREEN, degrade=0.4),
    "bank_form": Category(tables.bank_form, 8, 3, geometries=_PAPER, degrade=0.6),
    "log_tail": Category(logs.log_tail, 10, 4, geometries=_SCREEN),
    "log_console": Category(logs.log_console, 6, 2, geometries=_SCREEN),
    "ide_light": Category(code.ide_light, 12, 4, geometries=_SCREEN),
    "terminal_split": Category(code.terminal_split, 10, 4, geometries=_SCREEN),
    "id_card_pair": Category(id_docs.id_card_pair, 10, 0, geometries=_PAPER, degrade=0.7),
    "passport_td3": Category(id_docs.passport_td3, 10, 0, geometries=_PAPER, degrade=0.6),
    "visa_sticker": Category(id_docs.visa_sticker, 6, 0, geometries=_PAPER, degrade=0.6),
    "driver_licence": Category(id_docs.driver_licence, 8, 0, geometries=_PAPER, degrade=0.6),
    "restaurant_bill": Category(receipts.restaurant_bill, 8, 3, geometries=_PAPER, degrade=0.6),
    "card_pair": Category(cards.card_pair, 8, 3, geometries=_PAPER, degrade=0.6),
    "whiteboard": Category(handwriting.whiteboard, 8, 3, geometries=_PHOTO, degrade=0.85),
    "webmail_dark": Category(mail.webmail_dark, 12, 5, geometries=_SCREEN),
    "sms_thread": Category(chat.sms_thread, 14, 6, geometries=_SCREEN),
    "tax_form": Category(documents.tax_form, 10, 4, geometries=_PAPER, degrade=0.6),
    "bank_letter": Category(documents.bank_letter, 12, 5, geometries=_PAPER, degrade=0.5),
    "badge_sheet": Category(people.badge_sheet, 6, 0, geometries=_PHOTO, degrade=0.5),
    "snapshot": Category(photos.snapshot, 8, 0, text_like=False, photo=True),
    "gps_photo_test": Category(photos.gps_photo_test, 6, 8, text_like=False, photo=True),
    "boarding_pass": Category(barcodes.boarding_pass, 6, 2, geometries=(("photo", 2), ("downscale", 1), ("tilt", 1)),
                              degrade=0.5),
}


def split_categories(split: str) -> dict[str, Category]:
    if split == "dev":
        return {**LEGACY, **DEV}
    if split == "test":
        return dict(TEST)
    raise ValueError(split)


def category(split: str, name: str) -> Category:
    return split_categories(split)[name]
