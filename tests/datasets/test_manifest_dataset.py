"""Tests for ManifestDataset: JSON Lines format, error messages, whole-or-nothing saves, S3."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import boto3
import pytest
from kedro.io import DataCatalog, DatasetError, Version

import review_sentiment
from review_sentiment import files
from review_sentiment.datasets import ManifestDataset, ManifestError
from tests.datasets import disk_full_halfway

LINES = [
    {"source": "Très bon produit, livraison rapide 👍", "review_id": "r-1"},
    {"source": "質が悪い。二度と買わない。", "review_id": "r-2", "rating": 1},
    {"source": "Okay\u2028ish, \"quoted\"\nnew line", "review_id": "r-3", "meta": None},
]


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    return tmp_path / "input.manifest"


@pytest.fixture
def saved_manifest(manifest_path: Path) -> bytes:
    """An existing manifest on disk; returns its bytes."""
    ManifestDataset(filepath=str(manifest_path)).save(LINES)
    return manifest_path.read_bytes()


# --- format ------------------------------------------------------------------


def test_save_then_load_round_trips_unicode_text(manifest_path):
    dataset = ManifestDataset(filepath=str(manifest_path))

    dataset.save(LINES)
    loaded = dataset.load()

    assert loaded == LINES


def test_save_writes_one_compact_utf8_object_per_line(manifest_path):
    dataset = ManifestDataset(filepath=str(manifest_path))

    dataset.save([{"source": "é 👍", "n": 1}, {"source": "b"}])

    assert manifest_path.read_bytes() == '{"source":"é 👍","n":1}\n{"source":"b"}\n'.encode()


def test_load_ignores_blank_lines_at_the_end_of_the_file(manifest_path):
    manifest_path.write_bytes(b'{"a":1}\n{"b":2}\n\n  \n')

    loaded = ManifestDataset(filepath=str(manifest_path)).load()

    assert loaded == [{"a": 1}, {"b": 2}]


def test_load_accepts_a_byte_order_mark_and_crlf(manifest_path):
    # Windows editors save UTF-8 with a BOM and CRLF; Ground Truth accepts both.
    manifest_path.write_bytes(b'\xef\xbb\xbf{"source":"a"}\r\n{"source":"b"}\r\n')

    loaded = ManifestDataset(filepath=str(manifest_path)).load()

    assert loaded == [{"source": "a"}, {"source": "b"}]


def test_load_keeps_a_genuine_replacement_character(manifest_path):
    manifest_path.write_bytes('{"source":"odd \ufffd byte"}\n'.encode())

    assert ManifestDataset(filepath=str(manifest_path)).load() == [{"source": "odd \ufffd byte"}]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b'{"a":1}\n{"a":1}\n{"a" 1}\n',
            "line 3 of {path}: json: not valid JSON (Expecting ':' delimiter at column 6)",
        ),
        (b'{"a":1}\n[1, 2]\n', "line 2 of {path}: json: expected a JSON object, got list"),
        (b'{"a":1}\n"text"\n', "line 2 of {path}: json: expected a JSON object, got str"),
        (
            b'{"a":1}\n\n{"a":2}\n',
            "line 2 of {path}: json: blank line (only the end of a file may be blank)",
        ),
        (b'{"a":NaN}\n', "line 1 of {path}: json: not valid JSON (NaN is not allowed in JSON)"),
        (
            b'{"a":1}\n{"a":"\xff"}\n',
            "line 2 of {path}: encoding: not valid UTF-8 (byte 0xff at column 7: invalid start byte)",
        ),
        (
            b'{"source":"' + b"a" * 20_001 + b'"}\n',
            "line 1 of {path}: source: 20,001 characters; Ground Truth takes at most 20,000 "
            "per attribute",
        ),
    ],
    ids=["invalid-json", "array", "string", "blank-middle-line", "nan", "invalid-utf8", "too-long"],
)
def test_load_error_names_file_line_and_field(manifest_path, content, problem):
    manifest_path.write_bytes(content)
    dataset = ManifestDataset(filepath=str(manifest_path))

    with pytest.raises(ManifestError) as raised:
        dataset.load()

    assert str(raised.value) == problem.format(path=str(manifest_path))


def test_manifest_error_is_a_value_error():
    assert issubclass(ManifestError, ValueError)


def test_load_of_missing_file_raises_dataset_error_naming_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "missing.manifest"
    dataset = ManifestDataset(filepath=str(missing))

    with pytest.raises(DatasetError, match=str(missing)) as raised:
        dataset.load()

    assert not isinstance(raised.value, ManifestError)


def test_exists_is_false_until_saved(manifest_path):
    dataset = ManifestDataset(filepath=str(manifest_path))
    assert not dataset.exists()

    dataset.save(LINES)

    assert dataset.exists()


def test_open_args_save_is_rejected_with_a_pointer_to_the_alternative(manifest_path):
    with pytest.raises(DatasetError, match="open_args_save"):
        ManifestDataset(filepath=str(manifest_path), fs_args={"open_args_save": {"mode": "w"}})


# --- whole-or-nothing saves ---------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([{"a": 1}, {"a": 2}, ["not", "a", "dict"]], "element 2 .*expected a dict, got list"),
        ([{"a": 1}, {"a": 2}, {"tags": {"set"}}], "element 2 .*not serialisable as JSON"),
        ([{"a": 1}, {"score": float("nan")}], "element 1 .*not serialisable as JSON"),
        ([{"a": 1}, {"text": "lone \ud800 surrogate"}], "element 1 .*not serialisable as JSON"),
    ],
    ids=["non-dict", "set-value", "nan", "lone-surrogate"],
)
def test_save_of_bad_element_names_its_index_and_keeps_previous_manifest(
    manifest_path, saved_manifest, lines, problem
):
    dataset = ManifestDataset(filepath=str(manifest_path))

    with pytest.raises(ManifestError, match=problem):
        dataset.save(lines)

    assert manifest_path.read_bytes() == saved_manifest
    assert os.listdir(manifest_path.parent) == [manifest_path.name]


def test_save_of_non_list_is_rejected(manifest_path):
    dataset = ManifestDataset(filepath=str(manifest_path))

    with pytest.raises(ManifestError, match="expected a list of dicts"):
        dataset.save({"source": "a dict, not a list of dicts"})


def _rename_refused(monkeypatch):
    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", dst)

    monkeypatch.setattr(files.os, "replace", refuse)


@pytest.mark.parametrize(
    "failure", [disk_full_halfway, _rename_refused], ids=["disk-full-halfway", "rename-refused"]
)
def test_failed_write_keeps_previous_manifest_and_leaves_no_temp_file(
    monkeypatch, manifest_path, saved_manifest, failure
):
    failure(monkeypatch)
    dataset = ManifestDataset(filepath=str(manifest_path))

    with pytest.raises(DatasetError):
        dataset.save([{"source": f"new review {i}"} for i in range(1000)])

    assert manifest_path.read_bytes() == saved_manifest
    assert os.listdir(manifest_path.parent) == [manifest_path.name]


def test_saved_manifest_gets_the_permissions_a_plain_write_would(manifest_path):
    umask = os.umask(0)
    os.umask(umask)

    ManifestDataset(filepath=str(manifest_path)).save(LINES)

    assert manifest_path.stat().st_mode & 0o777 == 0o666 & ~umask


# Saves a large manifest over an existing one and SIGKILLs itself the moment anything in the
# directory changes (a temp file appears or the target is truncated), i.e. mid-write. A watcher
# thread in the writer reacts within one GIL switch; a watcher process can be starved for longer
# than the whole write on a busy machine.
_KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys, threading
    from review_sentiment.datasets import ManifestDataset

    target, line_count = sys.argv[1], int(sys.argv[2])
    directory = os.path.dirname(target)

    def directory_state():
        try:
            return {(e.name, e.inode(), e.stat().st_size) for e in os.scandir(directory)}
        except FileNotFoundError:
            return None

    def kill_when_writing_starts(before):
        while directory_state() == before:
            pass
        os.kill(os.getpid(), signal.SIGKILL)

    lines = [{"source": f"review {i} " + "é" * 200, "id": i} for i in range(line_count)]
    threading.Thread(target=kill_when_writing_starts, args=(directory_state(),), daemon=True).start()
    ManifestDataset(filepath=target).save(lines)
    print("saved", flush=True)
    """
)


def test_save_killed_midway_leaves_old_or_new_manifest_never_a_partial_one(
    manifest_path, saved_manifest
):
    line_count = 50_000  # ~20 MB, so the write takes many GIL switch intervals
    package_root = str(Path(review_sentiment.__file__).parents[1])
    # The writer must import the same review_sentiment as this test, wherever that is installed.
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": python_path}

    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(manifest_path), str(line_count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    stdout, stderr = writer.communicate(timeout=60)

    assert writer.returncode == -signal.SIGKILL, stderr.decode()
    assert b"saved" not in stdout, "the kill landed after save() returned; the test proved nothing"
    content = manifest_path.read_bytes()
    if content != saved_manifest:
        loaded = ManifestDataset(filepath=str(manifest_path)).load()
        assert [line["id"] for line in loaded] == list(range(line_count))
    # What the kill left is the writer's temporary file, named after the target and its PID,
    # which the next run removes (hooks.LeftoverTempFileHooks), the writer being gone.
    left = sorted(set(os.listdir(manifest_path.parent)) - {manifest_path.name})
    pattern = rf"\.{re.escape(manifest_path.name)}\.{writer.pid}\.[0-9a-f]{{16}}\.tmp"
    assert all(re.fullmatch(pattern, name) for name in left), left
    removed = files.remove_leftover_temp_files([(manifest_path.parent, False)])
    assert sorted(path.name for path in removed) == left
    assert os.listdir(manifest_path.parent) == [manifest_path.name]


# --- versioning ---------------------------------------------------------------


def test_versioned_save_keeps_every_version_and_loads_latest_or_pinned(manifest_path):
    first, second = [{"source": "first"}], [{"source": "second"}]
    older, newer = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"
    ManifestDataset(filepath=str(manifest_path), version=Version(None, older)).save(first)
    ManifestDataset(filepath=str(manifest_path), version=Version(None, newer)).save(second)

    latest = ManifestDataset(filepath=str(manifest_path), version=Version(None, None)).load()
    pinned = ManifestDataset(filepath=str(manifest_path), version=Version(older, None)).load()

    assert latest == second
    assert pinned == first
    assert (manifest_path / older / manifest_path.name).is_file()


def test_versioned_load_error_names_the_versioned_file(manifest_path):
    version_file = manifest_path / "2026-01-01T00.00.00.000Z" / manifest_path.name
    version_file.parent.mkdir(parents=True)
    version_file.write_bytes(b'{"a":1}\n42\n')
    dataset = ManifestDataset(filepath=str(manifest_path), version=Version(None, None))

    expected = f"line 2 of {version_file}: json: expected a JSON object, got int"
    with pytest.raises(ManifestError, match=expected):
        dataset.load()


def test_versioned_exists_is_false_until_a_version_is_saved(manifest_path):
    dataset = ManifestDataset(filepath=str(manifest_path), version=Version(None, None))
    assert not dataset.exists()

    dataset.save(LINES)

    assert dataset.exists()


# --- S3, against a real S3 API server on 127.0.0.1 ----------------------------


@pytest.fixture
def s3_endpoint(moto_url):
    return moto_url


@pytest.fixture
def s3_credentials(aws_test_credentials, s3_endpoint):
    return {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": s3_endpoint}}


@pytest.fixture
def s3_client(s3_credentials, s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3_client):
    name = f"manifests-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


def test_s3_round_trip_writes_json_lines_object(s3_credentials, s3_client, bucket):
    dataset = ManifestDataset(
        filepath=f"s3://{bucket}/labeling/input.manifest", credentials=s3_credentials
    )

    dataset.save(LINES)
    loaded = dataset.load()

    assert loaded == LINES
    body = s3_client.get_object(Bucket=bucket, Key="labeling/input.manifest")["Body"].read()
    first_line = body.decode("utf-8").split("\n")[0]
    assert first_line == '{"source":"Très bon produit, livraison rapide 👍","review_id":"r-1"}'


def test_s3_load_error_names_the_s3_path_and_line(s3_credentials, s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="out.manifest", Body=b'{"a":1}\n{"a":1,,}\n')
    dataset = ManifestDataset(filepath=f"s3://{bucket}/out.manifest", credentials=s3_credentials)

    expected = rf"line 2 of s3://{bucket}/out.manifest: json: not valid JSON \("
    with pytest.raises(ManifestError, match=expected):
        dataset.load()


def test_s3_load_of_missing_object_raises_dataset_error_naming_the_key(
    s3_credentials, bucket
):
    dataset = ManifestDataset(
        filepath=f"s3://{bucket}/missing.manifest", credentials=s3_credentials
    )

    with pytest.raises(DatasetError, match=f"{bucket}/missing.manifest"):
        dataset.load()


def test_catalog_entry_with_named_credentials_saves_versions_on_s3(
    s3_credentials, s3_client, bucket
):
    catalog = DataCatalog.from_config(
        {
            "input_manifest": {
                "type": "review_sentiment.datasets.ManifestDataset",
                "filepath": f"s3://{bucket}/input.manifest",
                "credentials": "s3_test",
                "versioned": True,
            }
        },
        credentials={"s3_test": s3_credentials},
    )

    catalog.save("input_manifest", LINES)
    loaded = catalog.load("input_manifest")

    assert loaded == LINES
    keys = [item["Key"] for item in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 1
    assert keys[0].startswith("input.manifest/") and keys[0].endswith("/input.manifest")
