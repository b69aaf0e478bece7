"""Import people from CSV (email,name,role,manager_email): every row checked, then all or none."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from app import policy
from app.core.errors import DomainError, RowErrors, ValidationError
from app.extensions import db
from app.infra.text import unwanted_character
from app.models import Role, User
from app.services import audit, people

COLUMNS = ("email", "name", "role", "manager_email")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

# What a person may write in the role column, whatever its case.
ROLE_NAMES = {
    "pm": Role.PM,
    "product manager": Role.PM,
    "product_manager": Role.PM,
    "manager": Role.MANAGER,
    "head": Role.HEAD,
    "head of product": Role.HEAD,
    "head_of_product": Role.HEAD,
}


@dataclass
class Row:
    line: int
    email: str
    name: str
    role: Role
    manager_email: str


def parse_role(value: str) -> Role:
    role = ROLE_NAMES.get(" ".join(value.strip().lower().split()))
    if role is None:
        raise ValidationError(
            f'role "{value}" is not one of pm, manager, head_of_product', field="role"
        )
    return role


def read_rows(data: bytes) -> list[Row]:
    """Parse and check every row against the file itself and the database; raise RowErrors."""
    if len(data) > MAX_BYTES:
        raise RowErrors([f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RowErrors(["The file is not UTF-8 text. Save it as CSV UTF-8 and retry."]) from None
    _check_characters(text)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows, errors = _read_records(reader)
    if not rows and not errors:
        raise RowErrors(["The file has a header but no people."])
    errors += _cross_check(rows)
    if errors:
        raise RowErrors(sorted(errors, key=_line_number))
    return rows


def _read_records(reader: csv.DictReader) -> tuple[list[Row], list[str]]:
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if header[: len(COLUMNS)] != list(COLUMNS):
        found = ",".join(header) or "nothing"
        raise RowErrors([f"Line 1: the header must be {','.join(COLUMNS)} (found {found})."])
    reader.fieldnames = header
    rows, errors = [], []
    for line, record in _records(reader):
        if len(rows) + len(errors) >= MAX_ROWS:
            raise RowErrors([f"The file has more than {MAX_ROWS} rows; split it."])
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue  # a blank line
        try:
            rows.append(_parse(line, record))
        except DomainError as error:
            errors.append(f"Line {line}: {error.message}")
    return rows, errors


def _records(reader: csv.DictReader):
    """(line, record) pairs; a line the csv module cannot read is refused with its number."""
    ended = reader.line_num  # the header's last line
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RowErrors([f"Line {ended + 1}: {_csv_problem(error)}"]) from None
        yield reader.line_num, record
        ended = reader.line_num


def _check_characters(text: str) -> None:
    """Refuse control characters (NUL and the like) with the line they are on, before parsing."""
    errors = []
    for number, line in enumerate(text.split("\n"), start=1):
        problem = unwanted_character(line.removesuffix("\r"))
        if problem is not None:
            errors.append(f"Line {number}: a control character ({problem}); remove it.")
    if errors:
        raise RowErrors(errors[:20])


def _csv_problem(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return (
            f"a value is longer than {csv.field_size_limit():,} characters; people's names and "
            'email addresses are short, so look for a quote (") that is opened but not closed.'
        )
    return f"the line cannot be read as CSV ({error}); check its quotes and commas."


def _line_number(error: str) -> int:
    return int(error.split(":", 1)[0].removeprefix("Line "))


def _parse(line: int, record: dict) -> Row:
    if record.get(None):
        raise ValidationError(f"has {len(COLUMNS) + len(record[None])} columns, expected 4")
    values = {key: (record.get(key) or "").strip() for key in COLUMNS}
    return Row(
        line=line,
        email=people.clean_email(values["email"]),
        name=people.clean_name(values["name"]),
        role=parse_role(values["role"]),
        manager_email=people.normalize_email(values["manager_email"]),
    )


def _cross_check(rows: list[Row]) -> list[str]:
    errors = []
    first_line: dict[str, int] = {}
    for row in rows:
        if row.email in first_line:
            errors.append(
                f"Line {row.line}: {row.email} also appears on line {first_line[row.email]}."
            )
        first_line.setdefault(row.email, row.line)
    existing = _existing(r.email for r in rows) | _existing(r.manager_email for r in rows)
    in_file = {row.email: row for row in rows}
    for row in rows:
        if row.email in existing:
            errors.append(f"Line {row.line}: {existing[row.email].name} already uses {row.email}.")
        if row.manager_email:
            errors.extend(_manager_problems(row, in_file, existing))
    errors.extend(_cycles(rows, in_file))
    return errors


def _manager_problems(row: Row, in_file: dict[str, Row], existing: dict[str, User]) -> list[str]:
    where = f"Line {row.line}: manager {row.manager_email}"
    if row.manager_email == row.email:
        return [f"Line {row.line}: {row.name} cannot be their own manager."]
    if row.manager_email in in_file:
        role = in_file[row.manager_email].role
        active = True
    elif row.manager_email in existing:
        role = existing[row.manager_email].role
        active = existing[row.manager_email].is_active
    else:
        return [f"{where} is neither in the file nor in Rungs."]
    if not active:
        return [f"{where} is deactivated."]
    if role is Role.PM:
        return [f"{where} is a product manager; only managers and heads of product have reports."]
    return []


def _cycles(rows: list[Row], in_file: dict[str, Row]) -> list[str]:
    """New people can only form loops among themselves (existing people keep their managers)."""
    errors, reported = [], set()
    for row in rows:
        path, current = [row.email], in_file.get(row.manager_email)
        while current is not None and current.email not in path:
            path.append(current.email)
            current = in_file.get(current.manager_email)
        if current is not None and current.email == row.email and row.email not in reported:
            reported.update(path)
            names = " → ".join([in_file[e].name for e in path] + [row.name])
            errors.append(f"Line {row.line}: {row.name} would become their own manager: {names}.")
    return errors


def _existing(emails) -> dict[str, User]:
    wanted = {email for email in emails if email}
    if not wanted:
        return {}
    found = db.session.execute(db.select(User).where(User.email.in_(wanted))).scalars()
    return {person.email: person for person in found}


def import_people(actor: User, data: bytes) -> list[User]:
    """Create everyone in the file, or nobody: RowErrors lists every problem with its line."""
    policy.authorize(actor, "people.manage")
    rows = read_rows(data)
    created: dict[str, User] = {}
    for row in rows:
        person = User(email=row.email, name=row.name, role=row.role)
        db.session.add(person)
        created[row.email] = person
    db.session.flush()
    managers = _existing(r.manager_email for r in rows if r.manager_email not in created)
    for row in rows:
        if row.manager_email:
            created[row.email].manager_id = (
                created.get(row.manager_email) or managers[row.manager_email]
            ).id
    db.session.flush()
    for person in created.values():
        audit.record(actor, "person.imported", person, after=people.snapshot(person, []))
    return list(created.values())
