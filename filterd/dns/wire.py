"""DNS wire format: the few operations the hot path needs, on raw bytes.

dnslib would build a Python object per record; parsing a query that way costs ~30 us, slicing the
name out of the bytes ~0.3 us. Everything here works on bytes and offsets, and every loop is
bounded so hostile packets (pointer loops, over-long names) fail fast with FormatError.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from typing import NamedTuple

HEADER = struct.Struct("!HHHHHH")
U16 = struct.Struct("!H")
RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength

# Header flag bits.
QR = 0x8000
TC = 0x0200
RD = 0x0100
RA = 0x0080
AD = 0x0020
CD = 0x0010

# Response codes.
NOERROR = 0
FORMERR = 1
SERVFAIL = 2
NXDOMAIN = 3
NOTIMP = 4
REFUSED = 5
BADVERS = 16  # extended: upper bits travel in the OPT record
RCODE_NAMES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    16: "BADVERS",
}

# Record types we look at.
T_A = 1
T_NS = 2
T_CNAME = 5
T_SOA = 6
T_PTR = 12
T_HINFO = 13
T_MX = 15
T_AAAA = 28
T_SRV = 33
T_DNAME = 39
T_OPT = 41
T_SVCB = 64
T_HTTPS = 65
T_ANY = 255

MAX_NAME = 255
MAX_POINTERS = 64  # a legal 255-octet name never needs more than 127; 64 is ample in practice
EDNS_UDP_SIZE = 1232  # DNS Flag Day 2020
PLAIN_UDP_SIZE = 512


# Builds a NamedTuple from a tuple without the Python-level __new__ frame; used on the hot path.
# new_tuple(Cls, (a, b, ...)) must be given every field in order: the NamedTuple's defaults
# are not filled in (they live in the skipped __new__), so a short tuple makes a short record.
new_tuple = tuple.__new__
_unpack_header = HEADER.unpack_from
_unpack_rr = RR_FIXED.unpack_from


class FormatError(Exception):
    """The message is malformed; the peer gets FORMERR (or SERVFAIL for upstream answers)."""


class Edns(NamedTuple):
    """What the client's OPT record asked for."""

    udp_size: int
    do: bool
    version: int


ParsedQuery = tuple[int, int, bytes, int, int, bytes, Edns | None]
"""The parts of a client query the server needs: (qid, flags, qname in wire form with the case
as received, qtype, qclass, question (qname + qtype + qclass as received), edns). A plain
tuple, unpacked by its two callers: naming its fields would cost a copy per query."""


class Reject(Exception):
    """A query that gets an error answer instead of resolution (FORMERR, NOTIMP, BADVERS)."""

    def __init__(
        self,
        rcode: int,
        reason: str,
        qid: int,
        flags: int,
        question: bytes = b"",
        edns: Edns | None = None,
    ) -> None:
        super().__init__(reason)
        self.rcode = rcode
        self.reason = reason
        self.qid = qid
        self.flags = flags
        self.question = question
        self.edns = edns


class Drop(Exception):
    """A packet that gets no answer at all (too short to answer, or itself a response)."""


def read_name(data: bytes, pos: int) -> tuple[bytes, int]:
    """Decode a possibly compressed name at pos: (uncompressed wire name, offset after it).

    Pointers must point strictly backwards and are capped in number, so loops, forward pointers
    and pointer chains end in FormatError in bounded time.
    """
    end = len(data)
    labels: list[bytes] = []
    total = 1
    after = -1
    pointers = 0
    limit = pos  # a pointer must land before the earliest offset seen so far
    while True:
        if pos >= end:
            raise FormatError("name runs past the end")
        length = data[pos]
        if length == 0:
            if after < 0:
                after = pos + 1
            break
        kind = length & 0xC0
        if kind == 0xC0:
            if pos + 1 >= end:
                raise FormatError("truncated compression pointer")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if target >= limit:
                raise FormatError("compression pointer does not point backwards")
            pointers += 1
            if pointers > MAX_POINTERS:
                raise FormatError("too many compression pointers")
            if after < 0:
                after = pos + 2
            pos = limit = target
            continue
        if kind:
            raise FormatError("reserved label type")
        if pos + 1 + length > end:
            raise FormatError("label runs past the end")
        total += length + 1
        if total > MAX_NAME:
            raise FormatError("name longer than 255 octets")
        labels.append(data[pos : pos + 1 + length])
        pos += 1 + length
    return b"".join(labels) + b"\x00", after


WALKED_LIMIT = 65_536
_WALKED: set[bytes] = set()
"""Question names (as received) that parse_query has walked and found whole; forgotten all at
once when full, like the other per-name memos."""


def parse_query(data: bytes) -> ParsedQuery:
    """Parse a client query, raising Drop or Reject for anything that must not be resolved.

    The question name must be uncompressed: a pointer inside the first name of a message can
    only point into that name or the header, so it is always a loop or garbage (RFC 9267).
    """
    size = len(data)
    if size < 12:
        raise Drop("shorter than a header")
    qid, flags, qdcount, ancount, nscount, arcount = _unpack_header(data)
    if flags & QR:
        raise Drop("a response sent as a query")
    if flags & 0x7800:
        question = b""
        if qdcount == 1:  # echoed when it can be read (RFC 1996 NOTIFY answers carry it too)
            with contextlib.suppress(Reject):
                question = data[12 : _question_end(data, qid, flags) + 4]
        raise Reject(NOTIMP, "opcode", qid, flags, question)
    if qdcount != 1:
        raise Reject(FORMERR, "qdcount", qid, flags)
    # A name asked before (nearly every query) skips the label walk: if the bytes up to the
    # first zero byte are a name once walked and found whole, the walk would end there again.
    zero = data.find(0, 12)
    qname = data[12 : zero + 1]
    if qname in _WALKED and zero + 5 <= size:
        qend = zero + 1
    else:
        qend = _question_end(data, qid, flags)
        if qend == zero + 1:  # (a zero byte inside a label: not remembered, walked each time)
            if len(_WALKED) >= WALKED_LIMIT:
                _WALKED.clear()
            _WALKED.add(qname)
        else:
            qname = data[12:qend]
    end = qend + 4
    question = data[12:end]
    edns = None
    if arcount == 1 and not ancount and not nscount and size >= end + 11 and data[end] == 0:
        rtype, rclass, ttl, rdlen = _unpack_rr(data, end + 1)
        if rtype == T_OPT and end + 11 + rdlen == size:  # the usual case: one OPT, last
            edns = Edns(
                rclass if rclass > PLAIN_UDP_SIZE else PLAIN_UDP_SIZE,
                bool(ttl & 0x8000),
                (ttl >> 16) & 0xFF,
            )
    if edns is None and (ancount or nscount or arcount):
        try:
            edns = _find_edns(data, end, ancount + nscount, arcount)
        except FormatError as err:
            raise Reject(FORMERR, str(err), qid, flags, question) from None
    if edns is not None and edns.version:
        raise Reject(BADVERS, "edns version", qid, flags, question, edns)
    qtype = question[-4] << 8 | question[-3]
    qclass = question[-2] << 8 | question[-1]
    return qid, flags, qname, qtype, qclass, question, edns


def _question_end(data: bytes, qid: int, flags: int) -> int:
    """Offset just after the (uncompressed) question name; its type and class must follow."""
    size = len(data)
    pos = 12
    while True:
        if pos >= size:
            raise Reject(FORMERR, "name runs past the end", qid, flags)
        length = data[pos]
        if not length:
            break
        if length > 63:
            raise Reject(FORMERR, "compression pointer or bad label in question", qid, flags)
        pos += length + 1
        if pos > 12 + MAX_NAME - 1:
            raise Reject(FORMERR, "name longer than 255 octets", qid, flags)
    if pos + 5 > size:
        raise Reject(FORMERR, "question truncated", qid, flags)
    return pos + 1


def _find_edns(data: bytes, pos: int, before: int, arcount: int) -> Edns | None:
    """Walk the records after the question and return the one OPT record's facts."""
    if before:
        pos = skip_records(data, pos, before)
    edns = None
    for _ in range(arcount):
        owner_pos = pos
        _, pos = read_name(data, pos)
        if pos + 10 > len(data):
            raise FormatError("record truncated")
        rtype, rclass, ttl, rdlen = RR_FIXED.unpack_from(data, pos)
        pos += 10 + rdlen
        if pos > len(data):
            raise FormatError("record data truncated")
        if rtype == T_OPT:
            if edns is not None:
                raise FormatError("more than one OPT record")
            if data[owner_pos] != 0:
                raise FormatError("OPT owner is not the root")
            edns = Edns(max(rclass, PLAIN_UDP_SIZE), bool(ttl & 0x8000), (ttl >> 16) & 0xFF)
    return edns


def skip_records(data: bytes, pos: int, count: int) -> int:
    """Return the offset after count resource records, checking every length."""
    end = len(data)
    for _ in range(count):
        _, pos = read_name(data, pos)
        if pos + 10 > end:
            raise FormatError("record truncated")
        pos += 10 + U16.unpack_from(data, pos + 8)[0]
        if pos > end:
            raise FormatError("record data truncated")
    return pos


def opt_record(edns: Edns | None, ext_rcode: int = 0, options: bytes = b"") -> bytes:
    """Our OPT record for an answer to a client that sent EDNS (empty if it did not)."""
    if edns is None:
        return b""
    ttl = (ext_rcode << 24) | (0x8000 if edns.do else 0)
    return b"\x00" + RR_FIXED.pack(T_OPT, EDNS_UDP_SIZE, ttl, len(options)) + options


def answer_limit(edns: Edns | None) -> int:
    """Largest UDP answer the client can take (RFC 6891, capped at 1232 for fragmentation)."""
    if edns is None:
        return PLAIN_UDP_SIZE
    return min(edns.udp_size, EDNS_UDP_SIZE)


def reply_flags(query_flags: int, rcode: int, extra: int = 0) -> int:
    """Header flags of our answer: QR and RA set, RD and CD copied from the query."""
    return QR | RA | (query_flags & (RD | CD)) | extra | (rcode & 0xF)


def error_reply(reject: Reject) -> bytes:
    """FORMERR / NOTIMP / BADVERS / REFUSED answer, echoing the question when it parsed."""
    has_question = 1 if reject.question else 0
    opt = opt_record(reject.edns, reject.rcode >> 4)
    opcode = reject.flags & 0x7800
    header = HEADER.pack(
        reject.qid,
        reply_flags(reject.flags, reject.rcode) | opcode,
        has_question,
        0,
        0,
        1 if opt else 0,
    )
    return header + reject.question + opt


def truncated(qid: int, flags: int, question: bytes, opt: bytes) -> bytes:
    """A valid TC=1 answer holding only the question (and OPT), telling the client to use TCP."""
    return HEADER.pack(qid, flags | TC, 1, 0, 0, 1 if opt else 0) + question + opt


def rcode_name(rcode: int) -> str:
    return RCODE_NAMES.get(rcode, f"RCODE{rcode}")


def name_to_text(wire: bytes) -> str:
    """Presentation form of a wire name, lower case, with unsafe bytes escaped as \\DDD.

    The escape keeps `<`, quotes, control and non-UTF-8 bytes inert wherever a name is shown.
    """
    out: list[str] = []
    pos = 0
    end = len(wire)
    while pos < end:
        length = wire[pos]
        if length == 0:
            break
        label = wire[pos + 1 : pos + 1 + length].lower()
        pos += 1 + length
        if label.translate(None, _SAFE_BYTES):
            out.append("".join(chr(b) if _PLAIN[b] else f"\\{b:03d}" for b in label))
        else:
            out.append(label.decode("ascii"))
    return ".".join(out) if out else "."


def text_to_wire(name: str) -> bytes:
    """Wire form of a presentation name (plain ASCII labels; used for config and tests)."""
    name = name.strip().rstrip(".").lower()
    if not name:
        return b"\x00"
    out = bytearray()
    for label in name.split("."):
        raw = label.encode("idna") if not label.isascii() else label.encode()
        if not raw or len(raw) > 63:
            raise ValueError(f"bad label {label!r} in {name!r}")
        out.append(len(raw))
        out += raw
    out.append(0)
    if len(out) > MAX_NAME:
        raise ValueError(f"name longer than 255 octets: {name!r}")
    return bytes(out)


def suffixes(name: bytes) -> Iterator[bytes]:
    """A wire name and each parent below the root: www.example.com, example.com, com."""
    pos = 0
    while name[pos]:
        yield name[pos:]
        pos += name[pos] + 1


def is_subdomain(name: bytes, parent: bytes) -> bool:
    """True when wire name `name` equals `parent` or lies under it (both lower case)."""
    if parent == b"\x00":
        return True
    if not name.endswith(parent):
        return False
    if len(name) == len(parent):
        return True
    # The match must start on a label boundary: walk the labels of name.
    cut = len(name) - len(parent)
    pos = 0
    while pos < cut:
        pos += name[pos] + 1
    return pos == cut


_SAFE_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789-_*"
_PLAIN = [b in _SAFE_BYTES for b in range(256)]
