"""Signed tokens: round trip, tampering, truncation, unknown keys, rotation, and where keys come from."""

from __future__ import annotations

import base64
import dataclasses
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.problems import LoadError
from syndicate.tracking.keys import KEYS_ENV, load_keys, parse_keys, share_dev_key
from syndicate.tracking.tokens import MAX_TOKEN_CHARS, BadToken, Claim, SigningKeys

CLAIM = Claim(
    "4",
    "banner",
    "partner-a",
    "news/a",
    476_000,
    "https://ad.test/land?campaign=x&utm_source=partner-a&utm_medium=feed",
)
K1 = ("k1", b"first-secret-0123456789")
K2 = ("k2", b"second-secret-0123456789")


def test_round_trip_and_url_safe() -> None:
    keys = SigningKeys([K1])
    token = keys.sign(CLAIM)
    assert keys.verify(token) == CLAIM
    assert token.startswith("k1.")
    assert set(token) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def test_same_claim_same_token_so_feed_bytes_stay_stable() -> None:
    keys = SigningKeys([K1])
    assert keys.sign(CLAIM) == keys.sign(CLAIM)
    assert keys.sign(CLAIM) != keys.sign(dataclasses.replace(CLAIM, window=CLAIM.window + 1))


@given(
    st.text(min_size=1, max_size=40).filter(lambda s: "\x1f" not in s),
    st.text(max_size=40).filter(lambda s: "\x1f" not in s),
    st.integers(0, 2**40),
)
def test_any_fields_round_trip(unit: str, article: str, window: int) -> None:
    claim = Claim("space ü", unit, "public", article, window, "https://ad.test/ü?q=1")
    keys = SigningKeys([K1])
    assert keys.verify(keys.sign(claim)) == claim


def test_every_single_character_change_is_rejected() -> None:
    keys = SigningKeys([K1])
    token = keys.sign(CLAIM)
    for index in range(len(token)):
        replacement = "A" if token[index] != "A" else "B"
        tampered = token[:index] + replacement + token[index + 1 :]
        with pytest.raises(BadToken):
            keys.verify(tampered)


def test_a_changed_target_with_the_old_mac_is_rejected() -> None:
    keys = SigningKeys([K1])
    token = keys.sign(CLAIM)
    key_id, body = token.split(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    forged = raw[:-16].replace(b"https://ad.test", b"https://evil.test") + raw[-16:]
    with pytest.raises(BadToken, match="signature"):
        keys.verify(f"{key_id}.{base64.urlsafe_b64encode(forged).rstrip(b'=').decode()}")


def test_truncated_tokens_are_rejected() -> None:
    keys = SigningKeys([K1])
    token = keys.sign(CLAIM)
    for length in range(len(token)):
        with pytest.raises(BadToken):
            keys.verify(token[:length])


def test_unknown_key_and_same_payload_under_another_key_id() -> None:
    token = SigningKeys([K1]).sign(CLAIM)
    with pytest.raises(BadToken, match="unknown key"):
        SigningKeys([K2]).verify(token)
    relabelled = "k2." + token.split(".", 1)[1]  # key ids are inside the mac: no swapping
    with pytest.raises(BadToken):
        SigningKeys([K2, K1]).verify(relabelled)


def test_rotation_old_tokens_verify_new_tokens_use_newest() -> None:
    old = SigningKeys([K1]).sign(CLAIM)
    rotated = SigningKeys([K2, K1])
    assert rotated.verify(old) == CLAIM
    fresh = rotated.sign(CLAIM)
    assert fresh.startswith("k2.") and rotated.verify(fresh) == CLAIM
    with pytest.raises(BadToken):
        SigningKeys([K1]).verify(fresh)


def test_oversized_tokens_are_rejected_before_decoding() -> None:
    keys = SigningKeys([K1])
    with pytest.raises(BadToken, match="too long"):
        keys.verify("k1." + "A" * MAX_TOKEN_CHARS)
    with pytest.raises(ValueError, match="characters"):
        keys.sign(Claim("4", "u", "public", "a", 1, "https://ad.test/" + "x" * MAX_TOKEN_CHARS))


@given(st.text(max_size=200))
def test_garbage_is_only_ever_bad_token(text: str) -> None:
    keys = SigningKeys([K1])
    with pytest.raises(BadToken):
        keys.verify(text)
    with pytest.raises(BadToken):
        keys.verify("k1." + text)


def test_targets_must_be_absolute_http_urls() -> None:
    keys = SigningKeys([K1])
    for target in ("javascript:alert(1)", "//evil.test/", "/relative", "https://ad.test/a b", "https://x\r\nSet: 1"):
        with pytest.raises(ValueError):
            keys.sign(Claim("4", "u", "public", "a", 1, target))


def test_key_checks() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        SigningKeys([("k1", b"short")])
    with pytest.raises(ValueError, match="id"):
        SigningKeys([("bad id!", b"0123456789abcdef")])
    with pytest.raises(ValueError, match="share"):
        SigningKeys([K1, ("k1", b"another-secret-0123456789")])


def test_parse_keys_newest_first_with_commas_or_lines() -> None:
    keys = parse_keys("k2:second-secret-0123456789, k1:first-secret-0123456789", "$X")
    assert keys.ids == ("k2", "k1") and keys.current == "k2"
    keys = parse_keys("# rotated 2024-05\nk3:third-secret-0123456789\nk2:second-secret-0123456789\n", "file")
    assert keys.ids == ("k3", "k2")
    with pytest.raises(ValueError, match="id:secret"):
        parse_keys("no-colon-here", "$X")


def test_load_keys_env_then_file_then_dev_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(f"{KEYS_ENV}_FILE", raising=False)
    monkeypatch.setenv(KEYS_ENV, "env:env-secret-0123456789")
    assert load_keys(None).ids == ("env",)
    monkeypatch.delenv(KEYS_ENV)
    path = tmp_path / "keys"
    path.write_text("file:file-secret-0123456789\n", encoding="utf-8")
    assert load_keys(path).ids == ("file",)
    with caplog.at_level(logging.WARNING):
        dev = load_keys(None)
    assert dev.ids == ("dev",) and "random development key" in caplog.text
    assert dev.verify(dev.sign(CLAIM)) == CLAIM
    with pytest.raises(BadToken):  # a restart makes a new key: links signed before stop working
        load_keys(None).verify(dev.sign(CLAIM))


def test_malformed_keys_are_a_load_error_that_names_the_source_not_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, "k1:tooshort")
    with pytest.raises(LoadError) as caught:
        load_keys(None)
    message = caught.value.problems[0].format()
    assert KEYS_ENV in message and "16 bytes" in message and "tooshort" not in message


def test_workers_share_one_dev_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (KEYS_ENV, f"{KEYS_ENV}_FILE"):
        monkeypatch.setenv(name, "")  # recorded, so what share_dev_key sets is undone after the test
        monkeypatch.delenv(name)
    share_dev_key(None)
    first, second = load_keys(None), load_keys(None)  # as two spawned workers would
    assert second.verify(first.sign(CLAIM)) == CLAIM


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@given(st.text(max_size=60).filter(lambda s: "\x1f" not in s), st.integers(0, 2**40))
def test_only_the_canonical_spelling_of_a_token_verifies(article: str, window: int) -> None:
    """The last base64url character may carry unused bits: every other spelling of the same bytes is refused."""
    keys = SigningKeys([K1])
    token = keys.sign(dataclasses.replace(CLAIM, article=article, window=window))
    head, last = token[:-1], token[-1]
    for char in ALPHABET:
        spelling = head + char
        if char == last:
            assert keys.verify(spelling).article == article
        else:
            with pytest.raises(BadToken):
                keys.verify(spelling)
    for extra in ("\n", "=", "==", " ", "A"):
        with pytest.raises(BadToken):
            keys.verify(token + extra)
