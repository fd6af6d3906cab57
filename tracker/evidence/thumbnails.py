"""Thumbnails of image evidence (photos from the field), made on the server with Pillow.

* **What is served.** Never the original: a new image at most ``SIZE`` pixels on its longer
  side, turned upright by its EXIF orientation, re-encoded as WebP (JPEG where this Pillow has
  no WebP) from bare pixels, so no EXIF (GPS position, camera serial), XMP or ICC data of the
  original reaches the page. The original stays byte for byte as uploaded (it is the evidence)
  and is served only by the download route.
* **Where.** Beside the original, content-addressed: ``UPLOAD_DIR/3f/3fa9...-160.webp`` is the
  160-pixel thumbnail of the file whose SHA-256 is ``3fa9...``. The name follows from the
  original's hash, so no column records it (no migration) and the same photo attached to two
  items has one thumbnail.
* **When.** At upload (``storage.store_upload``); for images stored before thumbnails existed,
  on the first request for one (``routes.thumbnail``), or all at once with
  ``flask evidence thumbnails``.
* **Decompression bombs.** An image whose header claims more than ``Image.MAX_IMAGE_PIXELS``
  pixels (Pillow's default, about 89 megapixels: a 12,000 × 7,450 photo) is refused at upload
  with its size in the message, before any pixel is decoded. A file Pillow cannot read at all
  is still accepted (its type was checked from its first bytes) but gets no thumbnail.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path
from struct import error as struct_error

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError, features

from ..formatting import number
from ..validation import InputError

SIZE = 160
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
FORMAT, CONTENT_TYPE, SUFFIX = (("WEBP", "image/webp", "webp") if features.check("webp")
                                else ("JPEG", "image/jpeg", "jpg"))


class ImageTooLarge(InputError):
    """An image with more pixels than Pillow's MAX_IMAGE_PIXELS (a decompression bomb, or a
    scan far larger than evidence needs)."""


def is_image(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in IMAGE_TYPES


def path_for(original: Path) -> Path:
    """The thumbnail's path beside the original (``<sha256>-160.webp``)."""
    return original.with_name(f"{original.name}-{SIZE}.{SUFFIX}")


def _header_size(path: Path, kind: str) -> tuple[int, int] | None:
    """The pixel size the file's header states, read by the format's own Pillow class (which,
    unlike ``Image.open``, does not refuse a bomb before we can say how large it is)."""
    from PIL import GifImagePlugin, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

    opener = {"png": PngImagePlugin.PngImageFile, "jpeg": JpegImagePlugin.JpegImageFile,
              "gif": GifImagePlugin.GifImageFile, "webp": WebPImagePlugin.WebPImageFile}.get(kind)
    if opener is None:
        return None
    try:
        with opener(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct_error):
        return None


def check_pixels(path: Path, name: str, kind: str) -> None:
    """Refuse an image whose header claims more pixels than Pillow's limit (nothing decoded).

    A file Pillow cannot read passes: its type was already checked from its first bytes."""
    limit = Image.MAX_IMAGE_PIXELS
    size = _header_size(path, kind)
    if not limit or size is None or size[0] * size[1] <= limit:
        return
    raise ImageTooLarge(_("%(name)s is %(width)s × %(height)s pixels, more than the %(limit)s megapixels an image "
                          "may have. Nothing was saved; save the image smaller (a phone photo is about "
                          "12 megapixels) and upload it again.", name=name, width=number(size[0]),
                          height=number(size[1]), limit=limit // 1_000_000), field="file")


def render(original: Path) -> bytes | None:
    """The thumbnail's bytes, or None when the image cannot be read (damaged, too large)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(original) as image:
                image.draft("RGB", (SIZE * 2, SIZE * 2))  # JPEG: decode at a fraction of the size
                image.seek(0)  # an animated GIF or WebP: its first frame
                upright = ImageOps.exif_transpose(image)
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
                    upright.mode == "P" and "transparency" in upright.info)
                mode = "RGBA" if has_alpha and FORMAT == "WEBP" else "RGB"
                small = upright.convert(mode)
                small.thumbnail((SIZE, SIZE), Image.Resampling.LANCZOS)
                # Bare pixels only: nothing of the original's metadata is carried over.
                clean = Image.frombytes(mode, small.size, small.tobytes())
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    out = io.BytesIO()
    clean.save(out, FORMAT, quality=80, **({"method": 4} if FORMAT == "WEBP" else {"optimize": True}))
    return out.getvalue()


def ensure(original: Path) -> Path | None:
    """The thumbnail of the stored file ``original``, made now if missing; None when it cannot
    be made. Written atomically (another worker may make the same one at the same time)."""
    target = path_for(original)
    if target.is_file():
        return target
    if not original.is_file():
        return None
    data = render(original)
    if data is None:
        return None
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".thumb-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temp_name, 0o640)
        os.replace(temp_name, target)
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return target


def is_thumbnail_name(name: str, known: set[str]) -> bool:
    """True for ``<sha>-160.webp`` of a known original (``verify`` does not call it a stray)."""
    sha, _dash, rest = name.partition("-")
    return sha in known and rest == f"{SIZE}.{SUFFIX}"
