"""ICAO 9303 machine readable zones (TD1, TD2, TD3) with check digits, and the facts they encode."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from gateway.inspection.recognizers.dates import find_dates

# ---------------------------------------------------------------------------------------------------------------
# ICAO 9303 machine readable zone

_CHAR_VALUE = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, "<": 0}
_TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "1", "Z": "2",
                           "S": "5", "G": "6", "B": "8", "<": "0"})
_TO_DIGIT_NOT_FILLER = str.maketrans({k: v for k, v in zip("OQDUILTZSGB", "00001112568")})
_TO_ALPHA = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"})
# What OCR makes of the '<' filler: K, «, brackets; runs of fillers also lose their spaces.
_FILLER_LOOKALIKES = "<«‹(「[{kK"


def mrz_check_digit(field: str) -> int:
    """ICAO 9303 check digit: weights 7,3,1 over digit/letter(10-35)/'<'(0) values, mod 10."""
    return sum(_CHAR_VALUE.get(c, 0) * (7, 3, 1)[i % 3] for i, c in enumerate(field)) % 10


# The same, reading Z and T as 7 (a 7 in OCR-B comes out as either); tried when the first reading fails its checks.
_TO_DIGIT_SEVEN = str.maketrans({**{chr(k): v for k, v in _TO_DIGIT.items()}, "Z": "7", "T": "7"})


_MRZ_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"


def _digits(s: str) -> str:
    return s.translate(_TO_DIGIT)


def _variants(field: str) -> list[str]:
    """The field as read, with O/Q/D read for 0, and with every digit look-alike fixed (OCR confusions)."""
    out = [field, field.translate(str.maketrans("OQD", "000"))]
    core = field.strip("<")
    if core and sum(c.isdigit() for c in core) >= len(core) - 2:
        out.append(field.translate(_TO_DIGIT_NOT_FILLER))
    return list(dict.fromkeys(out))


def _check(field: str, digit: str) -> bool:
    d = _digits(digit)
    return d.isdigit() and any(mrz_check_digit(v) == int(d) for v in _variants(field))


# Letter/digit pairs OCR swaps in alphanumeric fields (document numbers): each character's other readings.
_AMBIGUOUS = {"O": "0", "0": "O", "Q": "0", "D": "0", "S": "5", "5": "S", "Z": "27", "2": "Z", "7": "Z",
              "B": "8", "8": "B", "I": "1", "1": "I", "L": "1", "A": "4", "4": "A", "G": "6", "6": "G"}
MAX_DOC_VARIANTS = 512  # about 2^8 ambiguous characters (some have 3 readings); beyond that, no search


def _doc_variants(field: str) -> list[str]:
    """The document number as read, then every reading with look-alike letters/digits swapped (O/0, S/5, Z/2/7,
    B/8, I/1, A/4, G/6), in order of fewest changes; just the simple variants when there are too many."""
    options = [c + _AMBIGUOUS.get(c, "") for c in field]
    if math.prod(len(o) for o in options) > MAX_DOC_VARIANTS:
        return _variants(field)
    combos = sorted(itertools.product(*(range(len(o)) for o in options)), key=lambda ix: sum(i > 0 for i in ix))
    return ["".join(o[i] for o, i in zip(options, ix)) for ix in combos]


MIN_LINE = 16  # characters of a zone line as read, fillers lost
_DATES_RUN = re.compile(r"[0-9OIS]{7}[MFX<][0-9OIS]{7}")
_ZONE_HEAD = re.compile(r"[PIACV][A-Z<][A-Z<]{3}")  # document code and issuing state


class _Line:
    """One cleaned text line: uppercase [A-Z0-9<] characters with their offsets in the analysed text."""

    def __init__(self, raw: str, start: int) -> None:
        chars: list[str] = []
        offsets: list[int] = []
        for i, c in enumerate(raw):
            if c.isspace():
                continue
            if c == "«":
                chars += ["<", "<"]
                offsets += [start + i, start + i]
                continue
            u = c.upper()
            if u in _FILLER_LOOKALIKES and u != "K":
                u = "<"
            if not ("A" <= u <= "Z" or "0" <= u <= "9" or u == "<"):
                u = "<"
            chars.append(u)
            offsets.append(start + i)
        self.text = "".join(chars)
        self.filled = _fill_k(self.text)
        self.offsets = offsets
        self.start = start
        self.end = start + len(raw.rstrip())

    def span(self, i: int, j: int) -> tuple[int, int] | None:
        """Offsets in the analysed text of cleaned characters [i, j), fillers at both ends trimmed (a line joined
        from pieces read out of order: from the first to the last of them in the text)."""
        j = min(j, len(self.text))
        while i < j and self.filled[i] == "<":
            i += 1
        while j > i and self.filled[j - 1] == "<":
            j -= 1
        if i >= j:
            return None
        return min(self.offsets[i:j]), max(self.offsets[i:j]) + 1

    def extend(self, other: _Line) -> None:
        """`other`'s characters appended (a piece of the same zone line)."""
        self.text += other.text
        self.filled = _fill_k(self.text)
        self.offsets += other.offsets
        self.start, self.end = min(self.start, other.start), max(self.end, other.end)

    def looks_like_mrz(self) -> bool:
        t = self.text
        # Filler runs, or the birth date/sex/expiry run of a check-digit line (when OCR dropped the fillers). A
        # zone line may lose most of its filler run (a TD1 line of 30 read as 21, a TD3 name line of 44 as 18);
        # the check digits decide.
        return MIN_LINE <= len(t) <= 52 and (t.count("<") >= 2 or "KK" in t or bool(_DATES_RUN.search(t)))


# A zone line's tail read as a line of its own: fillers, and the check digits that end a dates line (`<<<06`).
_FILLER_PIECE = re.compile(r"<{2,}[0-9OIS]{0,2}")


def _join_filler_pieces(lines: list[_Line]) -> list[_Line]:
    """A short run of fillers on a line of its own is the end of the zone line before it: a tilted page's boxes
    put a piece of a line's filler run between that line and the next, and a line's box may end at its filler run
    (the dates line's `<<<<<06` read below it)."""
    out: list[_Line] = []
    for line in lines:
        prev = out[-1] if out else None
        if prev is not None and _FILLER_PIECE.fullmatch(line.filled) and len(line.text) < 24 \
                and len(prev.text) >= 10 and (prev.text.count("<") >= 2 or _DATES_RUN.search(prev.text)):
            prev.extend(line)
            continue
        out.append(line)
    return out


def _join_swapped_pieces(lines: list[_Line]) -> list[_Line]:
    """A zone line read in two pieces, its tail first: on a slanted zone the right half of a line sits higher than
    its left and is read as a line of its own above it (`EY<<JOANNA<MAE<<<` then `P<USAHARTL`). A short piece that
    opens like a zone (document code, issuer) after a short piece with fillers, and before a zone line, is joined
    before that piece."""
    out: list[_Line] = []
    for i, line in enumerate(lines):
        prev = out[-1] if out else None
        after = lines[i + 1] if i + 1 < len(lines) else None
        if prev is not None and after is not None and after.looks_like_mrz() and _ZONE_HEAD.match(line.text) \
                and not _ZONE_HEAD.match(prev.text) and "<<" in prev.text \
                and len(line.text) < MIN_LINE <= len(line.text) + len(prev.text) <= 44:
            line.extend(prev)
            out[-1] = line
            continue
        out.append(line)
    return out


def _calendar(yymmdd: str) -> bool:
    """A date field that is a date: fillers padded into a short line read as 000000, whose check digit is 0."""
    return yymmdd.isdigit() and 1 <= int(yymmdd[2:4]) <= 12 and 1 <= int(yymmdd[4:6]) <= 31


def _fill_k(s: str) -> str:
    """Runs of 2+ K and K next to '<' are fillers OCR misread (a real name rarely has KK)."""
    s = re.sub(r"K{2,}", lambda m: "<" * len(m.group()), s)
    return re.sub(r"(?<=<)K|K(?=<)", "<", s)


def _fit(s: str, n: int, tail: int = 0) -> str:
    """Make a line exactly n characters: OCR miscounts and drops '<' runs. Fillers sit at the end of a field, so
    the line's last `tail` characters (check digits) stay at the end and the text before them is padded or trimmed."""
    if len(s) == n:
        return s
    head, end = (s[:-tail], s[-tail:]) if tail else (s, "")
    want = n - tail
    if len(head) < want:
        return head + "<" * (want - len(head)) + end
    extra = len(head) - want
    if set(head[want:]) <= {"<"}:
        return head[:want] + end
    runs = sorted(re.finditer(r"<{2,}", head), key=lambda m: -len(m.group()))
    if runs and len(runs[0].group()) > extra:
        m = runs[0]
        return head[: m.start()] + "<" * (len(m.group()) - extra) + head[m.end() :] + end
    return s


class MrzRecognizer(EntityRecognizer):
    """ICAO 9303 TD1/TD2/TD3 zones with verified check digits; also the document number, name and birth date."""

    ENTITIES = ["MRZ", "US_PASSPORT", "ID_DOCUMENT_NUMBER", "PERSON", "DATE_OF_BIRTH"]

    def __init__(self) -> None:
        super().__init__(supported_entities=self.ENTITIES, name="MrzRecognizer", supported_language="en")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:  # noqa: D102
        lines: list[_Line] = []
        pos = 0
        for raw in text.split("\n"):
            lines.append(_Line(raw, pos))
            pos += len(raw) + 1
        lines = _join_swapped_pieces(_join_filler_pieces(lines))
        results: list[RecognizerResult] = []
        used: set[int] = set()
        printed: frozenset[str] | None = None
        for i in range(len(lines)):
            if i in used or not lines[i].looks_like_mrz():
                continue
            for kind, n_lines in (("TD1", 3), ("TD3", 2), ("TD2", 2)):
                group = lines[i : i + n_lines]
                if len(group) < n_lines or not all(g.looks_like_mrz() for g in group):
                    continue
                if printed is None:  # the page's words, once per text, only when a zone is tried
                    printed = _printed_tokens(text)
                parsed = self._parse(kind, group, printed)
                if parsed:
                    found, facts = parsed
                    found += _visual_zone(text, facts, (group[0].start, group[-1].end))
                    results.extend(r for r in found if r.entity_type in entities or not entities)
                    used.update(range(i, i + n_lines))
                    break
        return results

    def _parse(self, kind: str, group: list[_Line], printed: frozenset[str] = frozenset()
               ) -> tuple[list[RecognizerResult], _MrzFacts] | None:
        width = _LAYOUT[kind][0]
        tails = {"TD3": (0, 2), "TD2": (0, 1), "TD1": (0, 1, 0)}[kind]
        raw = [_fit(g.filled, width, t) for g, t in zip(group, tails)]
        if all(len(t) == width for t in raw):
            parsed = self._read(kind, group, raw, printed=printed)
            if parsed:
                return parsed
        # OCR dropped one character of the document number (the dates then sit one place early): try it at each
        # position of the field, as an unknown character the check digits decide.
        doc_line, first = (0, 5) if kind == "TD1" else (1, 0)
        line = group[doc_line].filled
        if len(line) == width - 1:
            for gap in range(first, first + 10):
                trial = list(raw)
                trial[doc_line] = line[:gap] + "?" + line[gap:]
                if all(len(t) == width for t in trial):
                    parsed = self._read(kind, group, trial, (doc_line, gap, 1))
                    if parsed:
                        return parsed
        # OCR dropped a character of the dates line's fields (a date's digit, a nationality's letter: `NR` for NOR):
        # an unknown at each position of them, each digit tried where a digit belongs; the dates' and composite
        # check digits decide, and the composite must have been read (the line still ends in a digit).
        line = group[1].filled
        first, last = _DATES_FIELDS[kind]
        if len(line) <= width - 1 and line[-1:].isdigit():
            for gap in range(first, last):
                for c in "<" if (1, gap) in _LAYOUT[kind][2] else "0123456789":
                    trial = list(raw)
                    trial[1] = _fit(line[:gap] + c + line[gap:], width, tails[1])
                    parsed = self._read(kind, group, trial, (1, gap, 1), printed) if len(trial[1]) == width else None
                    if parsed:
                        return parsed
        # OCR read the sex 'M', the one wide letter among the dates, as two or three characters ('14', '141'): the
        # dates line is one or two too long. Dropping the extra ones there lets the check digits decide (only there:
        # cutting anywhere would let a zone pass by chance). Every cut leaves the dates where they are.
        sex = 7 if kind == "TD1" else 20
        line = group[1].filled
        extra = len(line) - width
        for cut in range(sex, sex + 2) if extra in (1, 2) else ():
            trial = list(raw)
            trial[1] = _fit(line[:cut] + line[cut + extra :], width, tails[1])
            parsed = self._read(kind, group, trial, (1, cut, -extra), printed) if len(trial[1]) == width else None
            if parsed:
                return parsed
        # The dates line read short, its tail lost after the expiry date's check digit (fillers, optional data and
        # the composite digit): the fields sit at their places and the composite is unknown. The birth date's,
        # expiry's and number's check digits, real dates, the sex and the nationality still decide.
        if _SHORT_DATES_LINE[kind] <= len(line) < width - 1:
            trial = list(raw)
            trial[1] = line.ljust(width, "<")
            return self._read(kind, group, trial, printed=printed, composite_read=False)
        return None

    def _read(self, kind: str, group: list[_Line], raw: list[str], edit: tuple[int, int, int] | None = None,
              printed: frozenset[str] = frozenset(), composite_read: bool = True):
        """Verify the zone with each digit reading of the look-alike letters. `edit` (line, position, +1/-n) is an
        unknown inserted into / n characters dropped from that OCR line; `printed` the words of the page (the
        document number printed in the visual zone); without `composite_read`, the composite digit was not read."""
        _, digit_pos, alpha_pos = _LAYOUT[kind]
        for to_digit in (_TO_DIGIT, _TO_DIGIT_SEVEN):
            # Per position, undo the OCR confusions that position cannot hold (O in a date, 0 in a country code).
            texts = [
                "".join(
                    c.translate(to_digit) if (li, ci) in digit_pos else c.translate(_TO_ALPHA) if (li, ci) in alpha_pos
                    else c
                    for ci, c in enumerate(t)
                )
                for li, t in enumerate(raw)
            ]
            parsed = self._verify(kind, group, texts, raw, edit, printed, composite_read)
            if parsed:
                return parsed
        return None

    def _verify(self, kind: str, group: list[_Line], texts: list[str], raw: list[str],
                edit: tuple[int, int, int] | None = None, printed: frozenset[str] = frozenset(),
                composite_read: bool = True) -> tuple[list[RecognizerResult], _MrzFacts] | None:
        width = _LAYOUT[kind][0]
        if kind == "TD1":
            l1, l2, _ = texts
            doc, doc_cd, dob, dob_cd, exp, exp_cd = l1[5:14], l1[14], l2[0:6], l2[6], l2[8:14], l2[14]
            composite, comp_cd = (l1[5:30], l2[0:7], l2[8:15], l2[18:29]), l2[29]
            sex, nationality = l2[7], l2[15:18]
        else:
            l1, l2 = texts
            doc, doc_cd, dob, dob_cd, exp, exp_cd = l2[0:9], l2[9], l2[13:19], l2[19], l2[21:27], l2[27]
            composite, comp_cd = (l2[0:10], l2[13:20], l2[21 : width - 1]), l2[width - 1]
            sex, nationality = l2[20], l2[10:13]
        doc_type, issuer = l1[0], l1[2:5]
        if doc_type not in ("ACIV" if kind == "TD1" else "PACIV"):
            return None
        if not (_calendar(dob) and _calendar(exp) and _check(dob, dob_cd) and _check(exp, exp_cd)):
            return None
        if not composite_read:
            docs = [v for v in _variants(doc) if _check(v, doc_cd)]
            if not (docs and sex in "MFX<" and re.fullmatch(r"[A-Z<]{3}", nationality)):
                return None
            return self._results(kind, group, texts, edit, docs, dob, doc_type, issuer)
        # Visas (MRV-A: 2 x 44, MRV-B: 2 x 36) have no composite check digit: optional data runs to the line's end.
        visa = doc_type == "V" and kind != "TD1"
        # The composite digit covers the document number and its check digit as well. When OCR read that check
        # digit as a letter (or lost it), the composite decides which digit it was (dates and composite verified).
        after_doc = "".join(composite)[10:]
        doc_line, _, doc_end = _SPANS[kind][0]
        raw_cd = raw[doc_line][doc_end : doc_end + 1]
        cds = [doc_cd] if raw_cd.isdigit() or raw_cd == "<" or visa \
            else [doc_cd] + [d for d in "0123456789" if d != doc_cd]
        if "?" in doc:  # the lost character: any; the two check digits decide (plain readings only, bounded)
            docs = [] if visa else [v for c in _MRZ_CHARS for v in _variants(doc.replace("?", c)) for cd in cds
                                    if _check(v, cd) and _check(v + cd + after_doc, comp_cd)]
        else:
            # The number printed in the visual zone is a reading too, when it is the MRZ's with at most two
            # characters misread there (a 9 read as I is no look-alike swap); the check digits still decide.
            seen = [p.ljust(len(doc), "<") for p in printed
                    if len(p) == len(doc.rstrip("<")) and sum(a != b for a, b in zip(p, doc)) <= 2]
            # After a dropped or inserted character only the simple readings: one repair at a time, or chance
            # passes add up.
            readings = _variants(doc) if edit else _doc_variants(doc)
            docs = [v for cd in cds if cd != "?" for v in readings + seen
                    if _check(v, cd) and (visa or _check(v + cd + after_doc, comp_cd))]
        if not docs:
            return None
        return self._results(kind, group, texts, edit, docs, dob, doc_type, issuer)

    @staticmethod
    def _results(kind: str, group: list[_Line], texts: list[str], edit: tuple[int, int, int] | None,
                 docs: list[str], dob: str, doc_type: str, issuer: str
                 ) -> tuple[list[RecognizerResult], _MrzFacts]:
        """The verified zone's results (zone, number, birth date, name) boxed on the OCR lines, and its facts."""
        doc_span, dob_span, name_span = _SPANS[kind]

        def span(li: int, a: int, b: int) -> tuple[int, int] | None:
            if edit and edit[0] == li:  # indices of the edited line -> indices of the OCR line
                at, n = edit[1], edit[2]
                a, b = (a - (a > at), b - (b > at)) if n > 0 else (a - n * (a >= at), b - n * (b > at))
            return group[li].span(a, b)

        out = [RecognizerResult("MRZ", group[0].start, group[-1].end, 1.0)]
        doc_entity = "US_PASSPORT" if doc_type == "P" and issuer == "USA" else "ID_DOCUMENT_NUMBER"
        for entity, (li, a, b) in ((doc_entity, doc_span), ("DATE_OF_BIRTH", dob_span)):
            found = span(li, a, b)
            if found:
                out.append(RecognizerResult(entity, found[0], found[1], 1.0))
        li, a = name_span
        name = span(li, a, len(texts[li]))
        if name:
            out.append(RecognizerResult("PERSON", name[0], name[1], 0.9))
        # Name fields hold letters only (ICAO 9303): a digit there is a misread letter ("N0AH").
        names = [n.translate(_TO_ALPHA) for n in re.split(r"<+", texts[li][a:]) if len(n) >= 2]
        return out, _MrzFacts(doc_entity, docs[0].strip("<"), dob, tuple(names))


def _printed_tokens(text: str) -> frozenset[str]:
    """Upper-case letter/digit words of 5-9 characters outside MRZ lines: candidate printed document numbers."""
    return frozenset(t for t in re.findall(r"(?<![A-Z0-9<])[A-Z0-9]{5,9}(?![A-Z0-9<])", text)
                     if any(c.isdigit() for c in t))


@dataclass(frozen=True)
class _MrzFacts:
    """What a verified MRZ states, to find the same values printed in the visual zone."""

    doc_entity: str
    doc_number: str
    dob: str  # YYMMDD
    names: tuple[str, ...]


# Letters and digits OCR confuses, mapped to one representative so a printed number compares with the MRZ's.
_CANON = str.maketrans("OQDILTZSGB", "0001112568")


def _visual_zone(text: str, facts: _MrzFacts, mrz_span: tuple[int, int]) -> list[RecognizerResult]:
    """The MRZ's birth date, document number and names where the document prints them in readable form."""
    out = []

    def outside(a: int, b: int) -> bool:
        return b <= mrz_span[0] or a >= mrz_span[1]

    for start, end, (y, m, d) in find_dates(text):
        if outside(start, end) and f"{y % 100:02d}{m:02d}{d:02d}" == facts.dob:
            out.append(RecognizerResult("DATE_OF_BIRTH", start, end, 0.95))
    doc = facts.doc_number.upper().translate(_CANON)
    names = {n.upper() for n in facts.names}
    for tok in re.finditer(r"[A-Za-z0-9<]+", text):
        if not outside(tok.start(), tok.end()):
            continue
        value = tok.group().upper()
        if len(doc) >= 6 and value.translate(_CANON) == doc:
            out.append(RecognizerResult(facts.doc_entity, tok.start(), tok.end(), 0.95))
        elif value.translate(_TO_ALPHA) in names:
            out.append(RecognizerResult("PERSON", tok.start(), tok.end(), 0.9))
    return out


# Where a zone's document number, birth date and name are: (line, first, end) and (line, first).
_SPANS = {"TD1": ((0, 5, 14), (1, 0, 6), (2, 0)), "TD2": ((1, 0, 9), (1, 13, 19), (0, 5)),
          "TD3": ((1, 0, 9), (1, 13, 19), (0, 5))}
# The dates line's checked fields: [first, end) columns, nationality (not on TD1's) to the expiry's check digit.
_DATES_FIELDS = {"TD1": (0, 15), "TD2": (10, 28), "TD3": (10, 28)}
# The shortest dates line whose fields are all there: up to the nationality (TD1) or the expiry's check digit.
_SHORT_DATES_LINE = {"TD1": 18, "TD2": 28, "TD3": 28}
# (width, positions holding digits, positions holding letters) as (line, column), ICAO 9303 parts 4-6.
_LAYOUT: dict[str, tuple[int, frozenset, frozenset]] = {
    "TD3": (44, frozenset({(1, 9), *((1, i) for i in range(13, 20)), *((1, i) for i in range(21, 28)), (1, 43)}),
            frozenset({(0, 0), *((0, i) for i in range(2, 5)), *((1, i) for i in range(10, 13)), (1, 20)})),
    "TD2": (36, frozenset({(1, 9), *((1, i) for i in range(13, 20)), *((1, i) for i in range(21, 28)), (1, 35)}),
            frozenset({(0, 0), *((0, i) for i in range(2, 5)), *((1, i) for i in range(10, 13)), (1, 20)})),
    "TD1": (30, frozenset({(0, 14), *((1, i) for i in range(0, 7)), *((1, i) for i in range(8, 15)), (1, 29)}),
            frozenset({(0, 0), *((0, i) for i in range(2, 5)), (1, 7), *((1, i) for i in range(15, 18))})),
}
