"""The ``framesell`` command on a real ini file and an SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framesell.bootstrap import bootstrap
from framesell.entrypoints.cli import app_settings, main
from framesell.settings import Settings
from tests.fixtures.processes import write_ini


@pytest.fixture
def ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for variable in ("FRAMESELL_DATABASE_URL", "FRAMESELL_STORAGE", "FRAMESELL_PAYMENT"):
        monkeypatch.delenv(variable, raising=False)
    path = write_ini(
        tmp_path,
        "cli",
        {
            "framesell.database_url": f"sqlite:///{tmp_path / 'shop.sqlite'}",
            "framesell.payment": "fake",
        },
        port=6543,
    )
    assert main(["-c", str(path), "migrate"]) == 0
    return path


def shop_of(ini: Path):  # type: ignore[no-untyped-def]
    return bootstrap(Settings.from_mapping(app_settings(str(ini))))


def test_seed_loads_the_sample_catalog_once(ini: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", str(ini), "seed"]) == 0
    assert main(["-c", str(ini), "seed"]) == 0
    out = capsys.readouterr().out
    assert "seeded 14 products" in out
    assert "nothing seeded" in out
    assert len(shop_of(ini).catalog.list_products()) == 14


def test_products_import_reads_csv_and_json_all_or_nothing(ini: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "photos.csv"
    csv_file.write_text("description,url,price\nParrot,https://x.example/p.jpg,59.99\n")
    assert main(["-c", str(ini), "products", "import", str(csv_file)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {"description": "Good", "url": "https://x.example/g.jpg", "price": "10"},
                {"description": "Bad", "url": "http://x.example/b.jpg", "price": "10"},
            ]
        )
    )
    assert main(["-c", str(ini), "products", "import", str(bad)]) == 1
    (parrot,) = shop_of(ini).catalog.list_products()
    assert (parrot.description, parrot.price.cents) == ("Parrot", 5999)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photos.txt", "Parrot", "photos.txt: expected a .json or .csv file"),
        ("photos.json", '{"description": "Parrot"}', "photos.json: expected a list of products"),
        ("photos.json", '[{"description": "Parrot"}]', "product 1: missing field 'url'"),
        (
            "photos.csv",
            "description,url,price\nParrot,https://x.example/p.jpg,lots\n",
            "product 1: a price must be a number",
        ),
    ],
)
def test_a_malformed_products_file_is_one_line_and_exit_status_1(
    ini: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str,
    message: str,
) -> None:
    products = tmp_path / name
    products.write_text(content)
    capsys.readouterr()
    assert main(["-c", str(ini), "products", "import", str(products)]) == 1
    [line] = capsys.readouterr().err.splitlines()[1:]  # after the line naming the ini file
    assert line.startswith("framesell: ") and message in line
    assert shop_of(ini).catalog.list_products() == []


def test_create_admin_takes_the_password_from_the_environment(
    ini: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRAMESELL_ADMIN_PASSWORD", "admin password 1")
    assert main(["-c", str(ini), "create-admin", "Boss@Example.com"]) == 0
    shop = shop_of(ini)
    admin = shop.users.find_by_email("boss@example.com")
    assert admin is not None and admin.is_admin
    assert shop.users.log_in("boss@example.com", "admin password 1")


def test_create_admin_promotes_an_existing_account(ini: Path) -> None:
    shop = shop_of(ini)
    shop.users.register(first_name="A", last_name="B", email="a@b.com", password="password1")
    assert main(["-c", str(ini), "create-admin", "a@b.com"]) == 0
    user = shop_of(ini).users.find_by_email("a@b.com")
    assert user is not None and user.is_admin


def test_create_admin_without_a_password_or_terminal_fails_clearly(
    ini: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FRAMESELL_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["-c", str(ini), "create-admin", "x@y.com"]) == 1
    assert "FRAMESELL_ADMIN_PASSWORD" in capsys.readouterr().err


def test_reconcile_and_purge_report_what_they_did(
    ini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-c", str(ini), "reconcile", "--older-than", "0"]) == 0
    assert main(["-c", str(ini), "purge-idempotency-keys"]) == 0
    out = capsys.readouterr().out
    assert "settled 0, still pending 0, leased elsewhere 0" in out
    assert "purged 0 idempotency keys" in out


def test_send_mail_says_when_mail_is_off_and_what_it_sent(
    ini: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRAMESELL_MAIL", "off")
    assert main(["-c", str(ini), "send-mail"]) == 0
    monkeypatch.setenv("FRAMESELL_MAIL", "memory")
    assert main(["-c", str(ini), "send-mail"]) == 0
    out = capsys.readouterr().out
    assert "mail is off (framesell.mail): nothing to send" in out
    assert "sent 0, failed 0 (to be retried)" in out


def test_a_missing_ini_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", "no-such.ini", "migrate"]) == 2
    assert "no-such.ini" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["migrate"],
        ["seed"],
        ["create-admin"],
        ["products", "import"],
        ["reconcile"],
        ["purge-idempotency-keys"],
        ["send-mail"],
    ],
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert "usage: framesell" in capsys.readouterr().out


def test_it_says_which_ini_it_read_when_named_with_c(
    ini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-c", str(ini), "seed"]) == 0
    assert f"framesell: settings from {ini.resolve()} (-c)" in capsys.readouterr().err


def test_it_reads_the_ini_named_by_framesell_ini(
    ini: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FRAMESELL_INI", str(ini))
    assert main(["seed"]) == 0
    captured = capsys.readouterr()
    assert f"framesell: settings from {ini.resolve()} (FRAMESELL_INI)" in captured.err
    assert "seeded 14 products" in captured.out
    assert len(shop_of(ini).catalog.list_products()) == 14


def test_c_wins_over_framesell_ini(
    ini: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FRAMESELL_INI", "/nonexistent/production.ini")
    assert main(["-c", str(ini), "seed"]) == 0
    assert "(-c)" in capsys.readouterr().err


def test_without_a_named_ini_it_reads_development_ini_and_says_so(
    ini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FRAMESELL_INI", raising=False)
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    (workdir / "development.ini").write_text(ini.read_text())
    monkeypatch.chdir(workdir)
    assert main(["seed"]) == 0
    expected = f"framesell: settings from {(workdir / 'development.ini').resolve()} (the default)"
    assert expected in capsys.readouterr().err


def test_on_a_deployment_it_refuses_the_development_default(
    ini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FRAMESELL_INI", raising=False)
    monkeypatch.setenv("FRAMESELL_DATABASE_URL", f"sqlite:///{tmp_path / 'real.sqlite'}")
    (tmp_path / "development.ini").write_text(ini.read_text())
    monkeypatch.chdir(tmp_path)

    assert main(["migrate"]) == 2

    err = capsys.readouterr().err
    assert "no ini file named: give -c FILE or set FRAMESELL_INI" in err
    assert not (tmp_path / "real.sqlite").exists()


def test_a_missing_ini_is_named_in_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-c", str(tmp_path / "nope.ini"), "seed"]) == 2
    assert f"{tmp_path / 'nope.ini'} (-c): no such file" in capsys.readouterr().err


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the package's migrations, so a test's new revision lands outside the code."""
    import shutil

    from framesell.adapters.sql import migrate as migrations_module

    copy = tmp_path / "migrations"
    shutil.copytree(migrations_module.MIGRATIONS_DIRECTORY, copy)
    monkeypatch.setattr(migrations_module, "MIGRATIONS_DIRECTORY", copy)
    return copy


def newest_revision(migrations: Path) -> int:
    """The number of the newest revision in a migrations folder (``NNNN_…py``)."""
    return max(int(path.name[:4]) for path in (migrations / "versions").glob("[0-9]*_*.py"))


def test_new_migration_writes_the_next_numbered_revision(
    ini: Path, migrations: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = newest_revision(migrations)
    assert main(["-c", str(ini), "new-migration", "add gift wrapping"]) == 0

    written = migrations / "versions" / f"{head + 1:04d}_add_gift_wrapping.py"
    assert f"wrote {written}" in capsys.readouterr().out
    text = written.read_text()
    assert f"revision: str = '{head + 1:04d}'" in text
    assert f"down_revision: str | None = '{head:04d}'" in text
    assert '"""add gift wrapping' in text


def test_new_migration_autogenerate_finds_nothing_on_a_database_at_head(
    ini: Path, migrations: Path
) -> None:
    head = newest_revision(migrations)
    assert main(["-c", str(ini), "new-migration", "--autogenerate", "nothing yet"]) == 0

    text = (migrations / "versions" / f"{head + 1:04d}_nothing_yet.py").read_text()
    assert text.count("    pass\n") == 2  # tables.py and the migrations agree


def test_new_migration_on_memory_storage_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in ("FRAMESELL_DATABASE_URL", "FRAMESELL_STORAGE", "FRAMESELL_PAYMENT"):
        monkeypatch.delenv(variable, raising=False)
    settings = {"framesell.storage": "memory", "framesell.payment": "fake"}
    memory = write_ini(tmp_path, "memory", settings, port=6543)

    assert main(["-c", str(memory), "new-migration", "add gift wrapping"]) == 2
    assert "migrations are for framesell.storage = sql" in capsys.readouterr().err
