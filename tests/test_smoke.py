from tests.factories import sign_in


def test_head_signs_in_and_sees_home(client, org):
    sign_in(client, org.head)
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Hana" in page
