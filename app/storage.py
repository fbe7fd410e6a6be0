"""Stored files: run PDFs, photos and waiting imports, on the local disk or in an S3-compatible store.

Every web node and worker reads and writes them through `storage()`, built once per application from
STORAGE_URL: unset, the instance directory (keys are paths under it, so an existing instance keeps its
files where they are); `s3://<bucket>`, that bucket at S3_ENDPOINT_URL, with boto3's own credentials
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). A key is a relative path in one of the stored areas
(`runs/run-<id>.pdf`, `uploads/<photo>.jpg`, `imports/<…>`): the instance's database and keys are never one.

Invariants, the same on both backends (tests/test_storage.py runs one contract on each):
- a put is atomic: a reader sees the old object, or no object, or the whole new one, never part of it;
- a missing key raises `KeyMissing` (a FileNotFoundError), a key that is no plain relative path in a
  stored area raises `BadKey` (a ValueError) before anything is touched;
- `open` returns a stream read in chunks: a 50 MB object is never held in memory whole.
"""
from __future__ import annotations

import os
import secrets
import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol

from flask import Response, current_app, redirect, send_file

# The top-level folders a key may live in. Anything else in the instance directory (the SQLite database,
# the secret and stamp keys, the job queue) is out of reach of storage keys.
AREAS = ("runs", "uploads", "imports")
# Names a local put writes before its rename, and the run renderer's scratch files: never keys.
PARTIAL_SUFFIXES = (".partial", ".tmp")
PRESIGNED_SECONDS = 300  # a download link works for five minutes: enough to start it, too short to share


class KeyMissing(FileNotFoundError):
    """No object is stored under this key."""


class BadKey(ValueError):
    """The key is not a plain relative path inside a stored area (absolute, `..`, empty parts…)."""


def check_key(key: str) -> str:
    """Return the key if it is a plain relative path inside one of AREAS; raise BadKey otherwise."""
    parts = key.split("/") if isinstance(key, str) else []
    if (not parts or parts[0] not in AREAS or len(parts) < 2 or "\\" in key or "\x00" in key
            or any(part in ("", ".", "..") for part in parts)):
        raise BadKey(f"not a storage key: {key!r}")
    return key


def content_disposition(filename: str) -> str:
    """`attachment` with the file name, ASCII in `filename`, and the exact name in RFC 5987 `filename*`."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    quoted = urllib.parse.quote(filename, safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


class Storage(Protocol):
    """What the application needs of a file store; LocalStorage and S3Storage both keep this contract."""

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store a copy of the local file `path` under `key`, atomically (the file itself is left alone)."""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, atomically."""

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the object (use it in a `with` block); KeyMissing if there is none."""

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """The object's size in bytes; KeyMissing if there is none."""

    def modified(self, key: str) -> float:
        """When the object was stored, in seconds since the epoch; KeyMissing if there is none."""

    def delete(self, key: str) -> None:
        """Remove the object; nothing happens if there is none."""

    def keys(self, prefix: str) -> Iterator[str]:
        """Every stored key starting with `prefix`, in sorted order."""

    def download_url(self, key: str, filename: str, content_type: str, expires: int) -> str | None:
        """A URL the browser can fetch the object from for `expires` seconds, as an attachment named
        `filename`; None when the store has no such URLs (the local disk): the app sends the file."""


class LocalStorage:
    """Files under the instance directory: key `runs/run-7.pdf` is `<root>/runs/run-7.pdf`. An area may be
    mapped to a folder of its own (`uploads` to UPLOAD_FOLDER), as existing instances keep it."""

    def __init__(self, root: Path | str, folders: dict[str, Path | str] | None = None) -> None:
        self.root = Path(root).resolve()
        self.folders = {area: Path((folders or {}).get(area) or self.root / area).resolve() for area in AREAS}

    def path(self, key: str) -> Path:
        """The file a key names. Resolved and checked: even through a symlink, it stays in its area."""
        area, _, rest = check_key(key).partition("/")
        folder = self.folders[area]
        path = (folder / rest).resolve()
        if folder not in path.parents:
            raise BadKey(f"not a storage key: {key!r}")
        return path

    def _write_atomically(self, key: str, write) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
        try:
            write(partial)
            os.replace(partial, target)  # readers see the old file or the new one, never a part
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self._write_atomically(key, lambda partial: shutil.copyfile(path, partial))

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._write_atomically(key, lambda partial: partial.write_bytes(data))

    def open(self, key: str) -> BinaryIO:
        path = self.path(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise KeyMissing(key) from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def _stat(self, key: str) -> os.stat_result:
        path = self.path(key)
        if not path.is_file():
            raise KeyMissing(key)
        return path.stat()

    def size(self, key: str) -> int:
        return self._stat(key).st_size

    def modified(self, key: str) -> float:
        return self._stat(key).st_mtime

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        found = []
        for area, folder in self.folders.items():
            if not folder.is_dir() or not (area.startswith(prefix) or prefix.startswith(area + "/")):
                continue
            for path in folder.rglob("*"):
                if path.is_file() and not path.name.startswith(".") and not path.name.endswith(PARTIAL_SUFFIXES):
                    key = f"{area}/{path.relative_to(folder).as_posix()}"
                    if key.startswith(prefix):
                        found.append(key)
        return iter(sorted(found))

    def download_url(self, key: str, filename: str, content_type: str, expires: int) -> None:
        return None


class S3Storage:
    """Objects in one bucket of an S3-compatible store. Credentials come from boto3's standard sources
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY…). An S3 object appears whole when its upload completes,
    so every put is atomic; large files go through boto3's managed (multipart) transfer."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str = "us-east-1") -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or "us-east-1",
            # SigV4 for presigned URLs (SeaweedFS, MinIO and AWS all accept it); path-style addressing for
            # a store of our own, whose bucket names are not host names.
            # A store that does not answer fails a request within seconds instead of holding a web worker.
            config=Config(signature_version="s3v4", retries={"mode": "standard"}, connect_timeout=5, read_timeout=60,
                          s3={"addressing_style": "path" if endpoint_url else "auto"}),
        )

    def _missing(self, error) -> bool:
        code = str(error.response.get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def _head(self, key: str) -> dict:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise KeyMissing(key) from exc
            raise

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self.client.upload_file(str(path), self.bucket, check_key(key), ExtraArgs={"ContentType": content_type})

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type)

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
        except ClientError as exc:
            if self._missing(exc):
                raise KeyMissing(key) from exc
            raise

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except KeyMissing:
            return False
        return True

    def size(self, key: str) -> int:
        return self._head(key)["ContentLength"]

    def modified(self, key: str) -> float:
        return self._head(key)["LastModified"].timestamp()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"]

    def download_url(self, key: str, filename: str, content_type: str, expires: int) -> str:
        return self.client.generate_presigned_url("get_object", ExpiresIn=expires, Params={
            "Bucket": self.bucket, "Key": check_key(key),
            "ResponseContentDisposition": content_disposition(filename), "ResponseContentType": content_type,
        })


def storage_from_config(config: dict, instance_path: str) -> Storage:
    """The store STORAGE_URL names: unset, the instance directory; `s3://<bucket>`, that bucket."""
    url = config.get("STORAGE_URL") or ""
    if not url:
        return LocalStorage(instance_path, {"uploads": config.get("UPLOAD_FOLDER")})
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise RuntimeError(f"STORAGE_URL must be empty or s3://<bucket>, not {url!r}")
    return S3Storage(parsed.netloc, config.get("S3_ENDPOINT_URL") or None, config.get("S3_REGION") or "us-east-1")


def storage() -> Storage:
    """The current application's store, built once per application."""
    app = current_app._get_current_object()
    store = app.extensions.get("storage")
    if store is None:
        store = app.extensions["storage"] = storage_from_config(app.config, app.instance_path)
    return store


def remove_older_than(store: Storage, prefix: str, cutoff: float) -> int:
    """Delete the objects under `prefix` stored before `cutoff` (seconds since the epoch); return how many.
    One that goes away meanwhile (another node removed or committed it) is simply skipped."""
    removed = 0
    for key in list(store.keys(prefix)):
        try:
            if store.modified(key) < cutoff:
                store.delete(key)
                removed += 1
        except KeyMissing:
            pass
    return removed


@dataclass(frozen=True)
class Stored:
    """An object to send: its key, type, and the attachment name when it is a download (None: inline)."""
    key: str
    content_type: str
    download_name: str | None = None


def send_stored(stored: Stored, max_age: int = 0, presign: bool = True) -> Response:
    """Answer with a stored object. Local: the file, as send_file sends it. S3: a download may be a redirect
    to a short-lived presigned URL (when `presign` and S3_PRESIGN allow; the browser then fetches it from
    the store directly); otherwise the object is streamed through the app in chunks, never read whole.
    KeyMissing propagates, for the caller to answer 404 or "not ready"."""
    store = storage()
    attachment = stored.download_name is not None
    if isinstance(store, LocalStorage):
        path = store.path(stored.key)
        if not path.is_file():
            raise KeyMissing(stored.key)
        return send_file(path, mimetype=stored.content_type, as_attachment=attachment,
                         download_name=stored.download_name, max_age=max_age, conditional=True)
    if attachment and presign and current_app.config.get("S3_PRESIGN", True):
        store.size(stored.key)  # raises KeyMissing before anything is signed
        url = store.download_url(stored.key, stored.download_name, stored.content_type, PRESIGNED_SECONDS)
        response = redirect(url, 302)
        response.headers["Cache-Control"] = "no-store"  # the link expires: no cache may keep the redirect
        return response
    size = store.size(stored.key)
    response = send_file(store.open(stored.key), mimetype=stored.content_type, as_attachment=attachment,
                         download_name=stored.download_name, max_age=max_age, etag=False, conditional=False)
    response.content_length = size
    return response
