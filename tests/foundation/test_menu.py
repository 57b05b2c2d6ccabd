"""Every role can open every entry of its own flyout menu, and only those."""
import re

import pytest

from app.models import Role

EXPECTED = {
    Role.ADMIN: ["Dashboard", "Calendar", "Tasks", "Events", "Appointments", "Integrations", "Company Settings"],
    **{role: ["Dashboard", "Calendar", "Tasks", "Events", "Appointments", "Integrations"]
       for role in (Role.MANAGER, Role.STAFF, Role.PROSPECT, Role.CLIENT)},
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_opens_every_menu_entry_it_has(role, users, login_as):
    client = login_as(users[role])
    menu = client.get("/dashboard").get_data(as_text=True)
    menu = menu[menu.index('id="flyout-menu"'):menu.index("</ul>", menu.index('id="flyout-menu"'))]
    entries = re.findall(r'href="([^"]+)"><span aria-hidden="true">[^<]*</span> ([^<]+)</a>', menu)
    assert [label for _, label in entries] == EXPECTED[role]
    for url, label in entries:
        assert client.get(url).status_code == 200, label


def test_company_header_uses_the_brand_colour(users, login_as, company):
    company[0].brand_color = "#123456"
    from app.extensions import db

    db.session.commit()
    page = login_as(users[Role.CLIENT]).get("/dashboard").get_data(as_text=True)
    assert 'data-brand="#123456"' in page and company[0].name in page  # brand.js sets --brand
