"""Reading manifest bytes: what a file may look like (BOM, CRLF, blank end), what it may not, and
Ground Truth's size limits; every error is `line N of <path>: <field>: <what>`."""

import json

import pytest

from review_sentiment.ground_truth.limits import MAX_ATTRIBUTE_CHARS, MAX_OBJECT_CHARS
from review_sentiment.ground_truth.manifest import ManifestError, parse_manifest, serialise_manifest
from review_sentiment.ground_truth.records import LineProblem

PATH = "s3://bucket/out.manifest"


def test_bom_crlf_lone_cr_and_blank_end_are_accepted():
    content = b'\xef\xbb\xbf{"a":1}\r\n{"b":2}\r{"c":3}\n\n \t\r\n'

    assert parse_manifest(content, PATH) == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_genuine_replacement_character_loads():
    assert parse_manifest('{"source":"bad byte: \ufffd"}\n'.encode(), PATH) == [
        {"source": "bad byte: \ufffd"}
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a":1}\n\n{"a":2}\n', f"line 2 of {PATH}: json: blank line (only the end of a file may be blank)"),
        (b'{"a":1}\n{"a":"\xff"}\n', f"line 2 of {PATH}: encoding: not valid UTF-8 (byte 0xff at column 7: invalid start byte)"),
        (b'{"a" 1}\n', f"line 1 of {PATH}: json: not valid JSON (Expecting ':' delimiter at column 6)"),
        (b'{"a":NaN}\n', f"line 1 of {PATH}: json: not valid JSON (NaN is not allowed in JSON)"),
        (b'{"a":1e400}\n', f"line 1 of {PATH}: json: not valid JSON (the number 1e400 is out of range)"),
        (b"[1]\n", f"line 1 of {PATH}: json: expected a JSON object, got list"),
        # a BOM is only a BOM at the start of the file
        (b'{"a":1}\n\xef\xbb\xbf{"a":2}\n', f"line 2 of {PATH}: json: not valid JSON (Unexpected UTF-8 BOM (decode using utf-8-sig) at column 1)"),
        # json would keep the last of two equal keys without a word
        (b'{"a":1}\n{"source":"x","source":"y"}\n', f"line 2 of {PATH}: json: duplicate key 'source'"),
        (b'{"s":0,"s-metadata":{"class-name":"a","confidence":1,"class-name":"b"}}\n', f"line 1 of {PATH}: json: duplicate key 'class-name'"),
        (b'{"a":[{"b":1},{"c":{"d":1,"d":2}}]}\n', f"line 1 of {PATH}: json: duplicate key 'd'"),
    ],
    ids=["blank-middle-line", "invalid-utf8", "invalid-json", "nan", "overflow", "array", "bom-inside",
         "duplicate-key", "duplicate-nested-key", "duplicate-key-in-a-list"],
)
def test_bad_line_error_names_file_line_and_field(content, message):
    with pytest.raises(ManifestError) as raised:
        parse_manifest(content, PATH)

    assert str(raised.value) == message


def test_equal_keys_in_different_objects_are_no_duplicate():
    content = b'{"source":"x","s-metadata":{"source":"y","s":{"source":"z"}}}\n'

    assert parse_manifest(content, PATH) == [{"source": "x", "s-metadata": {"source": "y", "s": {"source": "z"}}}]


def test_over_long_source_is_rejected_naming_the_line():
    lines = [{"source": "fine"}, {"source": "a" * (MAX_ATTRIBUTE_CHARS + 1)}]

    with pytest.raises(ManifestError) as raised:
        parse_manifest(serialise_manifest(lines, PATH), PATH)

    assert str(raised.value) == (
        f"line 2 of {PATH}: source: 20,001 characters; Ground Truth takes at most 20,000 per attribute"
    )


def test_over_long_object_is_rejected_naming_the_line():
    # six attributes each within the limit, together over it
    big = {f"field{i}": "a" * MAX_ATTRIBUTE_CHARS for i in range(6)}

    with pytest.raises(ManifestError, match=rf"^line 1 of {PATH}: object: 120,0\d\d characters; Ground Truth takes at most 100,000 per JSON object$"):
        parse_manifest(serialise_manifest([big], PATH), PATH)


def test_output_line_of_an_input_line_at_the_limit_is_accepted():
    # Ground Truth adds its label to a line that was just within the limit when sent.
    sent = {f"field{i}": "a" * (MAX_ATTRIBUTE_CHARS - 20) for i in range(5)}
    labeled = {**sent, "s": 0, "s-metadata": {"class-name": "positive", "confidence": 0.5}}
    text = json.dumps(labeled, separators=(",", ":"))
    assert len(json.dumps(sent, separators=(",", ":"))) <= MAX_OBJECT_CHARS < len(text)

    assert parse_manifest(text.encode(), PATH) == [labeled]


def test_error_is_a_value_error_with_one_shape():
    error = ManifestError.at(PATH, 3, LineProblem("source: empty"))

    assert isinstance(error, ValueError)
    assert str(error) == f"line 3 of {PATH}: source: empty"
