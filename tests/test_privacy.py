"""Optional PII masking: the patterns, and a recording and report that never hold PII."""

from __future__ import annotations

import contextlib
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import guiders_lab as gl
from guiders_lab.cli import build_parser
from guiders_lab.privacy import find_pii, redact_frame, redact_json, redact_pii, redact_table

from .conftest import wait_for


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ana.garcia@correo.es", "email"),
        ("John.Smith+shop@mail.example.co.uk", "email"),
        ("josé.núñez@empresa.com", "email"),
        ("+34 612 345 678", "phone"),
        ("612-345-678", "phone"),
        ("612345678", "phone"),
        ("612 34 56 78", "phone"),
        ("91 123 45 67", "phone"),
        ("0034 612 345 678", "phone"),
        ("+34612345678", "phone"),
        ("+34-612-345-678", "phone"),
        ("(555) 123-4567", "phone"),
        ("555-123-4567", "phone"),
        ("+1 555 123 4567", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("020 7946 0958", "phone"),
        ("07700 900123", "phone"),
        ("4111 1111 1111 1111", "card"),
        ("4111-1111-1111-1111", "card"),
        ("4111111111111111", "card"),
        ("3782 822463 10005", "card"),  # Amex, 15 digits
        ("5555 5555 5555 4444", "card"),
        ("4222222222222", "card"),  # 13 digits
    ],
)
def test_finds_personal_data(text: str, kind: str) -> None:
    for sentence in (text, f"Mi dato: {text}.", f"reach me at {text}, thanks", f"({text})"):
        found = find_pii(sentence)
        assert [(f.kind, f.text) for f in found] == [(kind, text)], sentence
        assert redact_pii(sentence) == sentence.replace(text, f"[{kind}]")


@pytest.mark.parametrize(
    "text",
    [
        "29.99",
        "cuesta 1.299,00 € o 1,299.00 $",
        "2025-01-15T10:00:00Z",
        "2025-01-15 10:00:00.123456+00:00",
        "chat-000123",
        "v-612345678",  # an id that happens to hold 9 digits
        "msg_4111111111111111",
        "pedido #612345678",
        "4111 1111 1111 1112",  # fails the Luhn check
        "1736935200002",  # epoch milliseconds (Luhn-valid, but no card starts with 1)
        "1736935200",
        "28013 Madrid",
        "DNI 12345678Z",
        "192.168.100.200",
        "versión 3.12.4, talla 42-44, 10:30-14:00",
        "a las 10:00 del 15/01/2025",
        "user@localhost",
        "@lucia en twitter",
        "612-345-678-9",
        "",
    ],
)
def test_leaves_ids_times_and_prices_alone(text: str) -> None:
    assert find_pii(text) == []
    assert redact_pii(text) == text


def test_mixed_text_and_kinds() -> None:
    text = (
        "Hola, soy Ana (ana@correo.es). Mi móvil 612 345 678, la tarjeta 4111 1111 1111 1111 "
        "y el pedido 2025-01-15T10:00:00Z de 29.99 €, chat-000123."
    )
    assert redact_pii(text) == (
        "Hola, soy Ana ([email]). Mi móvil [phone], la tarjeta [card] "
        "y el pedido 2025-01-15T10:00:00Z de 29.99 €, chat-000123."
    )
    assert redact_pii(text, kinds=["email"]).count("[") == 1
    with pytest.raises(ValueError, match="unknown kinds"):
        redact_pii(text, kinds=["iban"])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("4111 1111 1111 1111 123", "[card] 123"),  # the CVV after the number
        ("4111111111111111 123", "[card] 123"),
        ("5500-0000-0000-0004-321", "[card]-321"),
        ("4111 1111 1111 1111 12 25", "[card] 12 25"),  # the expiry
    ],
)
def test_a_card_followed_by_more_digits_is_still_found(text: str, masked: str) -> None:
    assert redact_pii(f"tarjeta {text}, gracias") == f"tarjeta {masked}, gracias"


def test_many_matches_in_one_huge_message_are_all_masked() -> None:
    """Matches are checked against their neighbours only: a visitor pasting 200 KB of
    contacts is masked in one pass (it used to take seconds to minutes)."""
    text = "ana@correo.es, +34 612 345 678; " * 6_000
    masked = redact_pii(text)
    assert masked == "[email], [phone]; " * 6_000


def test_json_is_masked_by_value_and_stays_valid() -> None:
    raw = orjson.dumps(
        {
            "chatId": "chat-000123",
            "content": 'línea\n"ana@correo.es"\tfin',
            "sender": {"id": "v-1", "name": "Ana", "phones": ["+34 612 345 678"]},
            "timestamp": "2025-01-15T10:00:00Z",
            "amount": 612345678,  # numbers are not text
        }
    )
    masked = redact_json(raw)
    assert isinstance(masked, bytes)
    value = orjson.loads(masked)
    assert value["content"] == 'línea\n"[email]"\tfin'
    assert value["sender"] == {"id": "v-1", "name": "Ana", "phones": ["[phone]"]}
    assert value["amount"] == 612345678 and value["chatId"] == "chat-000123"
    clean = b'{"chatId":"chat-1","content":"hola"}'
    assert redact_json(clean) is clean  # untouched: the very same bytes
    assert redact_json('{"big": 123456789012345678901234567890, "e": "a@b.es"}') == (
        '{"big":123456789012345678901234567890,"e":"[email]"}'
    )
    assert redact_json(b'{"cut": "llama al 612 345 678 o a ana@co') == (
        b'{"cut": "llama al [phone] o a ana@co'  # a truncated preview: masked as text
    )


def test_frames_and_tables_keep_their_types() -> None:
    frame = pd.DataFrame(
        {
            "content": pd.array(["escribe a ana@correo.es", None, "hola"], dtype="str"),
            "n": [1, 2, 3],
            "payload": ['{"phone":"612345678"}', "{}", "[]"],
        }
    )
    masked = redact_frame(frame)
    assert list(masked["content"].fillna("-")) == ["escribe a [email]", "-", "hola"]
    assert masked["payload"][0] == '{"phone":"[phone]"}'
    assert (masked.dtypes == frame.dtypes).all() and frame["content"][0].endswith(".es")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = redact_table(table.replace_schema_metadata({b"k": b"v"}))
    assert table.column("content").to_pylist()[0] == "escribe a [email]"
    assert table.schema.metadata == {b"k": b"v"}


def _recording_text(directory: Path) -> str:
    """Everything in a recording as text: raw files as they are, Parquet decoded."""
    parts = []
    for path in sorted(directory.rglob("*")):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            parts += [str(table.schema.metadata), table.to_pandas().to_csv()]
        elif path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


class _Echo(gl.bots.Bot):
    """Repeats the visitor: its shadow actions carry the PII too."""

    def on_message(self, message, ctx):  # type: ignore[no-untyped-def]
        return gl.bots.SendMessage(message.chat_id, f"Confirmo: {message.content}")


PII = [
    "ana.garcia@correo.es",
    "lucia.ruiz@tienda.es",
    "+34 612 345 678",
    "699-888-777",
    "4111 1111 1111 1111",
    "(555) 123-4567",
    "5555 5555 5555 4444",
]


async def test_a_redacted_recording_and_report_hold_no_pii(
    frozen_sim: gl.SimulatorHandle, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="record_to"):
        await gl.connect(frozen_sim, redact_pii=True)
    rec = tmp_path / "rec"
    live = await gl.connect(frozen_sim, record_to=rec, redact_pii=True, heartbeat_interval=60)
    try:
        run = await live.run(_Echo(), mode="shadow")
        frozen_sim.inject(
            "chat:created",
            {
                "chatId": "chat-000123",
                "visitorId": "v-1",
                "visitor": {"id": "v-1", "name": "ana.garcia@correo.es"},
                "department": "ventas",
                "status": "pending",
                "createdAt": "2025-01-15T10:00:00Z",
            },
        )
        message = {
            "chatId": "chat-000123",
            "messageId": "m-1",
            "content": "Hola, mi móvil es +34 612 345 678 y la tarjeta 4111 1111 1111 1111; "
            "el pedido de 29.99 € del 2025-01-15T10:00:00Z",
            "type": "user",
            "sender": {"id": "v-1", "name": "ana.garcia@correo.es", "role": "visitor"},
            "timestamp": "2025-01-15T10:00:01Z",
        }
        frozen_sim.inject("message:new", message)
        frozen_sim.inject(
            "chat:assigned",
            {
                "chatId": "chat-000123",
                "commercialId": "lucia.ruiz@tienda.es",
                "assignedAt": "2025-01-15T10:00:02Z",
                "reason": "llamar al 699-888-777",
            },
        )
        frozen_sim.inject("message:new", {**message, "chatId": 42, "content": "(555) 123-4567"})
        frozen_sim.inject("message:new", b"binary, card 5555 5555 5555 4444")  # not JSON
        await wait_for(lambda: len(live.quarantine) == 2 and len(live.actions) == 1)
        with contextlib.suppress(gl.ActionError):  # the frozen server knows no such chat
            await live.send_message("chat-000123", "Te escribo a ana.garcia@correo.es")
        await run.drain(timeout=5)
    finally:
        await live.close()

    # in memory nothing changed: the notebook and the bots see the real text
    assert "+34 612 345 678" in live.messages["content"][0]
    assert live.chats["visitor_name"][0] == "ana.garcia@correo.es"
    assert "4111 1111 1111 1111" in live.actions["payload"][0]

    on_disk = _recording_text(rec)
    assert '"pii_redacted": true' in on_disk
    for pii in PII:
        assert pii not in on_disk, pii
    for mask in ("[email]", "[phone]", "[card]"):
        assert mask in on_disk
    for kept in ("chat-000123", "29.99", "2025-01-15T10:00:00Z", "m-1"):
        assert kept in on_disk
    journal = [orjson.loads(line) for line in (rec / "events.jsonl").read_bytes().splitlines()]
    assert {e["dir"] for e in journal} >= {"in", "out", "action"}
    assert any("bad" in e for e in journal)

    loaded = gl.load(rec)
    assert loaded.manifest.extra == {"pii_redacted": True}
    assert loaded.messages["content"][0].startswith("Hola, mi móvil es [phone] y la tarjeta [card]")
    assert loaded.chats["visitor_name"][0] == "[email]"
    assert gl.load(rec, rebuild_tables=True).chats["visitor_name"][0] == "[email]"

    # reports: from the redacted recording, and masked from the unredacted live session
    for i, session in enumerate((loaded, live)):
        report = gl.write_report(
            session,
            tmp_path / f"report{i}.html",
            title="Informe ana.garcia@correo.es",
            redact_pii=True,
        )
        html = report.read_text(encoding="utf-8")
        for pii in PII:
            assert pii not in html, pii
        assert "<th>[email]</th>" in html  # the commercial (an e-mail as id), still a row
        assert "<h1>Informe [email]</h1>" in html
    plain = gl.write_report(live, tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "lucia.ruiz@tienda.es" in plain  # what the option protects against


def test_cli_takes_the_option() -> None:
    parser = build_parser()
    assert parser.parse_args(["report", "rec", "--redact-pii"]).redact_pii
    assert not parser.parse_args(["report", "rec"]).redact_pii
    args = parser.parse_args(
        ["record", "ws://x", "--token-env", "T", "--out", "rec", "--redact-pii"]
    )
    assert args.redact_pii
