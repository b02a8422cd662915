"""README stays true: every setting and every CLI command is documented."""

from __future__ import annotations

from app.cli import build_parser
from app.config import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text()


def _env_names(field_name: str) -> list[str]:
    field = Settings.model_fields[field_name]
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return [str(choice) for choice in choices]
    return [f"TUNEDESK_{field_name.upper()}"]


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    missing = [
        field_name
        for field_name in Settings.model_fields
        if not any(f"`{name}`" in README for name in _env_names(field_name))
    ]
    assert missing == [], f"settings missing from README's configuration table: {missing}"


def test_every_cli_command_is_in_the_readme() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    missing = [name for name in commands if name not in README]
    assert missing == [], f"commands missing from README: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    first_code_block = README.split("```")[1]
    assert "make run" in first_code_block and "make test" in first_code_block
