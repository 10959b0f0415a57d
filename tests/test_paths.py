"""Every file the service writes has a setting: the database, the task queue, the mail
folder, the secret key file and the secrets' encryption keys file; left unset, each goes
to the instance folder."""

from __future__ import annotations

import stat

from buyflow import create_app

KEYS = {"STRIPE_SECRET_KEY": "sk_test_paths", "STRIPE_PUBLISHABLE_KEY": "pk_test_paths",
        "REDIS_URL": None}


def test_unset_paths_are_in_the_instance_folder(tmp_path):
    instance = tmp_path / "instance"
    app = create_app(instance_path=str(instance), test_config=KEYS)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'buyflow.sqlite'}"
    assert app.config["TASKS_SQLITE_PATH"] == str(instance / "huey.sqlite")
    huey = app.extensions["buyflow.tasks"].huey
    assert huey.storage.filename == str(instance / "huey.sqlite")
    assert app.config["MAIL_FILE_PATH"] == str(instance / "mail")
    key_file = instance / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keys_file = instance / "secrets_keys"
    assert app.config["SECRETS_KEYS"] == [keys_file.read_text()]
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600


def test_each_path_can_be_moved_and_nothing_is_written_in_the_instance_folder(tmp_path):
    instance, elsewhere = tmp_path / "instance", tmp_path / "elsewhere"
    app = create_app(instance_path=str(instance), test_config={
        **KEYS,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'buyflow.sqlite'}",
        "TASKS_SQLITE_PATH": str(elsewhere / "queue" / "tasks.sqlite"),
        "MAIL_FILE_PATH": str(elsewhere / "mail"),
        "SECRET_KEY_FILE": str(elsewhere / "keys" / "secret"),
        "SECRETS_KEYS_FILE": str(elsewhere / "keys" / "secrets_keys"),
    })
    huey = app.extensions["buyflow.tasks"].huey
    assert huey.storage.filename == str(elsewhere / "queue" / "tasks.sqlite")
    assert (elsewhere / "queue").is_dir()
    assert app.config["MAIL_FILE_PATH"] == str(elsewhere / "mail")
    assert app.config["SECRET_KEY"] == (elsewhere / "keys" / "secret").read_text()
    assert app.config["SECRETS_KEYS"] == [(elsewhere / "keys" / "secrets_keys").read_text()]
    again = create_app(instance_path=str(instance), test_config={
        **KEYS, "DATABASE_URL": f"sqlite:///{tmp_path / 'buyflow.sqlite'}",
        "SECRET_KEY_FILE": str(elsewhere / "keys" / "secret"),
        "SECRETS_KEYS_FILE": str(elsewhere / "keys" / "secrets_keys"),
        "TASKS_SQLITE_PATH": str(elsewhere / "queue" / "tasks.sqlite"),
        "MAIL_FILE_PATH": str(elsewhere / "mail")})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]  # kept, not made anew
    assert again.config["SECRETS_KEYS"] == app.config["SECRETS_KEYS"]
    assert not instance.exists()
