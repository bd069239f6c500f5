"""HL7 v2.5.1 VXU^V04 messages (DESIGN.md §8 `import_hl7`): split, parsed with the `hl7`
package, turned into rows of the dose file, and answered with ACK messages.

Only the reading and writing of the wire format lives here; what a dose must satisfy is
the dose file's rules (`vaccination.imports`), which every row built here goes through.
A message whose structure is wrong is refused here, before any rule runs (ACK code AR).

Where a VXU keeps each value (the CDC implementation guide for v2.5.1, release 1.5):
the ID number in PID-3 (the repetition whose identifier type, CX-5, is a national person
identifier: NNCHN or NI), the name in PID-5, one dose per RXA with its date in RXA-3,
its lot in RXA-15, its manufacturer in RXA-17 (MVX code, name) and its site in RXA-11.4.
The dose number is the OBX of LOINC 30973-2 ("dose number in series") that follows the
RXA; systems that put it in RXA-2 instead are read too.
"""

import re
import uuid
from dataclasses import dataclass

import hl7
from django.utils import timezone
from django.utils.translation import gettext as _

#: Bytes that frame a message on an MLLP connection (start block, end block).
MLLP_START, MLLP_END = "\x0b", "\x1c"
#: Identifier types (CX-5) of a national person identifier: the resident ID card.
NATIONAL_ID_TYPES = ("NNCHN", "NI", "NN", "")
#: RXA-20 completion status of a dose actually given (CP complete, PA partial).
GIVEN_STATUSES = ("CP", "PA", "")
DOSE_NUMBER_LOINC = "30973-2"
HL7_TIMESTAMP = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")
#: HL7's escape sequences of its delimiters (\\E\\ last: it would make the others).
UNESCAPES = (("\\F\\", "|"), ("\\S\\", "^"), ("\\T\\", "&"), ("\\R\\", "~"), ("\\E\\", "\\"))
#: Characters a field may never carry into the database.
FORBIDDEN = re.compile(r"[\x00-\x08\x0e-\x1f]")


class MessageRefused(Exception):
    """The message cannot be read as a VXU^V04 at all (answered AR); reason in Chinese."""


@dataclass
class Message:
    """One message of the input: its text, control ID (MSH-10) and parsed form."""

    text: str
    control_id: str = ""
    sender: str = ""
    facility: str = ""
    parsed: hl7.Message | None = None


def messages_split(text: str) -> list[Message]:
    """The messages of a file or request body: MLLP framing and FHS/BHS batch envelopes
    are dropped, line ends of any system (CR, LF, CRLF) become HL7's CR."""
    text = text.replace(MLLP_START, "").replace(MLLP_END, "\r")
    segments = [line.strip() for line in re.split(r"\r\n|\r|\n", text)]
    messages: list[list[str]] = []
    for segment in segments:
        if not segment or segment[:3] in ("FHS", "BHS", "BTS", "FTS"):
            continue
        if segment.startswith("MSH") or not messages:
            messages.append([])
        messages[-1].append(segment)
    return [Message(text="\r".join(lines)) for lines in messages]


def message_parse(message: Message) -> None:
    """Parse the message in place; MessageRefused when it is not a readable VXU^V04."""
    if not message.text.startswith("MSH") or len(message.text) < 9:
        raise MessageRefused(_("The message does not begin with an MSH segment."))
    try:
        parsed = hl7.parse(message.text)
        header = parsed.segment("MSH")
    except Exception as error:  # the hl7 package raises several kinds on bad input
        raise MessageRefused(_("The message cannot be parsed as HL7 v2.")) from error
    message.parsed = parsed
    message.control_id = _value(header, 10)[:50]
    message.sender = _value(header, 3)[:50]
    message.facility = _value(header, 4)[:50]
    if FORBIDDEN.search(message.text):
        raise MessageRefused(_("The message contains control characters."))
    if not message.control_id:
        raise MessageRefused(_("MSH-10 (message control ID) is empty."))
    kind = (_value(header, 9, 1), _value(header, 9, 2))
    if kind != ("VXU", "V04"):
        raise MessageRefused(
            _("Only VXU^V04 messages are accepted, not %(kind)s.") % {"kind": "^".join(kind)}
        )
    if not _segments(parsed, "PID"):
        raise MessageRefused(_("The message has no PID segment."))
    if not _segments(parsed, "RXA"):
        raise MessageRefused(_("The message has no RXA segment."))


def dose_rows(message: Message) -> list[dict[str, str]]:
    """One dose-file row (`{field: text}`, the fields of `vaccination.imports.COLUMNS`)
    per RXA of a given dose. Values are passed on as written, so a bad one is refused by
    the dose file's rule with the dose file's message."""
    parsed = message.parsed
    patient = _segments(parsed, "PID")[0]
    id_type, id_number = _national_id(patient)
    person = {
        "name": (_value(patient, 5, 1) + _value(patient, 5, 2))[:200],
        "id_type": id_type,
        "id_number": id_number,
        "sex": _value(patient, 8),
        "birth": _timestamp(_value(patient, 7)),
    }
    rows = []
    for rxa, observations in _order_groups(parsed):
        if _value(rxa, 20) not in GIVEN_STATUSES:
            continue
        rows.append(
            {
                **person,
                "given": _timestamp(_value(rxa, 3)),
                "dose": _dose_number(rxa, observations),
                "manufacturer": _value(rxa, 17, 2) or _value(rxa, 17, 1),
                "manufacturer_code": _value(rxa, 17, 1),
                "lot": _value(rxa, 15),
                "site_code": _value(rxa, 11, 4),
            }
        )
    return rows


def ack(message: Message, code: str, text: str = "") -> str:
    """The ACK^V04 answering `message` (MSH, MSA and, unless accepted, ERR), CR-separated."""
    now = timezone.localtime().strftime("%Y%m%d%H%M%S")
    lines = [
        f"MSH|^~\\&|EPIDISPATCH||{_escape(message.sender)}|{_escape(message.facility)}|{now}||"
        f"ACK^V04^ACK|{uuid.uuid4().hex[:20]}|P|2.5.1",
        f"MSA|{code}|{_escape(message.control_id)}",
    ]
    if code != "AA":
        error_code = "200^Unsupported message type" if code == "AR" else "207^Application error"
        lines.append(f"ERR|||{error_code}^HL70357|E||||{_escape(text)}")
    return "\r".join(lines) + "\r"


def _segments(parsed: hl7.Message, name: str) -> list:
    return [segment for segment in parsed if str(segment[0]) == name]


def _order_groups(parsed: hl7.Message):
    """(RXA, the OBX segments after it) for each RXA, in order."""
    groups: list[tuple] = []
    for segment in parsed:
        name = str(segment[0])
        if name == "RXA":
            groups.append((segment, []))
        elif name == "OBX" and groups:
            groups[-1][1].append(segment)
    return groups


def _value(segment, field: int, component: int = 1, repetition: int = 1) -> str:
    try:
        value = segment.extract_field(
            field_num=field, repeat_num=repetition, component_num=component
        )
    except IndexError:
        return ""
    for escaped, plain in UNESCAPES:
        value = value.replace(escaped, plain)
    return value.strip()


def _national_id(patient) -> tuple[str, str]:
    """(ID type as the dose file writes it, number) from PID-3's repetitions: the first
    national person identifier, else the first identifier with its type (which the dose
    file's rules then refuse as not a resident ID card)."""
    try:
        repetitions = len(patient[3])
    except IndexError:
        return "", ""
    candidates = [
        (_value(patient, 3, 5, n).upper(), _value(patient, 3, 1, n))
        for n in range(1, repetitions + 1)
    ]
    for kind, number in candidates:
        if kind in NATIONAL_ID_TYPES and number:
            return "居民身份证", number
    kind, number = candidates[0] if candidates else ("", "")
    return kind, number


def _dose_number(rxa, observations) -> str:
    for observation in observations:
        if _value(observation, 3) == DOSE_NUMBER_LOINC:
            return _value(observation, 5)
    return _value(rxa, 2)


def _timestamp(value: str) -> str:
    """An HL7 TS (20210501103000+0800) as the dose file writes a date; anything else is
    passed on for the dose file's rule to refuse."""
    match = HL7_TIMESTAMP.match(value)
    if not match:
        return value
    year, month, day, hour, minute, second = match.groups()
    if hour is None:
        return f"{year}-{month}-{day}"
    return f"{year}-{month}-{day} {hour}:{minute}:{second or '00'}"


def _escape(text: str) -> str:
    """A value written into an HL7 field, with the delimiters escaped."""
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
        .replace("\r", " ")
        .replace("\n", " ")
    )
