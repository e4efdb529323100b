"""Resource records of an upstream answer: decode them safely and encode them again.

Upstream answers are taken apart once, on a cache miss, so they can be checked (bailiwick,
rebinding) and re-encoded without compression pointers into records that were dropped.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from filterd.dns.wire import (
    HEADER,
    RR_FIXED,
    T_A,
    T_AAAA,
    T_ANY,
    T_CNAME,
    T_DNAME,
    T_HINFO,
    T_HTTPS,
    T_MX,
    T_NS,
    T_PTR,
    T_SOA,
    T_SRV,
    T_SVCB,
    FormatError,
    read_name,
)

# Record types by the names people know them by (the query log stores these; RFC 3597's
# TYPEnnn for any other).
QTYPE_NAMES = {
    T_A: "A",
    T_NS: "NS",
    T_CNAME: "CNAME",
    T_SOA: "SOA",
    T_PTR: "PTR",
    T_HINFO: "HINFO",
    T_MX: "MX",
    16: "TXT",
    T_AAAA: "AAAA",
    T_SRV: "SRV",
    35: "NAPTR",
    43: "DS",
    48: "DNSKEY",
    T_SVCB: "SVCB",
    T_HTTPS: "HTTPS",
    T_ANY: "ANY",
}


def qtype_name(qtype: int) -> str:
    """A record type's name for the query log and pages: "AAAA", or "TYPE99" when unknown."""
    return QTYPE_NAMES.get(qtype, f"TYPE{qtype}")


# Types whose RDATA holds names that may be compressed (RFC 3597 section 4): name offsets.
_NAME_ONLY = {T_NS, T_CNAME, T_PTR, T_DNAME}


class Record(NamedTuple):
    """One record with its owner and any names in its RDATA decompressed (lower case owner)."""

    owner: bytes  # lower-case wire name, for comparisons
    rtype: int
    rclass: int
    ttl: int
    rdata: bytes  # self-contained: names inside are uncompressed, case as received
    cased: bytes = b""  # the owner as the upstream wrote it, sent on to clients


class Message(NamedTuple):
    """An upstream answer split into sections."""

    qid: int
    flags: int
    question: bytes
    answer: list[Record]
    authority: list[Record]
    additional: list[Record]  # without OPT


def decode_message(data: bytes) -> Message:
    """Decode a whole answer; any structural fault raises FormatError."""
    data = bytes(data)
    if len(data) < 12:
        raise FormatError("shorter than a header")
    qid, flags, qd, an, ns, ar = HEADER.unpack_from(data)
    if qd != 1:
        raise FormatError("answer does not carry exactly one question")
    _, pos = read_name(data, 12)
    pos += 4
    if pos > len(data):
        raise FormatError("question truncated")
    question = data[12:pos]
    sections: list[list[Record]] = []
    opt_seen = False
    for count in (an, ns, ar):
        records: list[Record] = []
        for _ in range(count):
            record, pos = _decode_record(data, pos)
            if record.rtype == 41:  # OPT belongs to the hop, not to the answer
                if opt_seen:
                    raise FormatError("more than one OPT record")
                opt_seen = True
                continue
            records.append(record)
        sections.append(records)
    return Message(qid, flags, question, sections[0], sections[1], sections[2])


def _decode_record(data: bytes, pos: int) -> tuple[Record, int]:
    owner, pos = read_name(data, pos)
    if pos + 10 > len(data):
        raise FormatError("record truncated")
    rtype, rclass, ttl, rdlen = RR_FIXED.unpack_from(data, pos)
    start = pos + 10
    end = start + rdlen
    if end > len(data):
        raise FormatError("record data truncated")
    rdata = _expand_rdata(data, rtype, start, end)
    ttl = 0 if ttl & 0x80000000 else ttl  # RFC 2181 8: a TTL with the top bit set is 0
    return Record(owner.lower(), rtype, rclass, ttl, rdata, owner), end


def _expand_rdata(data: bytes, rtype: int, start: int, end: int) -> bytes:
    """RDATA with embedded names decompressed, so the record stands on its own."""
    if rtype in _NAME_ONLY:
        name, after = read_name(data, start)
        _check_end(after, end)
        return name
    if rtype == T_MX:
        name, after = read_name(data, start + 2)
        _check_end(after, end)
        return data[start : start + 2] + name
    if rtype == T_SRV:
        name, after = read_name(data, start + 6)
        _check_end(after, end)
        return data[start : start + 6] + name
    if rtype == T_SOA:
        mname, pos = read_name(data, start)
        rname, pos = read_name(data, pos)
        _check_end(pos + 20, end)
        return mname + rname + data[pos : pos + 20]
    return data[start:end]


def _check_end(actual: int, expected: int) -> None:
    if actual != expected:
        raise FormatError("record data length does not match its contents")


def soa_negative_ttl(record: Record) -> int:
    """RFC 2308: a negative answer lives min(SOA TTL, SOA MINIMUM)."""
    minimum = struct.unpack_from("!I", record.rdata, len(record.rdata) - 4)[0]
    return min(record.ttl, minimum)


class Encoded(NamedTuple):
    """Sections after the question, ready to follow any copy of the same question."""

    body: bytes
    counts: tuple[int, int, int]
    ttl_offsets: tuple[int, ...]  # offsets of each record's TTL within body
    ttls: tuple[int, ...]


def encode_sections(
    qname: bytes, sections: tuple[list[Record], list[Record], list[Record]], ttl_of
) -> Encoded:
    """Encode records after a question, every name compressed (RFC 1035 4.1.4).

    The body follows the question in every answer to this question, so it starts at the same
    offset for every client and its pointers hold. Names keep the upstream's case: a suffix is
    shared only with a byte-identical one, except the question's, which is matched whatever its
    case (the client's own spelling then shows, as for the owner that is the question). Names
    inside RDATA are compressed only for the types RFC 3597 allows (NS, CNAME, PTR, MX, SOA).
    ttl_of(record) gives the TTL to store (clamped by the cache's bounds).
    """
    writer = _NameWriter(qname)
    body = writer.body
    offsets: list[int] = []
    ttls: list[int] = []
    for records in sections:
        for record in records:
            writer.name(record.cased or record.owner)
            ttl = ttl_of(record)
            offsets.append(len(body) + 4)
            ttls.append(ttl)
            fixed = len(body)
            body += RR_FIXED.pack(record.rtype, record.rclass, ttl, 0)
            writer.rdata(record.rtype, record.rdata)
            RR_FIXED.pack_into(
                body, fixed, record.rtype, record.rclass, ttl, len(body) - fixed - 10
            )
    counts = (len(sections[0]), len(sections[1]), len(sections[2]))
    return Encoded(bytes(body), counts, tuple(offsets), tuple(ttls))


class _NameWriter:
    """Writes names into an answer body, pointing at any suffix already written."""

    def __init__(self, qname: bytes) -> None:
        self.body = bytearray()
        self.start = 12 + len(qname) + 4  # header and question come first
        self.question: dict[bytes, int] = {}  # lower-case suffixes of the question name
        self.written: dict[bytes, int] = {}  # byte-exact suffixes already in the body
        pos = 0
        while pos < len(qname) and qname[pos]:
            self.question[qname[pos:].lower()] = 12 + pos
            pos += qname[pos] + 1

    def name(self, name: bytes) -> None:
        body = self.body
        pos = 0
        while name[pos]:
            suffix = name[pos:]
            target = self.written.get(suffix)
            if target is None:
                target = self.question.get(suffix.lower())
            if target is not None:
                body += _POINTER.pack(0xC000 | target)
                return
            here = self.start + len(body)
            if here < 0x4000:
                self.written[suffix] = here
            end = pos + 1 + name[pos]
            body += name[pos:end]
            pos = end
        body += b"\x00"

    def rdata(self, rtype: int, rdata: bytes) -> None:
        if rtype in _NAME_ONLY and rtype != T_DNAME:  # RFC 6672: a DNAME target stays whole
            self.name(rdata)
        elif rtype == T_MX:
            self.body += rdata[:2]
            self.name(rdata[2:])
        elif rtype == T_SOA:
            mname, pos = read_name(rdata, 0)
            rname, pos = read_name(rdata, pos)
            self.name(mname)
            self.name(rname)
            self.body += rdata[pos:]
        else:
            self.body += rdata


_POINTER = struct.Struct("!H")
