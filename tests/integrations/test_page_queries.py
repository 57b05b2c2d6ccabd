"""The Integrations page stays cheap however much history a user has (the bench's target: ≤ 10 queries)."""
from app.extensions import db
from app.models import CalendarConnection, ConnectionKind, ConnectionStatus, Role, SyncRun
from tests.conftest import counted_statements


def test_integrations_page_makes_at_most_ten_queries(users, login_as):
    user = users[Role.CLIENT]
    connection = CalendarConnection(company_id=user.company_id, user_id=user.id, kind=ConnectionKind.TWO_WAY,
                                    status=ConnectionStatus.ACTIVE, google_email="alex@example.com",
                                    calendar_id="alex@example.com", calendar_summary="alex@example.com")
    db.session.add(connection)
    db.session.flush()
    db.session.add_all(SyncRun(company_id=user.company_id, user_id=user.id, connection_id=connection.id,
                               kind="pull", status="succeeded") for _ in range(30))
    db.session.commit()
    client = login_as(user)
    with counted_statements() as statements:
        page = client.get("/integrations/")
    assert page.status_code == 200 and "Recent synchronizations" in page.get_data(as_text=True)
    assert 0 < len(statements) <= 10, statements
