"""Certificates merged into one PDF to print, without re-parsing them.

Every stored certificate is a ReportLab PDF with a classic cross-reference table (no object
streams); a signed one has an incremental update (pyHanko's, also a classic table, its
``/Prev`` pointing at the first). Merging reads those tables, copies each object's bytes as
they are (content streams, font subsets, images: never decoded), renumbers the references
in the objects' dictionaries (``12 0 R``; stream data is left untouched), drops each file's
catalogue, page tree, outlines and document information, and points each page at the merged
file's page tree. A bookmark per certificate leads to its page. The pages are byte for byte
the stored certificates' (their fonts keep their subset tags, derived from the subsets'
content, so different subsets never share a tag across certificates).

About 0.3 ms a page (``benchmarks/certificates_bench.py``), where pypdf's ``append`` parsed
and cloned every object (about 40 ms a page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
_REF = re.compile(rb"(?<![\w.])(\d+) 0 R(?![\w])")
_STREAM = re.compile(rb">>\s*stream(\r\n|\n|\r)")
_PARENT = re.compile(rb"/Parent \d+ 0 R")
_TRAILER_REF = {key: re.compile(rb"/" + key.encode() + rb" (\d+) 0 R") for key in ("Root", "Info")}
_VERSION = re.compile(rb"%PDF-(\d\.\d)")


class NotMergeable(ValueError):
    """A PDF this merger does not understand (not written by ReportLab)."""


_PREV = re.compile(rb"/Prev (\d+)")


def _xref_section(
    data: bytes, start: int, offsets: dict[int, int], starts: set[int]
) -> tuple[bytes, int | None]:
    """Read the classic cross-reference section at ``start`` into ``offsets`` (entries already
    there, from a later section, win) and every object's start into ``starts`` (replaced
    ones too: where the object before them ends); returns its trailer and the previous
    section's offset (``/Prev``: a signature is an incremental update)."""
    if data[start : start + 4] != b"xref":
        raise NotMergeable("not a classic cross-reference table")
    trailer_at = data.index(b"trailer", start)
    lines = data[start + 4 : trailer_at].split(b"\n")
    i = 0
    while i < len(lines):
        header = lines[i].split()
        i += 1
        if len(header) != 2:
            continue
        first, count = int(header[0]), int(header[1])
        for n in range(count):
            match = _XREF_ENTRY.match(lines[i + n].strip())
            if match is None:
                raise NotMergeable("bad cross-reference entry")
            if match.group(3) == b"n":
                offsets.setdefault(first + n, int(match.group(1)))
                starts.add(int(match.group(1)))
        i += count
    trailer = data[trailer_at : data.index(b"startxref", trailer_at)]
    prev = _PREV.search(trailer)
    return trailer, int(prev.group(1)) if prev else None


def _objects(data: bytes) -> tuple[dict[int, bytes], int, int | None]:
    """{object number: its bytes between ``N 0 obj`` and ``endobj``}, the catalogue's number
    and the document information's (from the latest trailer). The objects an incremental
    update (a PAdES signature) replaced are those of the update."""
    try:
        start: int | None = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    except ValueError:
        raise NotMergeable("no startxref") from None
    offsets: dict[int, int] = {}
    starts: set[int] = set()
    sections: list[int] = []
    trailer = b""
    while start is not None and start not in sections:
        sections.append(start)
        section_trailer, start = _xref_section(data, start, offsets, starts)
        trailer = trailer or section_trailer
    ends = sorted({*starts, *sections})
    following = dict(zip(ends, ends[1:], strict=False))
    objects = {}
    for number, offset in offsets.items():
        chunk = data[offset : following.get(offset, len(data))]
        head_end = chunk.index(b"obj") + 3
        body_end = chunk.rindex(b"endobj")
        objects[number] = chunk[head_end:body_end].strip(b"\r\n ")
    root = _TRAILER_REF["Root"].search(trailer)
    info = _TRAILER_REF["Info"].search(trailer)
    if root is None:
        raise NotMergeable("no catalogue")
    return objects, int(root.group(1)), int(info.group(1)) if info else None


def _dictionary(body: bytes) -> tuple[bytes, bytes]:
    """(the object's dictionary or value, the stream part that follows it, if any)."""
    match = _STREAM.search(body)
    if match is None:
        return body, b""
    return body[: match.start() + 2], body[match.start() + 2 :]


def _ref(body: bytes, key: bytes) -> int | None:
    match = re.search(rb"/" + key + rb" (\d+) 0 R", body)
    return int(match.group(1)) if match else None


def _pdf_text(text: str) -> bytes:
    """A PDF text string (UTF-16BE with its byte order mark, in hex)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def merge(documents: Iterable[bytes], titles: Sequence[str], *, title: str) -> bytes:
    """One PDF of the pages of ``documents`` (one-page ReportLab PDFs, in order), with a
    bookmark per document (``titles``) and ``title`` in the document information."""
    copied = _Copied()
    for data in documents:
        copied.add(data)
    pages = copied.pages
    count = len(pages)
    marks = list(range(copied.next_number, copied.next_number + count))
    out = _Writer()
    out.write(b"%PDF-" + copied.version + b"\n%\xe2\xe3\xcf\xd3\n")
    kids_text = b" ".join(b"%d 0 R" % p for p in pages)
    outline = (
        b"<< /Type /Outlines /Count %d /First %d 0 R /Last %d 0 R >>" % (count, marks[0], marks[-1])
        if marks
        else b"<< /Type /Outlines /Count 0 >>"
    )
    out.obj(1, b"<< /Type /Catalog /Pages 2 0 R /Outlines 3 0 R /PageMode /UseOutlines >>")
    out.obj(2, b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (count, kids_text))
    out.obj(3, outline)
    out.obj(
        4, b"<< /Title " + _pdf_text(title) + b" /Creator (trainingmgr) /Producer (trainingmgr) >>"
    )
    for number, body in copied.objects:
        out.obj(number, body)
    for i, (mark, page) in enumerate(zip(marks, pages, strict=True)):
        links = b""
        if i:
            links += b" /Prev %d 0 R" % marks[i - 1]
        if i + 1 < count:
            links += b" /Next %d 0 R" % marks[i + 1]
        out.obj(
            mark,
            b"<< /Title "
            + _pdf_text(titles[i] if i < len(titles) else "")
            + b" /Parent 3 0 R /Dest [ %d 0 R /Fit ]" % page
            + links
            + b" >>",
        )
    return out.finish()


class _Copied:
    """The objects copied from the documents, renumbered: 1 catalogue, 2 page tree,
    3 outlines, 4 information; copied objects from 5 on, then the bookmarks (numbered once
    the number of objects is known)."""

    def __init__(self) -> None:
        self.version = b"1.4"
        self.next_number = 5
        self.pages: list[int] = []
        self.objects: list[tuple[int, bytes]] = []

    def add(self, data: bytes) -> None:
        """Copy one document's objects but its catalogue, page tree, outlines and
        information; its pages point at the merged page tree."""
        found = _VERSION.match(data)
        if found and found.group(1) > self.version:
            self.version = found.group(1)
        objects, root, info = _objects(data)
        catalogue, _stream = _dictionary(objects[root])
        tree = _ref(catalogue, b"Pages")
        outlines = _ref(catalogue, b"Outlines")
        if tree is None:
            raise NotMergeable("no page tree")
        kids = re.search(rb"/Kids\s*\[([^\]]*)\]", objects[tree])
        page_numbers = [int(n) for n in re.findall(rb"(\d+) 0 R", kids.group(1))] if kids else []
        skipped = {root, tree, *(n for n in (info, outlines) if n is not None)}
        first = self.next_number
        numbers = {n: first + i for i, n in enumerate(sorted(set(objects) - skipped))}
        self.next_number += len(numbers)

        def renumber(match: re.Match[bytes]) -> bytes:
            return b"%d 0 R" % numbers.get(int(match.group(1)), 0)

        for old, new in numbers.items():
            head, stream = _dictionary(objects[old])
            head = _REF.sub(renumber, head)
            if old in page_numbers:
                head = _PARENT.sub(b"/Parent 2 0 R", head)
            self.objects.append((new, head + stream))
        self.pages += [numbers[n] for n in page_numbers]


class _Writer:
    """The merged file's bytes, with the offset of each object for the cross-reference."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.size = 0
        self.offsets: list[int] = []

    def write(self, chunk: bytes) -> None:
        self.out.append(chunk)
        self.size += len(chunk)

    def obj(self, number: int, body: bytes) -> None:
        while len(self.offsets) < number:
            self.offsets.append(0)
        self.offsets[number - 1] = self.size
        self.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    def finish(self) -> bytes:
        """The cross-reference table and the trailer written, the file's bytes."""
        xref_at = self.size
        offsets = self.offsets
        entries = [b"0000000000 65535 f \n"] + [b"%010d 00000 n \n" % o for o in offsets]
        self.write(b"xref\n0 %d\n" % (len(offsets) + 1) + b"".join(entries))
        self.write(
            b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(offsets) + 1, xref_at)
        )
        return b"".join(self.out)
