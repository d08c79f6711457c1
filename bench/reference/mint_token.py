"""Prints an HS256 access token for the reference app (the tutorial's login
issues the same shape: sub, exp, iat plus an admin flag)."""

import datetime
import os
import sys

import jwt

now = datetime.datetime.now(tz=datetime.timezone.utc)
claims = {
    "sub": sys.argv[1] if len(sys.argv) > 1 else "bench@example.com",
    "iss": os.environ.get("JWT_ISSUER", "clipwave-reference"),
    "aud": os.environ.get("JWT_AUDIENCE", "clipwave-api"),
    "iat": now,
    "exp": now + datetime.timedelta(hours=1),
    "admin": False,
}
print(jwt.encode(claims, os.environ["JWT_SECRET"], algorithm="HS256"))
