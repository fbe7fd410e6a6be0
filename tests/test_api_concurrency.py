"""Idempotent creates under concurrency, through a live threaded server: copies of one create sent at the same
moment with the same Idempotency-Key create one product; each other copy is told the first is running (409)
or gets the first answer."""
import json
import threading
import urllib.error
import urllib.request

from sqlalchemy import func, select

from app.extensions import db
from app.models import Product, User
from app.services import api_tokens
from tests.browser import live_server  # noqa: F401 (fixture)

COPIES = 6


def test_simultaneous_copies_of_one_create_make_one_product(live_server, coop_a):
    user = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    secret = api_tokens.create_token(user.id, {"name": "race"}, True).secret
    db.session.commit()
    body = json.dumps({"name": "Mật ong hoa nhãn", "category": "honey"}).encode()
    start, statuses = threading.Barrier(COPIES), []

    def send():
        request = urllib.request.Request(f"{live_server}/api/v1/products", data=body, method="POST", headers={
            "Authorization": f"Bearer {secret}", "Content-Type": "application/json", "Idempotency-Key": "same-moment"})
        start.wait()
        try:
            with urllib.request.urlopen(request) as answer:
                statuses.append(answer.status)
        except urllib.error.HTTPError as refused:
            statuses.append(refused.code)

    threads = [threading.Thread(target=send) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == COPIES and set(statuses) <= {201, 409} and 201 in statuses, statuses
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1
