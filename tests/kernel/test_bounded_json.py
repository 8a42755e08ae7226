"""The bounded JSON loader (issue 8, item 4): limits checked before the decoder recurses."""

import json
import sys

import pytest

from shop.kernel import bounded_json


def deep(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, {"b": null}], "c": "x"}',
        '"a string"',
        "12.5",
        "[]",
        deep(32),
        '{"a": ' * 31 + "1" + "}" * 31,
        '["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "\\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"]',
        '"\\\\u0000"',  # the six characters \u0000 as text, not a NUL
    ],
)
def test_documents_within_the_limits_decode_as_json_does(text):
    assert bounded_json.loads(text) == json.loads(text)


@pytest.mark.parametrize("depth", [33, 1000, sys.getrecursionlimit() * 100])
def test_deeper_documents_are_refused_without_recursing(depth):
    with pytest.raises(bounded_json.JSONTooDeep, match="deeper than 32"):
        bounded_json.loads(deep(depth))
    with pytest.raises(bounded_json.JSONTooDeep):
        bounded_json.loads('{"a": ' * depth + "1" + "}" * depth)
    with pytest.raises(bounded_json.JSONTooDeep):
        bounded_json.loads("[" * depth)  # not even closed


def test_the_depth_is_a_parameter_and_brackets_in_strings_do_not_count():
    assert bounded_json.nesting_depth('[["]]]]", {"k": "[[["}]]') == 3
    assert bounded_json.loads("[[1]]", max_depth=2) == [[1]]
    with pytest.raises(bounded_json.JSONTooDeep):
        bounded_json.loads("[[[1]]]", max_depth=2)


def test_a_nul_in_a_string_or_key_is_refused():
    for text in ['{"sku": "A\\u0000B"}', '{"\\u0000": 1}', '["\\\\\\u0000"]']:
        with pytest.raises(bounded_json.JSONHasNul):
            bounded_json.loads(text)


def test_size_limit_and_refusals_are_value_errors():
    with pytest.raises(bounded_json.JSONTooLarge):
        bounded_json.loads("[" + "1," * 100 + "1]", max_chars=100)
    assert issubclass(bounded_json.JSONRefused, ValueError)
    with pytest.raises(ValueError):
        bounded_json.loads("{not json")
    with pytest.raises(ValueError):
        bounded_json.loads(b"\xff[1]")
    assert bounded_json.loads(b"\xef\xbb\xbf[1]") == [1]
