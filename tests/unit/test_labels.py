"""The GB 45438 label model: first write, integrity values, JSON and XMP forms."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from provenance.errors import LabelError
from provenance.labels import (
    AIGC_FIELDS,
    TRAINED_ALGORITHMIC_MEDIA,
    AigcLabel,
    LabelSettings,
    build_xmp,
    parse_xmp,
)
from provenance.watermark import ContentId

CID = ContentId.from_hex("00010000000000ff")


def test_first_write_ties_produce_id_to_the_content_id_and_mirrors_propagator() -> None:
    label = AigcLabel.first_write(producer="0011ACME", content_id=CID)
    fields = label.fields()
    assert list(fields) == list(AIGC_FIELDS)
    assert fields["Label"] == "1"
    assert fields["ProduceID"] == CID.hex
    assert fields["ContentPropagator"] == "0011ACME"
    assert fields["PropagateID"] == CID.hex
    assert fields["ReservedCode2"] == fields["ReservedCode1"]
    assert fields["ReservedCode1"].startswith("avp1:") and len(fields["ReservedCode1"]) == 69
    assert label.producer_integrity_ok() and label.first_written


@pytest.mark.parametrize(
    "field", ["label", "content_producer", "produce_id"], ids=["Label", "Producer", "ProduceID"]
)
def test_a_hand_edited_producer_field_breaks_reserved_code1(field: str) -> None:
    label = AigcLabel.first_write(producer="0011ACME", content_id=CID)
    edited = replace(label, **{field: "2" if field == "label" else "00010000000000fe"})
    assert not edited.producer_integrity_ok()


def test_moving_characters_between_fields_changes_the_integrity_value() -> None:
    a = AigcLabel.first_write(producer="AB", content_id=CID)
    b = replace(a, content_producer="A", produce_id="B" + CID.hex)
    assert not b.producer_integrity_ok()


def test_propagation_keeps_producer_fields_and_chains_reserved_code2() -> None:
    label = AigcLabel.first_write(producer="0011ACME", content_id=CID)
    passed = label.with_propagator("0011DOUYIN", "dy-123")
    assert passed.producer_integrity_ok()
    assert passed.propagator_integrity_ok() is True
    assert not passed.first_written
    assert replace(passed, propagate_id="dy-124").propagator_integrity_ok() is False
    # Another platform's own ReservedCode2 is not ours to judge.
    assert replace(passed, reserved_code2="3045abcdef").propagator_integrity_ok() is None


def test_json_is_compact_in_annex_e_order_and_reads_the_wrapped_form() -> None:
    label = AigcLabel.first_write(producer="0011ACME", content_id=CID)
    text = label.to_json()
    assert text.startswith('{"Label":"1","ContentProducer":"0011ACME","ProduceID":')
    assert " " not in text
    assert AigcLabel.from_json(text) == label
    assert AigcLabel.from_json(json.dumps({"AIGC": label.fields()})) == label


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"Label":"1"}', json.dumps(dict.fromkeys(AIGC_FIELDS, 1))]
)
def test_malformed_labels_raise_label_error(text: str) -> None:
    with pytest.raises(LabelError):
        AigcLabel.from_json(text)


@pytest.mark.parametrize("producer", ["", "Acme Avatars", 'a"b', "a\\b", "x" * 257])
def test_unwritable_producer_names_are_refused(producer: str) -> None:
    with pytest.raises(LabelError):
        AigcLabel.first_write(producer=producer, content_id=CID)


def test_default_producer_is_the_vendor_name_without_spaces() -> None:
    assert LabelSettings().producer("Acme Avatars") == "AcmeAvatars"
    assert LabelSettings(content_producer="0011X").producer("Acme") == "0011X"
    with pytest.raises(LabelError):
        LabelSettings(language="fr")


def test_xmp_round_trip_element_and_attribute_forms() -> None:
    label = AigcLabel.first_write(producer="0011ACME", content_id=CID)
    packet = build_xmp(aigc=label)
    found = parse_xmp(packet)
    assert found.aigc == label.to_json()
    assert found.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    attribute_form = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:aigc="http://www.tc260.org.cn/ns/AIGC/1.0/" aigc:AIGC="{&quot;Label&quot;:'
        b'&quot;1&quot;}"/></rdf:RDF></x:xmpmeta>'
    )
    assert parse_xmp(attribute_form).aigc == '{"Label":"1"}'
    assert parse_xmp(attribute_form).digital_source_type is None
    with pytest.raises(LabelError):
        parse_xmp(b"<x:xmpmeta><broken")
