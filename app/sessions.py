"""Flask's signed-cookie sessions, with the cookie signer built once per set of keys rather than for every
request (a measurable share of the scan page's time).

The signature only proves the cookie was made here: it cannot be taken back. Who is signed in is therefore
decided on the server, from the session token the cookie carries (`app/services/accounts.py`, table
`user_sessions`), so that signing out ends a session even where a copy of its cookie survives. Pages that
never ask for the user (the scan page) pay nothing for that check."""
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._signers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._signers:
            self._signers[keys] = super().get_signing_serializer(app)
        return self._signers[keys]
