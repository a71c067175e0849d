"""gateway/inspection/data/common_words.txt.gz is what scripts/common_words.py derives from the installed SCOWL
list, and a spaCy "name" made only of its words is no name."""

from __future__ import annotations

import gzip

import pytest

from gateway.inspection.names import COMMON_WORDS, is_common_word
from tests.support.scripts import load_script


def _script():
    return load_script("common_words")


def test_vendored_list_is_derived_from_the_installed_one() -> None:
    mod = _script()
    derived = mod.common_words(mod.DICT.read_text(encoding="utf-8").splitlines())
    assert gzip.decompress(COMMON_WORDS.read_bytes()).decode().split() == derived


def test_derivation_keeps_words_never_capitalised() -> None:
    assert _script().common_words(["Baker", "baker", "customer", "Customer's", "ox", "Success", "success", "it's"]) == [
        "customer"]


@pytest.mark.parametrize("word,common", [("Customer", True), ("migration", True), ("CHECKLIST", True),
                                         ("Grace", False), ("Baker", False), ("Banks", False), ("Aiko", False)])
def test_is_common_word(word: str, common: bool) -> None:
    assert is_common_word(word) is common


def test_a_missing_word_list_is_a_clear_error(monkeypatch, tmp_path) -> None:
    from gateway.inspection import names

    monkeypatch.setattr(names, "COMMON_WORDS", tmp_path / "missing.txt.gz")
    with pytest.raises(RuntimeError, match="word list"):
        names.common_words()
