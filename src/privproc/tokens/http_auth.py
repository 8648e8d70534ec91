"""The PrivateToken HTTP authentication scheme (RFC 9577 §2).

An origin (our gateway) asks for a token with
``WWW-Authenticate: PrivateToken challenge="<b64url>", token-key="<b64url>"[, max-age="N"]``
(RFC 9577 §2.1) and the client answers with
``Authorization: PrivateToken token="<b64url>"`` (RFC 9577 §2.2).

Values are written base64url with padding and quoted; the parser accepts quoted
or bare (token68) values, padding or none, any case for the scheme and
parameter names, several challenges in one header (RFC 9110 §11.6.1) and other
schemes mixed in. Parse errors raise only :class:`~privproc.errors.DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from privproc.errors import DecodeError, MisuseError
from privproc.tokens.protocol import Token, TokenChallenge, b64url_decode, b64url_encode

__all__ = [
    "SCHEME",
    "PrivateTokenChallenge",
    "format_authorization",
    "format_challenge",
    "parse_authorization",
    "parse_www_authenticate",
]

#: RFC 9577 §2: the authentication scheme name.
SCHEME = "PrivateToken"
_MAX_HEADER = 16 * 1024
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TOKEN68 = _TCHAR | frozenset("/=")


@dataclass(frozen=True, slots=True)
class PrivateTokenChallenge:
    """One parsed ``PrivateToken`` challenge (RFC 9577 §2.1).

    ``challenge_bytes`` are the TokenChallenge bytes as received: the challenge
    digest is computed over exactly them.
    """

    challenge: TokenChallenge
    challenge_bytes: bytes
    token_key: bytes
    max_age: int | None = None


def format_challenge(
    challenge: TokenChallenge, token_key: bytes, *, max_age: int | None = None
) -> str:
    """A ``WWW-Authenticate`` value for one challenge (RFC 9577 §2.1)."""
    value = (
        f'{SCHEME} challenge="{b64url_encode(challenge.encode())}", '
        f'token-key="{b64url_encode(token_key)}"'
    )
    if max_age is not None:
        if max_age < 0:
            raise MisuseError("max-age must be non-negative")
        value += f', max-age="{max_age}"'
    return value


def format_authorization(token: Token) -> str:
    """An ``Authorization`` value carrying ``token`` (RFC 9577 §2.2)."""
    return f'{SCHEME} token="{b64url_encode(token.encode())}"'


class _Lexer:
    """RFC 9110 §11 challenge/credentials syntax, bounded and strict about quoting."""

    __slots__ = ("_pos", "_s")

    def __init__(self, s: str) -> None:
        self._s = s
        self._pos = 0

    def skip_ws(self) -> None:
        while self._pos < len(self._s) and self._s[self._pos] in " \t":
            self._pos += 1

    def peek(self) -> str:
        return self._s[self._pos] if self._pos < len(self._s) else ""

    def at_end(self) -> bool:
        self.skip_ws()
        return self._pos >= len(self._s)

    def take(self, ch: str) -> bool:
        self.skip_ws()
        if self.peek() == ch:
            self._pos += 1
            return True
        return False

    def token(self, chars: frozenset[str] = _TCHAR) -> str:
        self.skip_ws()
        start = self._pos
        while self._pos < len(self._s) and self._s[self._pos] in chars:
            self._pos += 1
        return self._s[start : self._pos]

    def quoted(self) -> str:
        # RFC 9110 §5.6.4 quoted-string with quoted-pair
        self._pos += 1  # opening quote
        out: list[str] = []
        while self._pos < len(self._s):
            ch = self._s[self._pos]
            self._pos += 1
            if ch == '"':
                return "".join(out)
            if ch == "\\":
                if self._pos >= len(self._s):
                    break
                ch = self._s[self._pos]
                self._pos += 1
            out.append(ch)
        raise DecodeError("auth header: unterminated quoted string")

    def mark(self) -> int:
        return self._pos

    def reset(self, pos: int) -> None:
        self._pos = pos


def _parse_challenges(header: str) -> list[tuple[str, dict[str, str]]]:
    """Split a header into (scheme, params) pairs (RFC 9110 §11.6.1 / §11.4).

    A token68 credential that directly follows its scheme is kept under the key ``""``.
    """
    if len(header) > _MAX_HEADER:
        raise DecodeError("auth header: too long")
    lx = _Lexer(header)
    out: list[tuple[str, dict[str, str]]] = []
    while not lx.at_end():
        if lx.take(","):
            continue
        scheme = lx.token()
        if not scheme:
            raise DecodeError("auth header: expected an auth scheme")
        params: dict[str, str] = {}
        out.append((scheme, params))
        # token68 form: the scheme, spaces, then one token68 ending the challenge
        mark = lx.mark()
        name = lx.token()
        is_param = bool(name) and lx.take("=")
        lx.reset(mark)
        if not is_param:
            word = lx.token(_TOKEN68)
            lx.skip_ws()
            if word and lx.peek() in ("", ","):
                params[""] = word
                continue
            lx.reset(mark)
        while True:
            while lx.take(","):
                pass
            if lx.at_end():
                break
            mark = lx.mark()
            name = lx.token()
            if not (name and lx.take("=")):
                lx.reset(mark)  # the next challenge's scheme
                break
            lx.skip_ws()
            if lx.peek() == '"':
                value = lx.quoted()
            else:
                value = lx.token(_TOKEN68)
                if not value:
                    raise DecodeError(f"auth header: parameter {name!r} has no value")
            key = name.lower()
            if key in params:
                raise DecodeError(f"auth header: parameter {name!r} repeated")
            params[key] = value
    return out


def parse_www_authenticate(header: str) -> list[PrivateTokenChallenge]:
    """Every ``PrivateToken`` challenge in a ``WWW-Authenticate`` value (RFC 9577 §2.1).

    Other schemes are ignored. A PrivateToken challenge without ``challenge`` or
    ``token-key``, or with values that do not decode, raises DecodeError.
    """
    found = []
    for scheme, params in _parse_challenges(header):
        if scheme.lower() != SCHEME.lower():
            continue
        if "challenge" not in params or "token-key" not in params:
            raise DecodeError("PrivateToken challenge: missing challenge or token-key")
        raw = b64url_decode(params["challenge"], "challenge")
        challenge = TokenChallenge.decode(raw)
        token_key = b64url_decode(params["token-key"], "token-key")
        max_age = None
        if "max-age" in params:
            text = params["max-age"]
            if not text.isdigit() or len(text) > 10:
                raise DecodeError("PrivateToken challenge: max-age is not a number of seconds")
            max_age = int(text)
        found.append(PrivateTokenChallenge(challenge, raw, token_key, max_age))
    return found


def parse_authorization(header: str) -> Token:
    """The token in an ``Authorization: PrivateToken token=...`` value (RFC 9577 §2.2).

    Raises DecodeError when the header is not exactly one PrivateToken credential
    with a ``token`` parameter of token type 0x0002.
    """
    parsed = _parse_challenges(header)
    if len(parsed) != 1 or parsed[0][0].lower() != SCHEME.lower():
        raise DecodeError("Authorization: not one PrivateToken credential")
    params = parsed[0][1]
    if "token" not in params:
        raise DecodeError("Authorization: PrivateToken without token")
    return Token.decode(b64url_decode(params["token"], "token"))
