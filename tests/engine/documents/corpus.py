"""Documents made by the tests: well-formed ones with headings and pages, and hostile ones."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

PAGE_WORDS = {
    1: "apples orchards harvest",
    2: "bridges rivers engineering",
    3: "comets telescopes astronomy",
    4: "dolphins oceans migration",
    5: "engines turbines aviation",
    6: "forests rainfall ecology",
}


def page_text(page: int, repeat: int = 12) -> str:
    """Distinctive text for one page: its topic words, repeated into sentences."""
    words = PAGE_WORDS[(page - 1) % len(PAGE_WORDS) + 1]
    return " ".join(f"Page {page} discusses {words} in detail, sentence {i}." for i in range(repeat))


def make_pdf(path: Path, pages: int = 3, repeat: int = 12) -> Path:
    """A multi-page PDF with a heading per page ("Chapter N: topic") and body text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 16)
        pdf.cell(text=f"Chapter {page}: {PAGE_WORDS[(page - 1) % 6 + 1].split()[0]}")
        pdf.ln(12)
        pdf.set_font("helvetica", size=8)
        pdf.multi_cell(0, 4, text=page_text(page, repeat))
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Findings", 1)
    document.add_paragraph("Revenue grew in every region.")
    document.add_heading("Next steps", 1)
    document.add_paragraph("Hire two engineers before March.")
    document.save(str(path))
    return path


def encrypted_pdf(path: Path, user_password: str = "secret") -> Path:
    from pypdf import PdfReader, PdfWriter

    source = make_pdf(path.with_suffix(".plain.pdf"), pages=1)
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    writer.write(str(path))
    return path


def deflate_bomb_pdf(path: Path, megabytes: int = 200) -> Path:
    """A one-page PDF whose content stream inflates to `megabytes` MB of spaces."""
    compressor = zlib.compressobj(9)
    block = b" " * 2**20
    stream = b"".join(compressor.compress(block) for _ in range(megabytes)) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    path.write_bytes(out.getvalue())
    return path


def zip_bomb_docx(path: Path, megabytes: int = 100) -> Path:
    """A real .docx with an extra part that inflates to `megabytes` MB of zeros."""
    make_docx(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/media/bomb.bin", "w", force_zip64=True) as part:
            block = b"\0" * 2**20
            for _ in range(megabytes):
                part.write(block)
    return path


def sparse_text(path: Path, size: int = 500 * 2**20) -> Path:
    """A 500 MB 'text' file that costs no disk (sparse)."""
    with open(path, "wb") as file:
        file.write(b"The start of a very long text.\n")
        file.truncate(size)
    return path
