"""Photos as evidence: the camera input, thumbnails made on the server (upright, small, re-encoded,
without the original's EXIF), served from their own route with the item's permission check,
huge-pixel images refused, the original untouched and served as before."""

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import running_app
from tracker.evidence import storage, thumbnails
from tracker.extensions import db
from tracker.models import EvidenceItem, StoredFile


def photo_bytes(size=(1200, 800), orientation=6, gps=True) -> bytes:
    """A JPEG as a phone writes it: landscape pixels, an EXIF orientation (6: turn 90° clockwise
    to view) and a GPS position in its EXIF."""
    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((30, 90, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[0x8825] = {1: "N", 2: (16.0, 27.0, 48.0), 3: "E", 4: (107.0, 35.0, 24.0)}  # Huế
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` pixels, with one tiny compressed row: what a
    decompression bomb looks like before it is decoded."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
            + chunk(b"IEND", b""))


def post_item(client, demo, name, data, field="file", **values):
    form = {"kind": "photo", "title": values.pop("title", "Ảnh hội thảo Huế"), "language": "vi", **values}
    form[field] = (io.BytesIO(data), name)
    return client.post(f"/projects/{demo}/evidence/new", data=form, content_type="multipart/form-data")


def added_item(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return int(re.search(r"/evidence/(\d+)$", response.headers["Location"]).group(1))


def stored_of(app, item_id) -> StoredFile:
    with app.app_context():
        item = db.session.get(EvidenceItem, item_id)
        db.session.expunge(item.file)
        return item.file


def thumbnail_url(html: str) -> str:
    return re.search(r'<img class="evidence-thumb[^"]*" src="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_a_photo_gets_an_upright_small_thumbnail_without_its_exif(app, client, auth, demo):
    auth.login("officer")
    original = photo_bytes()
    item_id = added_item(post_item(client, demo, "IMG_2041.jpg", original, field="photo"))
    stored = stored_of(app, item_id)
    with app.app_context():
        beside = storage.path_for(stored.sha256)
        made = thumbnails.path_for(beside)
    assert made.parent == beside.parent and made.name == f"{stored.sha256}-160.webp"
    assert made.is_file()  # made at upload, stored beside the original

    register = client.get(f"/projects/{demo}/evidence").get_data(as_text=True)
    url = thumbnail_url(register)
    assert url == f"/projects/{demo}/evidence/{item_id}/thumbnail?v={stored.sha256[:16]}"
    assert thumbnail_url(client.get(f"/projects/{demo}/evidence/{item_id}").get_data(as_text=True)) == url

    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert "max-age=31536000" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data != original and len(response.data) < len(original) / 5
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "WEBP"
    assert image.size == (107, 160)  # 1200 × 800 turned upright (orientation 6), then at most 160 px
    assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info
    rgb = image.convert("RGB")
    assert rgb.getpixel((53, 10))[2] > 150 and rgb.getpixel((53, 150))[0] > 150  # blue on top after turning

    # The original is untouched (its EXIF is evidence too) and still served by the download route only.
    download = client.get(f"/projects/{demo}/evidence/{item_id}/file")
    assert download.data == original and "no-store" in download.headers["Cache-Control"]
    assert download.headers["Content-Disposition"].startswith("inline;")  # images open in the browser, as before
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_without_the_hash_in_the_address_the_thumbnail_is_not_kept(app, client, auth, demo):
    auth.login("officer")
    item_id = added_item(post_item(client, demo, "photo.png", _png((640, 480))))
    response = client.get(f"/projects/{demo}/evidence/{item_id}/thumbnail?v=0000000000000000")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-cache"
    assert Image.open(io.BytesIO(response.data)).size == (160, 120)


def _png(size, mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 60, 128) if mode == "RGBA" else 90).save(out, "PNG")
    return out.getvalue()


def test_a_document_gets_no_thumbnail(app, client, auth, demo):
    auth.login("officer")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    item_id = added_item(post_item(client, demo, "agenda.pdf", pdf, title="Chương trình hội thảo"))
    page = client.get(f"/projects/{demo}/evidence/{item_id}").get_data(as_text=True)
    assert "evidence-thumb" not in page
    assert client.get(f"/projects/{demo}/evidence/{item_id}/thumbnail").status_code == 404
    with app.app_context():
        assert not list(storage.upload_dir().glob("*/*-160.*"))


def test_the_thumbnail_route_checks_the_item_like_its_page(app, client, auth, demo, other_project):
    auth.login("officer")
    item_id = added_item(post_item(client, demo, "photo.jpg", photo_bytes()))
    url = f"/projects/{demo}/evidence/{item_id}/thumbnail"
    auth.logout()
    auth.login("other-manager")  # a member of another project only
    assert client.get(url).status_code == 404
    assert client.get(f"/projects/{other_project.id}/evidence/{item_id}/thumbnail").status_code == 404
    auth.logout()
    assert client.get(url).status_code == 302  # to the login page
    auth.login("auditor")
    assert client.get(url).status_code == 200


def test_a_huge_pixel_image_is_refused_with_its_size_and_nothing_is_stored(app, client, auth, demo):
    auth.login("officer")
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(StoredFile)).scalar()
    response = post_item(client, demo, "panorama.png", png_header_only(30_000, 30_000), field="photo")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "panorama.png is 30,000 × 30,000 pixels, more than the 89 megapixels an image may have." in html
    assert re.search(r'<p class="field-error" id="photo-error">[^<]*30,000', html)  # next to the photo input
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(StoredFile)).scalar() == before
        assert not [p for p in storage.upload_dir().rglob("*") if p.is_file() and ".incoming" not in p.parts]


def test_a_large_photo_is_accepted_up_to_the_limit_and_refused_above_it(databases, tmp_path):
    with running_app(databases, tmp_path, MAX_UPLOAD_MB=1) as app:
        client = app.test_client()
        from tests.conftest import Auth
        auth = Auth(client)
        auth.login("officer")
        from tracker.demo.loader import demo_project
        with app.app_context():
            demo = demo_project().id
        noisy = Image.effect_noise((1000, 700), 120).convert("RGB")  # noise does not compress
        out = io.BytesIO()
        noisy.save(out, "JPEG", quality=95)
        big = out.getvalue()
        assert 500_000 < len(big) < 1024 * 1024
        item_id = added_item(post_item(client, demo, "field.jpg", big, field="photo"))
        assert client.get(f"/projects/{demo}/evidence/{item_id}/thumbnail").status_code == 200
        above = big + b"\0" * (1024 * 1024 - len(big) + 10)  # just above the limit
        response = post_item(client, demo, "field2.jpg", above, field="photo")
        assert response.status_code == 413
        assert "larger than the limit of 1 MB. Nothing was saved." in response.get_data(as_text=True)


def test_choosing_a_file_and_taking_a_photo_at_once_is_refused(app, client, auth, demo):
    auth.login("officer")
    form = {"kind": "photo", "title": "Hai tệp", "photo": (io.BytesIO(photo_bytes()), "a.jpg"),
            "file": (io.BytesIO(_png((10, 10))), "b.png")}
    response = client.post(f"/projects/{demo}/evidence/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file or take a photo, not both" in response.get_data(as_text=True)


def test_the_form_offers_the_camera_and_the_accepted_types(client, auth, demo):
    auth.login("officer")
    html = client.get(f"/projects/{demo}/evidence/new").get_data(as_text=True)
    photo = re.search(r'<input ([^>]*)name="photo"[^>]*>', html).group(0)
    assert 'capture="environment"' in photo
    assert 'accept="image/gif,image/jpeg,image/png,image/webp"' in photo  # images only: capture applies
    document = re.search(r'<input ([^>]*)name="file"[^>]*>', html).group(0)
    assert "capture" not in document and "application/pdf" in document and ".docx" in document
    assert '<label for="photo">Take a photo</label>' in html


def test_an_image_stored_before_thumbnails_gets_one_on_first_request_and_from_the_cli(app, client, auth, demo):
    auth.login("officer")
    item_id = added_item(post_item(client, demo, "old.jpg", photo_bytes(gps=False)))
    stored = stored_of(app, item_id)
    with app.app_context():
        made = thumbnails.path_for(storage.path_for(stored.sha256))
    made.unlink()
    assert client.get(f"/projects/{demo}/evidence/{item_id}/thumbnail").status_code == 200
    assert made.is_file()
    made.unlink()
    result = app.test_cli_runner().invoke(args=["evidence", "thumbnails"])
    assert result.exit_code == 0 and "1 made" in result.output, result.output
    assert made.is_file()
    verify = app.test_cli_runner().invoke(args=["evidence", "verify"])
    assert verify.exit_code == 0 and "unreferenced" not in verify.output  # a thumbnail is not a stray


def test_a_damaged_image_is_kept_without_a_thumbnail(app, client, auth, demo):
    auth.login("officer")
    damaged = b"\xff\xd8\xff\xe0" + b"\x13" * 400
    item_id = added_item(post_item(client, demo, "broken.jpg", damaged))
    assert client.get(f"/projects/{demo}/evidence/{item_id}/thumbnail").status_code == 404


@pytest.mark.parametrize("mode", ["RGBA", "L"])
def test_thumbnails_of_png_keep_their_shape(app, mode):
    with app.app_context():
        folder = storage.upload_dir() / "ab"
        folder.mkdir(parents=True, exist_ok=True)
        original = folder / ("ab" + "0" * 62)
        original.write_bytes(_png((320, 1000), mode))
        made = thumbnails.ensure(original)
    image = Image.open(made)
    assert image.size == (51, 160) and Path(made).name.endswith("-160.webp")
