"""What may be stored: the settings of files (`config`), names normalised, types sniffed from
the bytes, the allowlist of each context, sizes, image limits and cleaning, SVG checks and the
quotas by trust level. Nothing here writes: `prepare_uploads` answers what would be stored."""

import csv
import hashlib
import io
import json
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy
from PIL import Image, ImageOps

from peerhub.exceptions import DomainError, TooLarge

from ..models import Blob

MORE_FILE_SPACE_PERMISSION = "challenges.more_file_space"
MB = 1024 * 1024
DEFAULTS = {
    # Per trust tier: the largest file, and the unique bytes one member may have stored.
    # `more` is for members holding MORE_FILE_SPACE_PERMISSION (reputation grants it by trust
    # level) and staff.
    "quotas": {
        "member": {"per_file": 5 * MB, "per_member": 50 * MB},
        "more": {"per_file": 25 * MB, "per_member": 500 * MB},
    },
    "files_per_revision": 50,
    "image_max_pixels": 40_000_000,  # a 8000 x 5000 photo; Pillow's bomb check uses the same
    "preview_bytes": 64 * 1024,  # text files larger than this are not previewed in the page
    "grace_hours": 24,  # unreferenced blobs younger than this stay (an upload may be under way)
}

IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
TEXT_TYPES = {"text/plain", "text/csv", "application/json"}
# What each context accepts, by sniffed type; the name's extension must agree (`EXTENSIONS`).
ALLOWED = {
    "solution": {
        *IMAGE_TYPES,
        *TEXT_TYPES,
        "image/svg+xml",
        "application/pdf",
        "application/zip",
        "model/stl",
    },
    # Order briefs, messages and deliveries (marketplace): documents, data, images, archives.
    "order": {*IMAGE_TYPES, *TEXT_TYPES, "application/pdf", "application/zip", "image/svg+xml"},
}
EXTENSIONS = {
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "image/svg+xml": {"svg"},
    "application/pdf": {"pdf"},
    "application/zip": {"zip", "3mf", "ods", "odt", "xlsx", "docx", "kmz"},
    "model/stl": {"stl"},
    "text/csv": {"csv", "tsv", "txt"},
    "application/json": {"json", "geojson"},
}
# Text may carry any extension (code, data, notes) except those a browser would run or render.
TEXT_REFUSED_EXTENSIONS = {"html", "htm", "xhtml", "xht", "svg", "xml", "xsl", "shtml", "mht"}
TYPE_LABELS = {
    "image/png": gettext_lazy("PNG image"),
    "image/jpeg": gettext_lazy("JPEG image"),
    "image/gif": gettext_lazy("GIF image"),
    "image/webp": gettext_lazy("WebP image"),
    "image/svg+xml": gettext_lazy("SVG drawing"),
    "application/pdf": gettext_lazy("PDF document"),
    "application/zip": gettext_lazy("ZIP archive"),
    "model/stl": gettext_lazy("STL model"),
    "text/plain": gettext_lazy("text"),
    "text/csv": gettext_lazy("CSV data"),
    "application/json": gettext_lazy("JSON data"),
}
NAME_MAX = 100
SVG_REFUSED = re.compile(
    rb"<\s*script|<\s*foreignObject|<\s*iframe|<\s*embed|<\s*object|<!ENTITY|javascript:"
    rb"|\son[a-z]+\s*=|(?:xlink:)?href\s*=\s*[\"']\s*(?!#)",
    re.IGNORECASE,
)


def config() -> dict:
    configured = getattr(settings, "PEERHUB_FILES", {})
    return {**DEFAULTS, **configured}


def type_label(content_type: str) -> str:
    return str(TYPE_LABELS.get(content_type, content_type))


# --- Names -----------------------------------------------------------------------------------


def normalise_name(raw: str) -> str:
    """A file name safe to store, show and put in a URL or a zip: one name (no folders), NFC,
    no control, format (bidi, zero-width) or separator characters, inner spaces kept."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise DomainError(gettext("A file needs a name."), code="file_name_required")
    if "/" in name or "\\" in name or name in {".", ".."} or name.startswith("."):
        raise DomainError(
            gettext("“{name}” is not a plain file name: no folders, no leading dot.").format(
                name=_shown(name)
            ),
            code="file_name_path",
        )
    for char in name:
        category = unicodedata.category(char)
        if category in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            raise DomainError(
                gettext(
                    "The name “{name}” holds an invisible or direction-changing character "
                    "({code}); rename the file."
                ).format(name=_shown(name), code=f"U+{ord(char):04X}"),
                code="file_name_characters",
            )
    name = re.sub(r"\s+", " ", name)
    if len(name) > NAME_MAX:
        raise DomainError(
            gettext("Keep file names under {limit} characters.").format(limit=NAME_MAX),
            code="file_name_too_long",
        )
    if "." not in name.strip("."):
        raise DomainError(
            gettext(
                "“{name}” has no extension: name it for what it is (photo.jpg, readings.csv)."
            ).format(name=name),
            code="file_name_extension",
        )
    return name


def _shown(name: str) -> str:
    """A refused name as it may be shown back: controls and bidi characters made visible."""
    return "".join(
        f"U+{ord(c):04X}" if unicodedata.category(c).startswith(("C", "Z")) and c != " " else c
        for c in name
    )[:NAME_MAX]


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


# --- Sniffing --------------------------------------------------------------------------------


def _is_binary_stl(data: bytes) -> bool:
    if len(data) < 84:
        return False
    triangles = int.from_bytes(data[80:84], "little")
    return len(data) == 84 + 50 * triangles


def _text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def sniff(data: bytes) -> str:
    """The content type of these bytes, from their first bytes and structure; never from the
    name. "application/octet-stream" when nothing on the allowlist matches."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "application/zip"
    if _is_binary_stl(data):
        return "model/stl"
    text = _text(data)
    if text is None:
        return "application/octet-stream"
    head = text.lstrip("\ufeff \t\r\n")[:1024].lower()
    if head.startswith("<svg") or (head.startswith("<?xml") and "<svg" in head):
        return "image/svg+xml"
    if head.startswith(("<!doctype html", "<html", "<?xml", "<script")):
        return "text/html"  # on no allowlist: a browser would render it
    if head.startswith("solid") and "facet" in text[:4096]:
        return "model/stl"
    if head.startswith(("{", "[")):
        try:
            json.loads(text)
        except ValueError:
            pass
        else:
            return "application/json"
    if _looks_like_csv(text):
        return "text/csv"
    return "text/plain"


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t")
    except csv.Error:
        return False
    counts = {len(row) for row in csv.reader(lines, dialect)}
    return len(counts) == 1 and counts.pop() > 1


# --- Preparing an upload ---------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedFile:
    """An upload checked and ready to store: the bytes as they will be kept (images without
    their metadata), their digest and sniffed type."""

    name: str
    data: bytes
    sha256: str
    content_type: str

    @property
    def size(self) -> int:
        return len(self.data)


def _read(upload, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(upload.name, limit)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(upload.name, limit)
    return data


def _too_large(name: str, limit: int) -> TooLarge:
    return TooLarge(
        gettext("“{name}” is larger than {size} MB, the largest file you may add.").format(
            name=_shown(name or ""), size=limit // MB
        ),
        code="file_too_large",
    )


def _clean_image(data: bytes, content_type: str, name: str) -> bytes:
    """Re-encode a raster image without its metadata (EXIF with GPS, comments, text chunks),
    refusing one whose pixel count is over the limit (a decompression bomb) before decoding."""
    limit = config()["image_max_pixels"]
    refusal = DomainError(
        gettext("“{name}” is over {limit} pixels; scale it down first.").format(
            name=name, limit=number_format(limit, force_grouping=True)
        ),
        code="image_too_large",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > limit:
                raise refusal
            if getattr(image, "n_frames", 1) > 1:
                # Animated GIF or WebP: frames are not re-encoded; GIF holds no EXIF, and a
                # WebP's EXIF chunk is dropped by saving all frames without it.
                if image.format == "GIF":
                    image.verify()
                    return data
                out = io.BytesIO()
                image.save(out, "WEBP", save_all=True, lossless=True)
                return out.getvalue()
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refusal from None
    except DomainError:
        raise
    except Exception:
        raise DomainError(
            gettext("“{name}” could not be read as an image.").format(name=name),
            code="image_unreadable",
        ) from None
    image = ImageOps.exif_transpose(image)  # keep the photo upright once the tag is gone
    out = io.BytesIO()
    fmt = IMAGE_TYPES[content_type]
    options: dict = {}
    if fmt == "JPEG":
        options = {"quality": 90, "optimize": True}
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
    elif fmt == "WEBP":
        options = {"lossless": True}
    if "icc_profile" in image.info:
        options["icc_profile"] = image.info["icc_profile"]
    image.save(out, fmt, **options)
    return out.getvalue()


def _check_svg(data: bytes, name: str) -> None:
    if SVG_REFUSED.search(data):
        raise DomainError(
            gettext(
                "“{name}” is an SVG with scripts, event handlers, entities or outside links; "
                "export it as a plain drawing."
            ).format(name=name),
            code="svg_unsafe",
        )


def check_kind(name: str, content_type: str, *, context: str) -> None:
    """Refuse a type the context does not accept, or a name that says another type than the
    bytes hold. Checked on upload, and again when an upload is attached under another name or
    in another context (challenges.uploads)."""
    if content_type not in ALLOWED[context]:
        raise DomainError(
            gettext(
                "“{name}” is not a kind of file PeerHub accepts here ({kind}). "
                "Images, PDF, SVG, STL, ZIP, CSV, JSON and text or code files are."
            ).format(name=name, kind=type_label(content_type)),
            code="file_type",
        )
    ext = extension(name)
    if content_type in TEXT_TYPES:
        binary = set().union(
            *(names for kind, names in EXTENSIONS.items() if kind not in TEXT_TYPES)
        )
        valid = ext not in TEXT_REFUSED_EXTENSIONS and ext not in binary - {"txt"}
    else:
        valid = ext in EXTENSIONS.get(content_type, set())
    if not valid:
        raise DomainError(
            gettext(
                "“{name}” holds {kind}, which does not match its name; rename it to what it is."
            ).format(name=name, kind=type_label(content_type)),
            code="file_type_mismatch",
        )


def prepare_upload(upload, *, context: str = "solution", per_file: int) -> PreparedFile:
    """Check one upload (a Django UploadedFile or any object with `name` and `read`) and
    return what will be stored. Raises DomainError with a message for the member."""
    name = normalise_name(getattr(upload, "name", ""))
    data = _read(upload, per_file)
    if not data:
        raise DomainError(gettext("“{name}” is empty.").format(name=name), code="file_empty")
    content_type = sniff(data)
    check_kind(name, content_type, context=context)
    if content_type in IMAGE_TYPES:
        data = _clean_image(data, content_type, name)
    elif content_type == "image/svg+xml":
        _check_svg(data, name)
    return PreparedFile(
        name=name, data=data, sha256=hashlib.sha256(data).hexdigest(), content_type=content_type
    )


# --- Quotas ----------------------------------------------------------------------------------


def quota_for(user) -> dict[str, int]:
    """The member's limits: asked through the permission system (reputation answers by trust
    level), never by reading reputation."""
    tiers = config()["quotas"]
    more = getattr(user, "is_staff", False) or (
        getattr(user, "is_authenticated", False) and user.has_perm(MORE_FILE_SPACE_PERMISSION)
    )
    return tiers["more" if more else "member"]


def stored_bytes_of(user) -> int:
    """The unique bytes this member stored first (shared blobs count once, for their first
    uploader; forks and kept files cost nothing)."""
    return Blob.objects.filter(uploaded_by=user).aggregate(total=Sum("size"))["total"] or 0


def prepare_uploads(uploads: Iterable, *, user, context: str = "solution") -> list[PreparedFile]:
    per_file = quota_for(user)["per_file"]
    prepared = [prepare_upload(upload, context=context, per_file=per_file) for upload in uploads]
    names = [p.name for p in prepared]
    if len(set(names)) != len(names):
        raise DomainError(gettext("Two files have the same name."), code="file_name_duplicate")
    return prepared
