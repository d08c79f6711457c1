"""The original tutorial's protected endpoint, as the benchmark's reference.

The "video to mp3 microservices" tutorial validates a Bearer JWT signed with
HS256 (PyJWT) in a Flask service behind gunicorn and answers with the
token's claims, or 401. This is that endpoint and nothing else, so the
benchmark compares like with like: Clipwave's GET /validate and protected
GET /jobs/{id} against it.

Configuration (environment): JWT_SECRET (required), JWT_ISSUER,
JWT_AUDIENCE (checked like Clipwave checks iss/aud/exp).
"""

import os

import jwt
from flask import Flask, jsonify, request

SECRET = os.environ["JWT_SECRET"]
ISSUER = os.environ.get("JWT_ISSUER", "clipwave-reference")
AUDIENCE = os.environ.get("JWT_AUDIENCE", "clipwave-api")

app = Flask(__name__)


def unauthorized(error=None):
    response = jsonify({"error": "invalid_token", "message": "not authorized"})
    response.status_code = 401
    challenge = 'Bearer realm="reference"'
    if error:
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response


@app.get("/validate")
def validate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return unauthorized()
    try:
        claims = jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.InvalidTokenError:
        return unauthorized("invalid_token")
    return jsonify(claims)


@app.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})
