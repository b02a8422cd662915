"""The Cloud Storage JSON API routes ``google-cloud-storage`` uses to upload training files:
simple (``uploadType=media``), multipart (files up to 8 MiB) and resumable (larger files, sent in
chunks answered with 308 until the last one), plus object/bucket reads and deletes. Every bucket
exists in the emulator."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import quote

from app.emulator.http import ApiError, Call, Reply
from app.emulator.state import ResumableUpload, StoredObject, md5_b64, rfc3339

_CONTENT_RANGE = re.compile(r"^bytes (?:(?P<start>\d+)-(?P<end>\d+)|\*)/(?P<total>\d+|\*)$")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')


def _stored_reply(stored: StoredObject) -> Reply:
    return Reply(body=stored.resource())


def _check_checksums(metadata: dict[str, Any], data: bytes, stored_md5: str) -> None:
    claimed = metadata.get("md5Hash")
    if claimed and claimed != stored_md5:
        raise ApiError(
            400, f'Provided MD5 hash "{claimed}" doesn\'t match calculated MD5 hash "{stored_md5}".'
        )


def _split_multipart(call: Call) -> tuple[dict[str, Any], bytes, str]:
    match = _BOUNDARY.search(call.headers.get("content-type", ""))
    if match is None:
        raise ApiError(400, "Multipart upload needs a multipart/related body with a boundary.")
    separator = b"--" + match.group(1).encode()
    body = call.body
    first = body.find(separator)
    second = body.find(separator, first + len(separator))
    last = body.rfind(separator)
    if first < 0 or second <= first or last <= second:
        raise ApiError(
            400, "Multipart upload body is malformed: expected metadata and media parts."
        )
    parts = []
    for chunk in (body[first + len(separator) : second], body[second + len(separator) : last]):
        headers, _sep, content = chunk.partition(b"\r\n\r\n")
        parts.append((headers.decode("latin-1").lower(), content.removesuffix(b"\r\n")))
    try:
        metadata = json.loads(parts[0][1] or b"{}")
    except json.JSONDecodeError:
        raise ApiError(400, "The metadata part of the multipart upload is not JSON.") from None
    media_type = re.search(r"content-type:\s*([^\r\n]+)", parts[1][0])
    return metadata, parts[1][1], media_type.group(1).strip() if media_type else ""


def _object_name(call: Call, metadata: dict[str, Any]) -> str:
    name = str(metadata.get("name") or call.query.get("name") or "")
    if not name:
        raise ApiError(400, "Required parameter: name")
    return name


def upload(call: Call) -> Reply:
    kind = call.query.get("uploadType", "")
    state, bucket = call.emulator.state, call.params["bucket"]
    if kind == "media":
        stored = state.put_object(
            bucket, _object_name(call, {}), call.body, call.headers.get("content-type", "")
        )
        return _stored_reply(stored)
    if kind == "multipart":
        metadata, data, media_type = _split_multipart(call)
        name = _object_name(call, metadata)
        _check_checksums(metadata, data, md5_b64(data))
        stored = state.put_object(
            bucket, name, data, metadata.get("contentType") or media_type, metadata.get("metadata")
        )
        return _stored_reply(stored)
    if kind == "resumable":
        metadata = call.json()
        upload_id = secrets.token_urlsafe(24)
        state.uploads[upload_id] = ResumableUpload(
            bucket=bucket,
            name=_object_name(call, metadata),
            content_type=call.headers.get("x-upload-content-type")
            or str(metadata.get("contentType") or ""),
            metadata=dict(metadata.get("metadata") or {}),
        )
        location = (
            f"{call.base_url}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
            f"?uploadType=resumable&upload_id={upload_id}"
        )
        return Reply(body=b"", headers={"Location": location}, content_type="text/plain")
    raise ApiError(
        400, f"Invalid upload type: {kind or '(none)'}. Use media, multipart or resumable."
    )


def upload_chunk(call: Call) -> Reply:
    state = call.emulator.state
    upload_id = call.query.get("upload_id", "")
    session = state.uploads.get(upload_id)
    if session is None:
        raise ApiError(404, "No such upload session; start the upload again.")
    match = _CONTENT_RANGE.match(call.headers.get("content-range", "").strip())
    if match is None:
        raise ApiError(
            400, "Content-Range must look like 'bytes 0-99/200', 'bytes 0-99/*' or 'bytes */200'."
        )
    if match["start"] is not None:
        if int(match["start"]) != len(session.data):
            raise ApiError(
                400,
                f"Chunk starts at byte {match['start']} but {len(session.data)} "
                "bytes were received so far.",
            )
        session.data.extend(call.body)
    total = match["total"]
    if total != "*" and len(session.data) >= int(total):
        del state.uploads[upload_id]
        stored = state.put_object(
            session.bucket,
            session.name,
            bytes(session.data),
            session.content_type,
            session.metadata,
        )
        return _stored_reply(stored)
    headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
    return Reply(status=308, body=b"", headers=headers, content_type="text/plain")


def bucket(call: Call) -> Reply:
    name = call.params["bucket"]
    return Reply(
        body={
            "kind": "storage#bucket",
            "id": name,
            "name": name,
            "location": "US-CENTRAL1",
            "storageClass": "STANDARD",
            "timeCreated": rfc3339(0),
            "metageneration": "1",
        }
    )


def _stored(call: Call) -> StoredObject:
    stored = call.emulator.state.object(call.params["bucket"], call.params["object"])
    if stored is None:
        raise ApiError(404, f"No such object: {call.params['bucket']}/{call.params['object']}")
    return stored


def get_object(call: Call) -> Reply:
    stored = _stored(call)
    if call.query.get("alt") == "media":
        data = call.emulator.state.read_object(stored.bucket, stored.name) or b""
        return Reply(body=data, content_type=stored.content_type)
    return _stored_reply(stored)


def delete_object(call: Call) -> Reply:
    stored = _stored(call)
    call.emulator.state.delete_object(stored.bucket, stored.name)
    return Reply(status=204, body=b"", content_type="text/plain")
