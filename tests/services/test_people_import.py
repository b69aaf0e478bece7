"""CSV import: every row checked first; one bad row rejects the whole file."""

import pytest
from sqlalchemy import func, select

from app.core.errors import ForbiddenError, RowErrors
from app.extensions import db
from app.models import AuditEvent, Role, User
from app.policy import SYSTEM
from app.services import people
from app.services.people import importing as people_import


def csv(*lines: str) -> bytes:
    return ("\n".join(["email,name,role,manager_email", *lines]) + "\n").encode()


def count_people() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def import_errors(data: bytes) -> list[str]:
    with pytest.raises(RowErrors) as error:
        people_import.import_people(SYSTEM, data)
    db.session.rollback()
    return error.value.errors


def test_imports_people_with_managers_in_the_file_and_in_rungs(org, ctx):
    created = people_import.import_people(
        SYSTEM,
        csv(
            "cleo@example.com,Cleo Lead,manager,head@example.com",
            "finn@example.com,Finn Pm,Product Manager,cleo@example.com",  # manager later in file
            "gus@example.com,Gus Pm,pm,ben@example.com",
            "hal@example.com,Hal Pm,pm,",
        ),
    )
    assert [p.email for p in created] == [
        "cleo@example.com",
        "finn@example.com",
        "gus@example.com",
        "hal@example.com",
    ]
    finn = people.find_by_email("finn@example.com")
    assert finn.manager_id == people.find_by_email("cleo@example.com").id
    assert finn.role is Role.PM
    assert people.find_by_email("gus@example.com").manager_id == org.manager_b.id
    assert people.find_by_email("hal@example.com").manager_id is None
    imported = db.session.execute(
        select(func.count()).where(AuditEvent.action == "person.imported")
    ).scalar_one()
    assert imported == 4


def test_bad_rows_are_all_listed_with_line_numbers_and_nothing_is_imported(org, ctx):
    before = count_people()
    errors = import_errors(
        csv(
            "ok@example.com,Ok Person,pm,ada@example.com",
            "not-an-email,Bad Email,pm,",
            "nameless@example.com,,pm,",
            "role@example.com,Role Person,ceo,",
            "alice@example.com,Alice Again,pm,",
            "ok@example.com,Ok Twice,pm,",
            "orphan@example.com,Orphan,pm,nobody@example.com",
            "under@example.com,Under Pm,pm,bea@example.com",
        )
    )
    assert count_people() == before
    assert errors[0].startswith("Line 3: not-an-email is not a valid email address")
    assert errors[1:] == [
        "Line 4: Enter a name.",
        'Line 5: role "ceo" is not one of pm, manager, head_of_product',
        "Line 6: Alice Pm already uses alice@example.com.",
        "Line 7: ok@example.com also appears on line 2.",
        "Line 8: manager nobody@example.com is neither in the file nor in Rungs.",
        "Line 9: manager bea@example.com is a product manager; only managers and heads of "
        "product have reports.",
    ]


def test_a_loop_inside_the_file_is_refused(org, ctx):
    errors = import_errors(
        csv(
            "x@example.com,Xena Lead,manager,y@example.com",
            "y@example.com,Yann Lead,manager,x@example.com",
        )
    )
    assert errors == [
        "Line 2: Xena Lead would become their own manager: Xena Lead → Yann Lead → Xena Lead."
    ]


def test_wrong_header_and_empty_file(org, ctx):
    assert import_errors(b"mail,name\nx@example.com,X\n") == [
        "Line 1: the header must be email,name,role,manager_email (found mail,name)."
    ]
    assert import_errors(csv()) == ["The file has a header but no people."]
    assert import_errors(b"") == [
        "Line 1: the header must be email,name,role,manager_email (found nothing)."
    ]


def test_not_utf8_and_extra_columns(org, ctx):
    assert (
        "not UTF-8"
        in import_errors("email,name,role,manager_email\nx@é.com,É,pm,\n".encode("latin-1"))[0]
    )
    assert import_errors(csv("x@example.com,X,pm,,surplus")) == [
        "Line 2: has 5 columns, expected 4"
    ]


def test_excel_bom_and_blank_lines_are_fine(org, ctx):
    data = "\ufeff".encode() + csv("", "z@example.com,Zoe Pm,pm,", "")
    assert [p.name for p in people_import.import_people(SYSTEM, data)] == ["Zoe Pm"]


def test_only_head_of_product_may_import(org, ctx):
    with pytest.raises(ForbiddenError):
        people_import.import_people(
            people.get_person(org.manager_a.id), csv("z@example.com,Zoe,pm,")
        )


def test_a_control_character_is_refused_with_its_line(org, ctx):
    before = count_people()
    errors = import_errors(csv("ok@example.com,Ok Person,pm,", "nul@example.com,Nu\x00l,pm,"))
    assert errors == ["Line 3: a control character (U+0000 at character 19); remove it."]
    assert count_people() == before


def test_a_value_past_the_csv_field_limit_is_refused_with_its_line(org, ctx):
    # An unclosed quote swallows the rest of the file into one value: the usual way to get here.
    huge = "x" * 200_000
    errors = import_errors(csv("ok@example.com,Ok Person,pm,", f'long@example.com,"{huge},pm,'))
    assert len(errors) == 1 and errors[0].startswith("Line 3: a value is longer than 131,072")
    assert "opened but not closed" in errors[0]
