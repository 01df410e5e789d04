"""State and files: load_state_dict, nn.save / nn.load, write_atomically, optimiser settings, DataLoader sizes."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from autograd.files import write_atomically
from nn import optim
from nn.module import IncompatibleKeys

NOT_WEIGHTS = "is not a weights file written by nn.save"


def two_layer() -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))


def values(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_unchanged(model: nn.Module, before: dict[str, np.ndarray]) -> None:
    for key, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[key], err_msg=key)


# ----------------------------------------------------------------------------- Module.load_state_dict


def test_load_state_dict_returns_empty_incompatible_keys_on_a_full_match() -> None:
    result = two_layer().load_state_dict(two_layer().state_dict())
    assert result == IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_strict_false_loads_the_matching_keys_and_reports_the_rest() -> None:
    source, target = two_layer(), two_layer()
    state = source.state_dict()
    del state["2.bias"]
    state["extra.weight"] = np.zeros(3)
    result = target.load_state_dict(state, strict=False)
    assert result == IncompatibleKeys(missing_keys=["2.bias"], unexpected_keys=["extra.weight"])
    np.testing.assert_array_equal(target[0].weight.data, source[0].weight.data)
    assert not np.array_equal(target[2].bias.data, source[2].bias.data)  # not in the state: left alone


def test_strict_key_mismatch_is_a_runtime_error_naming_both_lists_and_writes_nothing() -> None:
    net = two_layer()
    before = values(net)
    state = two_layer().state_dict()
    del state["0.bias"]
    state["head.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError, match=r"missing key\(s\) \['0.bias'\], unexpected key\(s\) \['head.weight'\]"):
        net.load_state_dict(state)
    assert_unchanged(net, before)


def test_a_bad_dtype_in_the_last_key_leaves_every_parameter_unchanged() -> None:
    net = two_layer()
    before = values(net)
    state = two_layer().state_dict()
    state["2.bias"] = state["2.bias"].numpy().astype(np.complex128)
    with pytest.raises(TypeError, match=r"'2.bias'.*dtype complex128.*cannot be cast.*float64"):
        net.load_state_dict(state)
    assert_unchanged(net, before)


@pytest.mark.parametrize(
    "bad",
    [np.array(["a", "b"]), np.array([None, None], dtype=object), np.array([1.0, 2.0], dtype=object)],
    ids=["strings", "objects", "numbers-in-an-object-array"],
)
def test_non_numeric_arrays_are_refused_naming_the_key(bad: np.ndarray) -> None:
    net = nn.Linear(2, 2)
    before = values(net)
    with pytest.raises(TypeError, match=rf"parameter 'bias'.*dtype {bad.dtype}, not numbers"):
        net.load_state_dict({"weight": np.zeros((2, 2)), "bias": bad})
    assert_unchanged(net, before)


def test_same_kind_casts_are_accepted_into_the_parameters_dtype() -> None:
    net = nn.Linear(2, 1)
    net.load_state_dict({"weight": np.array([[1.5, -2.5]], dtype=np.float32), "bias": np.array([3])})
    np.testing.assert_array_equal(net.weight.data, [[1.5, -2.5]])
    np.testing.assert_array_equal(net.bias.data, [3.0])
    assert net.weight.dtype == np.float64 and net.bias.dtype == np.float64


def test_float64_into_a_float32_parameter_is_cast_in_place() -> None:
    class Half(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(np.zeros(2, dtype=np.float32))

    model = Half()
    alias = model.w.data
    model.load_state_dict({"w": np.array([0.25, 4.0])})
    assert alias.dtype == np.float32 and alias.tolist() == [0.25, 4.0]


@pytest.mark.parametrize("state", [None, [("weight", np.zeros((1, 2)))], "weights.npz"])
def test_load_state_dict_of_a_non_mapping_is_a_type_error(state: Any) -> None:
    with pytest.raises(TypeError, match=rf"expects a mapping of parameter names to arrays.*got {type(state).__name__}"):
        nn.Linear(2, 1).load_state_dict(state)


def test_each_written_parameter_gets_its_version_bumped() -> None:
    net = nn.Linear(2, 1)
    before = net.weight._version, net.bias._version
    net.load_state_dict({"bias": np.ones(1)}, strict=False)
    assert (net.weight._version, net.bias._version) == (before[0], before[1] + 1)


# ----------------------------------------------------------------------------- nn.save / nn.load


RESERVED_KEYS = ["file", "allow_pickle", "args", "kwds", "fix_imports", "", "a/b", "x.npy", "poids_é", "fc 1.weight"]


def test_save_round_trips_any_string_key_with_exact_values_and_dtypes(tmp_path: Path) -> None:
    state = {key: np.arange(i + 1, dtype=np.float32) * 0.5 for i, key in enumerate(RESERVED_KEYS)}
    state["step"] = np.int64(7)
    state["nesterov"] = True
    nn.save(state, tmp_path / "w.npz")
    loaded = nn.load(tmp_path / "w.npz")
    assert list(loaded) == list(state)
    for key, value in state.items():
        assert loaded[key].dtype == np.asarray(value).dtype, key
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)


def test_a_saved_file_is_read_by_plain_np_load(tmp_path: Path) -> None:
    nn.save({"file": np.array([1.0, 2.0]), "allow_pickle": np.eye(2)}, tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz") as data:
        assert sorted(data.files) == ["allow_pickle", "file"]
        np.testing.assert_array_equal(data["file"], [1.0, 2.0])
        np.testing.assert_array_equal(data["allow_pickle"], np.eye(2))


@pytest.mark.parametrize("key", [3, ("fc", "weight"), None])
def test_save_refuses_non_string_keys_naming_them(tmp_path: Path, key: Any) -> None:
    with pytest.raises(TypeError, match=rf"keys must be strings, got {key!r}".replace("(", r"\(").replace(")", r"\)")):
        nn.save({"ok": np.ones(1), key: np.ones(1)}, tmp_path / "w.npz")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "bad", [np.array([{"a": 1}], dtype=object), np.array(["text"]), "text"], ids=["object", "strings", "str"]
)
def test_save_refuses_non_numeric_values_and_keeps_the_old_file(tmp_path: Path, bad: Any) -> None:
    path = tmp_path / "w.npz"
    nn.save({"w": np.ones(2)}, path)
    with pytest.raises(TypeError, match=r"the value of 'bad' is an array of dtype .*only arrays of numbers"):
        nn.save({"w": np.zeros(2), "bad": bad}, path)
    np.testing.assert_array_equal(nn.load(path)["w"], np.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


def test_save_refuses_a_key_with_a_nul_character(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="contains a NUL character"):
        nn.save({"a\0b": np.ones(1), "a": np.zeros(1)}, tmp_path / "w.npz")


def test_save_of_a_non_mapping_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"takes a Module or a mapping of names to arrays.*got list"):
        nn.save([np.ones(2)], tmp_path / "w.npz")


def test_save_writes_through_a_symlink_to_its_target(tmp_path: Path) -> None:
    target, link = tmp_path / "real.npz", tmp_path / "latest.npz"
    nn.save({"w": np.zeros(2)}, target)
    os.symlink(target, link)
    nn.save({"w": np.array([1.0, 2.0])}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(nn.load(target)["w"], [1.0, 2.0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.npz", "real.npz"]


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    target, link = tmp_path / "real.npz", tmp_path / "latest.npz"
    os.symlink(target, link)
    nn.save({"w": np.ones(1)}, link)
    assert link.is_symlink() and nn.load(target)["w"].tolist() == [1.0]


def test_save_into_a_missing_folder_names_the_requested_path(tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "w.npz"
    with pytest.raises(FileNotFoundError, match=r"create the folder .*no-such-folder first") as info:
        nn.save({"w": np.ones(1)}, path)
    assert info.value.filename == str(path) and ".tmp" not in str(info.value)


def test_save_onto_a_directory_names_the_requested_path(tmp_path: Path) -> None:
    (tmp_path / "w.npz").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        nn.save({"w": np.ones(1)}, tmp_path / "w.npz")
    assert info.value.filename == str(tmp_path / "w.npz") and ".tmp" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # the temporary file is gone


def test_a_folder_that_refuses_the_temporary_file_is_a_permission_error_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(dir: str, prefix: str, suffix: str) -> None:  # what a read-only folder does (root ignores modes)
        raise PermissionError(13, "Permission denied", os.path.join(dir, prefix + "x" + suffix))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match=r"Permission denied: '.*w\.npz'$") as info:
        nn.save({"w": np.ones(1)}, tmp_path / "w.npz")
    assert info.value.filename == str(tmp_path / "w.npz") and ".tmp" not in str(info.value)


def test_a_failed_rename_keeps_its_class_but_names_the_requested_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied", src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError, match=r"Permission denied: '.*w\.npz'$") as info:
        write_atomically(tmp_path / "w.npz", lambda f: f.write(b"data"))
    assert info.value.filename == str(tmp_path / "w.npz") and ".tmp" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_write_atomically_leaves_the_symlink_and_returns_the_requested_path(tmp_path: Path) -> None:
    target, link = tmp_path / "t.txt", tmp_path / "l.txt"
    target.write_bytes(b"old")
    link.symlink_to(target)
    assert write_atomically(link, lambda f: f.write(b"new")) == link
    assert link.is_symlink() and target.read_bytes() == b"new"


def _npz_with(member: str, write: Any) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        with archive.open(member, "w") as f:
            write(f)
    return buffer.getvalue()


def _bad_file(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{kind}.npz"
    nn.save({"w": np.arange(100.0)}, tmp_path / "good.npz")
    good = (tmp_path / "good.npz").read_bytes()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "text":
        path.write_text("these are not weights\n")
    elif kind == "random-bytes":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.ones(3))
    elif kind == "pickled-object":
        np.savez(path, payload=np.array([{"a": 1}], dtype=object))
    elif kind == "strings":
        np.savez(path, names=np.array(["a", "b"]))
    elif kind == "not-an-array":
        path.write_bytes(_npz_with("README.txt", lambda f: f.write(b"hello")))
    return path


@pytest.mark.parametrize(
    "kind", ["empty", "truncated", "text", "random-bytes", "npy", "pickled-object", "strings", "not-an-array"]
)
def test_load_of_a_file_that_is_not_weights_is_a_value_error_naming_it(tmp_path: Path, kind: str) -> None:
    path = _bad_file(kind, tmp_path)
    with pytest.raises(ValueError, match=NOT_WEIGHTS) as info:
        nn.load(path)
    message = str(info.value)
    assert str(path) in message
    assert "allow_pickle" not in message and "unsafe" not in message


_unpickled: list[str] = []


def _mark_unpickled() -> None:
    _unpickled.append("ran")


class _Payload:
    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _mark_unpickled, ()


def test_load_never_unpickles_a_payload(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([_Payload()], dtype=object))
    with pytest.raises(ValueError, match=rf"{NOT_WEIGHTS}: member 'w.npy' is not a plain numeric array"):
        nn.load(path)
    assert _unpickled == []


def test_load_of_a_missing_file_stays_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.npz"):
        nn.load(tmp_path / "missing.npz")


def test_load_reads_archives_written_by_np_savez_compressed(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "c.npz", w=np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(nn.load(tmp_path / "c.npz")["w"], np.arange(6.0).reshape(2, 3))


# ----------------------------------------------------------------------------- optimiser settings


def p1() -> list[nn.Parameter]:
    return [nn.Parameter(np.array([1.0]))]


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: optim.SGD(p1(), lr=float("nan")), ValueError, r"SGD: invalid lr=nan; it must be a finite number"),
        (lambda: optim.SGD(p1(), lr=float("inf")), ValueError, r"SGD: invalid lr=inf; it must be a finite"),
        (lambda: optim.SGD(p1(), lr="0.1"), TypeError, r"SGD: lr must be a number \(0.01 to 0.1 is typical\)"),
        (lambda: optim.SGD(p1(), lr=None), TypeError, r"lr must be a number .*got None of type NoneType"),
        (lambda: optim.SGD(p1(), lr=True), TypeError, r"lr must be a number .*got True"),
        (lambda: optim.SGD(p1(), lr=0.1, momentum=float("nan")), ValueError, r"invalid momentum=nan"),
        (lambda: optim.SGD(p1(), lr=0.1, momentum="0.9"), TypeError, r"momentum must be a number .*0.9 is typical"),
        (lambda: optim.SGD(p1(), lr=0.1, dampening=float("nan")), ValueError, r"invalid dampening=nan"),
        (lambda: optim.SGD(p1(), lr=0.1, weight_decay=float("inf")), ValueError, r"invalid weight_decay=inf"),
        (lambda: optim.SGD(p1(), lr=0.1, weight_decay=[0.1]), TypeError, r"weight_decay must be a number"),
        (lambda: optim.SGD(p1(), lr=0.1, momentum=0.9, nesterov="yes"), TypeError, r"nesterov must be True or"),
        (lambda: optim.Adam(p1(), lr=-1e-3), ValueError, r"Adam: invalid learning rate lr=-0.001"),
        (lambda: optim.Adam(p1(), eps=float("nan")), ValueError, r"Adam: invalid eps=nan"),
        (lambda: optim.Adam(p1(), eps="1e-8"), TypeError, r"Adam: eps must be a number \(1e-8 is typical\)"),
        (lambda: optim.AdamW(p1(), weight_decay=float("nan")), ValueError, r"AdamW: invalid weight_decay=nan"),
        (lambda: optim.Adam(p1(), betas=0.9), TypeError, r"betas must be a pair .*\(0.9, 0.999\), got 0.9"),
        (lambda: optim.Adam(p1(), betas=(0.9, 0.99, 0.9)), ValueError, r"betas must be a pair"),
        (lambda: optim.Adam(p1(), betas=(0.9, float("nan"))), ValueError, r"invalid beta2=nan"),
        (lambda: optim.Adam(p1(), betas=(0.9, "x")), TypeError, r"beta2 must be a number"),
        (lambda: optim.Adam(p1(), betas=(-0.1, 0.999)), ValueError, r"invalid beta1=-0.1 .* \[0, 1\)"),
    ],
)
def test_bad_optimiser_settings_are_refused_naming_the_setting(build: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_numpy_numbers_are_accepted_and_stored_as_plain_floats() -> None:
    opt = optim.Adam(p1(), lr=np.float32(0.5), betas=np.array([0.5, 0.25]), eps=np.float64(1e-6))
    assert (opt.lr, opt.betas, opt.eps) == (0.5, (0.5, 0.25), 1e-6)
    assert type(opt.lr) is float and type(opt.betas) is tuple and type(opt.betas[0]) is float


@pytest.mark.parametrize(
    ("make", "entry", "error", "match"),
    [
        (lambda: optim.SGD(p1(), lr=0.1), {"lr": float("nan")}, ValueError, r"invalid setting: SGD: invalid lr=nan"),
        (lambda: optim.SGD(p1(), lr=0.1), {"lr": -1.0}, ValueError, r"SGD: invalid learning rate lr=-1.0"),
        (lambda: optim.SGD(p1(), lr=0.1), {"lr": "fast"}, TypeError, r"SGD: lr must be a number .*got 'fast'"),
        (lambda: optim.SGD(p1(), lr=0.1), {"momentum": np.inf}, ValueError, r"invalid momentum=inf"),
        (lambda: optim.Adam(p1()), {"betas": np.array([1.0, 0.5])}, ValueError, r"invalid beta1=1.0"),
        (lambda: optim.Adam(p1()), {"betas": np.array(0.9)}, TypeError, r"betas must be a pair"),
        (lambda: optim.Adam(p1()), {"eps": np.array(0.0)}, ValueError, r"invalid eps=0.0; it must be > 0"),
        (lambda: optim.Adam(p1()), {"0.exp_avg": np.array(["x"])}, TypeError, r"'0.exp_avg' is an array of dtype"),
    ],
)
def test_optimiser_load_state_dict_applies_the_same_checks_and_writes_nothing(
    make: Any, entry: dict[str, Any], error: type, match: str
) -> None:
    opt = make()
    before = opt.state_dict()
    with pytest.raises(error, match=match):
        opt.load_state_dict({**before, **entry})
    assert opt.state_dict() == before and opt.state == [{}]


def test_a_bad_lr_in_a_saved_optimiser_file_is_refused_on_load(tmp_path: Path) -> None:
    opt = optim.SGD(p1(), lr=0.1, momentum=0.9)
    nn.save({**opt.state_dict(), "lr": np.nan}, tmp_path / "opt.npz")
    with pytest.raises(ValueError, match=r"state dict holds an invalid setting: SGD: invalid lr=nan"):
        opt.load_state_dict(nn.load(tmp_path / "opt.npz"))
    assert opt.lr == 0.1


# ----------------------------------------------------------------------------- DataLoader


@pytest.mark.parametrize(
    ("batch_size", "error", "shown"),
    [(2.5, TypeError, "2.5"), ("8", TypeError, "'8'"), (True, TypeError, "True"), (None, TypeError, "None"),
     (0, ValueError, "0"), (-3, ValueError, "-3"), (np.int64(0), ValueError, "0")],
)  # fmt: skip
def test_batch_size_must_be_a_positive_integer(batch_size: Any, error: type, shown: str) -> None:
    with pytest.raises(error, match=rf"batch_size must be a positive integer, got {shown}$"):
        nn.DataLoader(nn.TensorDataset(np.ones(4)), batch_size=batch_size)


def test_a_numpy_integer_batch_size_is_accepted() -> None:
    loader = nn.DataLoader(nn.TensorDataset(np.arange(5.0)), batch_size=np.int64(2))
    assert len(loader) == 3 and type(loader.batch_size) is int
    assert [b.data.tolist() for (b,) in loader] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
