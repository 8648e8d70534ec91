"""bhttp (RFC 9292): construction rules, every decode limit, every bad-input class."""

from __future__ import annotations

import pytest

from privproc import bhttp
from privproc.bhttp import Framing, Informational, Limits, Request, Response, decode, encode
from privproc.errors import DecodeError, MisuseError


def _req(**kw: object) -> Request:
    args: dict[str, object] = {
        "method": "POST",
        "scheme": "https",
        "authority": "gateway.example",
        "path": "/",
    }
    args.update(kw)
    return Request(**args)  # type: ignore[arg-type]


def _vec(b: bytes) -> bytes:
    """A varint-prefixed vector, for hand-built messages (all under 64 bytes)."""
    assert len(b) < 64
    return bytes([len(b)]) + b


GET = b"\x00" + _vec(b"GET") + _vec(b"https") + _vec(b"example.com") + _vec(b"/")
GET_INDET = b"\x02" + GET[1:]


def _known_req(headers: bytes = b"", content: bytes = b"", trailers: bytes = b"") -> bytes:
    return GET + _vec(headers) + _vec(content) + _vec(trailers)


# --- construction (MisuseError) ------------------------------------------------


def test_media_type() -> None:
    assert bhttp.MEDIA_TYPE == "message/bhttp"


def test_names_lower_cased_and_lists_become_tuples() -> None:
    r = _req(headers=[(b"Content-Type", b"text/plain")], trailers=[[b"X-T", b"1"]])
    assert r.headers == ((b"content-type", b"text/plain"),)
    assert r.trailers == ((b"x-t", b"1"),)
    assert encode(r) == encode(
        _req(headers=((b"content-type", b"text/plain"),), trailers=r.trailers)
    )


def test_values_frozen() -> None:
    r = _req()
    with pytest.raises(AttributeError):
        r.method = "GET"  # type: ignore[misc]


@pytest.mark.parametrize(
    "headers",
    [
        [("content-type", b"x")],  # str name
        [(b"content-type", "x")],  # str value
        [(b"a", b"b", b"c")],  # not a pair
        [b"ab"],  # not a pair
        b"ab",  # not a sequence of pairs
        [(b"", b"x")],  # empty name
        [(b"bad name", b"x")],  # space in name
        [(b"bad:name", b"x")],  # colon in name
        [(b"caf\xc3\xa9", b"x")],  # non-ASCII name
        [(b"x", b"a\r\nb")],  # CRLF in value
        [(b"x", b"a\x00b")],  # NUL in value
        [(b"x", b"a\x01b")],  # CTL in value
        [(b"x", b"a\x7fb")],  # DEL in value
        [(b"x", b" a")],  # leading space
        [(b"x", b"a\t")],  # trailing tab
        [(b":path", b"/")],  # reserved pseudo-field
        [(b":status", b"200")],  # reserved pseudo-field
        [(b"x", b"1"), (b":protocol", b"websocket")],  # pseudo after regular
        [(b":", b"x")],  # bare colon
    ],
)
def test_bad_headers_are_misuse(headers: object) -> None:
    with pytest.raises(MisuseError):
        _req(headers=headers)


def test_pseudo_field_allowed_first_in_headers_not_in_trailers() -> None:
    r = _req(method="CONNECT", headers=[(b":protocol", b"websocket"), (b"x", b"1")])
    assert decode(encode(r)) == r
    with pytest.raises(MisuseError):
        _req(trailers=[(b":protocol", b"websocket")])


def test_obs_text_and_inner_whitespace_allowed_in_values() -> None:
    r = _req(headers=[(b"x", b"caf\xc3\xa9 \t au lait"), (b"empty", b"")])
    assert decode(encode(r)) == r


@pytest.mark.parametrize(
    "kw",
    [
        {"method": ""},
        {"method": "GE T"},
        {"method": b"GET"},
        {"scheme": ""},
        {"scheme": "1http"},
        {"scheme": "ht tp"},
        {"authority": "exa mple.com"},
        {"authority": "user@example.com"},  # userinfo, https
        {"authority": "ex\u00e4mple.com"},
        {"path": ""},
        {"path": "hello"},  # http(s) path must start with /
        {"path": "/a b"},
        {"path": "/\x7f"},
        {"path": "*"},  # only for OPTIONS
        {"content": "text"},
        {"content": None},
    ],
)
def test_bad_request_is_misuse(kw: dict[str, object]) -> None:
    with pytest.raises(MisuseError):
        _req(**kw)


def test_control_data_edge_cases_allowed() -> None:
    assert _req(method="OPTIONS", path="*").path == "*"
    assert _req(authority="").authority == ""
    assert _req(scheme="coap", authority="user@host", path="x").path == "x"
    assert _req(authority="[::1]:8443").authority == "[::1]:8443"
    assert _req(content=bytearray(b"ab")).content == b"ab"


@pytest.mark.parametrize("status", [0, 99, 100, 199, 600, True, "200"])
def test_bad_final_status_is_misuse(status: object) -> None:
    with pytest.raises(MisuseError):
        Response(status)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [99, 200, 600])
def test_bad_informational_status_is_misuse(status: int) -> None:
    with pytest.raises(MisuseError):
        Informational(status)


def test_informational_must_be_informational_values() -> None:
    with pytest.raises(MisuseError):
        Response(200, informational=[(103, ())])  # type: ignore[arg-type]
    with pytest.raises(MisuseError):
        Response(200, informational=b"")  # type: ignore[arg-type]
    # lists are accepted at run time and stored as tuples
    r = Response(200, informational=[Informational(103, [(b"Link", b"</a>")])])  # type: ignore[arg-type]
    assert r.informational == (Informational(103, ((b"link", b"</a>"),)),)


def test_repr_shows_no_content_path_or_values() -> None:
    r = _req(path="/secret-path", headers=[(b"authorization", b"secret-token")], content=b"secret")
    text = repr(r) + repr(Response(200, headers=((b"x", b"secret"),), content=b"secret"))
    text += repr(Informational(103, ((b"link", b"secret"),)))
    assert "secret" not in text
    assert "POST" in text
    assert "200" in text


def test_encode_misuse() -> None:
    with pytest.raises(MisuseError):
        encode(_req(), framing="chunked")  # type: ignore[arg-type]
    with pytest.raises(MisuseError):
        encode(_req(), padding=-1)
    with pytest.raises(MisuseError):
        encode(_req(), padding=True)
    with pytest.raises(MisuseError):
        encode(b"\x00")  # type: ignore[arg-type]


def test_decode_misuse() -> None:
    with pytest.raises(MisuseError):
        decode("0140c8")  # type: ignore[arg-type]
    with pytest.raises(MisuseError):
        decode(b"\x01\x40\xc8", limits={"content": 1})  # type: ignore[arg-type]
    with pytest.raises(MisuseError):
        Limits(content=-1)
    with pytest.raises(MisuseError):
        Limits(field_section=1.5)  # type: ignore[arg-type]


# --- encoding ------------------------------------------------------------------


def test_truncate_drops_only_empty_trailing_parts() -> None:
    full = _req(headers=[(b"a", b"b")], content=b"c", trailers=[(b"t", b"u")])
    assert encode(full, truncate=True) == encode(full)
    no_trailers = _req(headers=[(b"a", b"b")], content=b"c")
    assert encode(no_trailers, truncate=True) == encode(no_trailers)[:-1]
    no_content = _req(headers=[(b"a", b"b")])
    assert encode(no_content, truncate=True) == encode(no_content)[:-2]
    bare = _req()
    assert encode(bare, truncate=True) == encode(bare)[:-3]
    # trailers present but content empty: nothing can go (RFC 9292 §3.8)
    t_only = _req(trailers=[(b"t", b"u")])
    assert encode(t_only, truncate=True) == encode(t_only)
    for m in (full, no_trailers, no_content, bare, t_only):
        for framing in ("known", "indeterminate"):
            assert decode(encode(m, framing=framing, truncate=True, padding=3)) == m


def test_indeterminate_empty_content_has_no_chunk() -> None:
    get = Request("GET", "https", "example.com", "/")
    assert encode(get, framing="indeterminate") == GET_INDET + b"\x00\x00\x00"


# --- decoding: truncation and padding (RFC 9292 §3.8) ---------------------------


def test_truncation_points() -> None:
    want = Request("GET", "https", "example.com", "/")
    for data in (GET, GET + b"\x00", GET + b"\x00\x00", GET + b"\x00\x00\x00", GET_INDET):
        assert decode(data) == want
    assert decode(GET + b"\x00" * 40) == want  # zeros read as empty parts, then padding
    assert decode(b"\x01\x40\xc8") == Response(200)
    assert decode(b"\x03\x40\xc8\x00\x00\x00\x00\x00") == Response(200)


def test_non_minimal_varints_accepted() -> None:
    # RFC 9292 §3: integers need not use the fewest bytes.
    assert decode(b"\x40\x01\x80\x00\x00\xc8") == Response(200)


@pytest.mark.parametrize(
    "data",
    [
        GET + b"\x00\x00\x00\x01",  # non-zero padding
        GET + b"\x00\x00\x00\x00\x00\x80",
        GET_INDET + b"\x00\x00\x00\xff",
    ],
)
def test_non_zero_padding(data: bytes) -> None:
    with pytest.raises(DecodeError, match="padding"):
        decode(data)


# --- decoding: bad input classes (DecodeError only) ----------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x04", id="framing-4"),
        pytest.param(b"\x3f", id="framing-63"),
        pytest.param(b"\x40", id="truncated-varint"),
        pytest.param(b"\x00", id="request-no-control-data"),
        pytest.param(b"\x00\x03GE", id="truncated-method"),
        pytest.param(b"\x00\x03GET\x05https", id="missing-authority-and-path"),
        pytest.param(GET[:-1], id="truncated-path"),
        pytest.param(b"\x00" + _vec(b"G\xc3T") + GET[5:], id="non-ascii-method"),
        pytest.param(b"\x00" + _vec(b"G T") + GET[5:], id="method-not-token"),
        pytest.param(b"\x00" + _vec(b"GET") + _vec(b"") + GET[10:], id="empty-scheme"),
        pytest.param(GET[:-2] + _vec(b""), id="empty-path"),
        pytest.param(b"\x01", id="response-no-status"),
        pytest.param(b"\x01\x00", id="status-0"),
        pytest.param(b"\x01\x40\x63", id="status-99"),
        pytest.param(b"\x01\x42\x58", id="status-600"),
        pytest.param(b"\x01\x80\x01\x00\x00", id="status-65536"),
        pytest.param(b"\x01\x40\x67\x00", id="informational-without-final"),
        pytest.param(b"\x01\x40\x67", id="informational-truncated"),
        pytest.param(b"\x03\x40\x67\x00\x00", id="indeterminate-informational-then-status-0"),
        pytest.param(GET + b"\x05\x01a", id="known-section-longer-than-data"),
        pytest.param(GET + _vec(b"\x00\x00"), id="empty-field-name"),
        pytest.param(GET + _vec(b"\x01a"), id="field-line-missing-value"),
        pytest.param(GET + _vec(b"\x01a\x05ab"), id="field-value-truncated"),
        pytest.param(GET + _vec(_vec(b"Host") + _vec(b"x")), id="upper-case-name"),
        pytest.param(GET + _vec(_vec(b"a b") + _vec(b"x")), id="name-not-token"),
        pytest.param(GET + _vec(_vec(b"a") + _vec(b"x\r\ny: z")), id="crlf-in-value"),
        pytest.param(GET + _vec(_vec(b"a") + _vec(b"x ")), id="trailing-space-in-value"),
        pytest.param(GET + _vec(_vec(b":path") + _vec(b"/")), id="reserved-pseudo-field"),
        pytest.param(
            GET + _vec(_vec(b"a") + _vec(b"1") + _vec(b":protocol") + _vec(b"ws")),
            id="pseudo-after-regular",
        ),
        pytest.param(
            GET + _vec(b"") + _vec(b"") + _vec(_vec(b":protocol") + _vec(b"ws")),
            id="pseudo-in-trailers",
        ),
        pytest.param(GET + b"\x00\x05abc", id="content-truncated"),
        pytest.param(GET + b"\x00\x00\x05\x01a", id="trailers-truncated"),
        pytest.param(GET_INDET + _vec(b"a") + _vec(b"b"), id="indeterminate-section-unterminated"),
        pytest.param(GET_INDET + b"\x00\x03abc", id="indeterminate-content-unterminated"),
        pytest.param(GET_INDET + b"\x00\x03ab", id="indeterminate-chunk-truncated"),
        pytest.param(GET_INDET + b"\x00\x00\x01a\x00", id="indeterminate-trailers-bad-line"),
    ],
)
def test_bad_input_is_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(data)


def test_upper_case_name_refused_on_decode_though_constructor_lowers() -> None:
    with pytest.raises(DecodeError, match="upper-case"):
        decode(GET + _vec(_vec(b"Host") + _vec(b"x")))
    assert decode(GET + _vec(_vec(b"host") + _vec(b"x"))).headers == ((b"host", b"x"),)


def test_decode_request_and_response_refuse_the_other_kind() -> None:
    with pytest.raises(DecodeError):
        bhttp.decode_request(b"\x01\x40\xc8")
    with pytest.raises(DecodeError):
        bhttp.decode_response(GET)
    assert bhttp.decode_request(GET).method == "GET"
    assert bhttp.decode_response(b"\x01\x40\xc8").status == 200


# --- decoding: limits (each one, at and over) -----------------------------------


@pytest.mark.parametrize("framing", ["known", "indeterminate"])
def test_limit_field_section(framing: Framing) -> None:
    headers = ((b"x", b"a" * 100),)  # one line: 1 + 1 + 2 + 100 = 104 bytes
    for section, msg in (
        ("header", _req(headers=headers)),
        ("trailer", _req(trailers=headers)),
        ("informational", Response(200, informational=(Informational(103, headers),))),
    ):
        data = encode(msg, framing=framing)
        assert decode(data, limits=Limits(field_section=104)) == msg
        with pytest.raises(DecodeError, match=f"{section} .*limit"):
            decode(data, limits=Limits(field_section=103))


def test_limit_field_section_long_name_refused_before_reading() -> None:
    data = GET_INDET + b"\x80\x01\x00\x00"  # name length 65536, no bytes follow
    with pytest.raises(DecodeError, match="limit"):
        decode(data, limits=Limits(field_section=1000))


@pytest.mark.parametrize("framing", ["known", "indeterminate"])
def test_limit_content(framing: Framing) -> None:
    msg = _req(content=b"x" * 50)
    data = encode(msg, framing=framing)
    assert decode(data, limits=Limits(content=50)) == msg
    with pytest.raises(DecodeError, match="limit"):
        decode(data, limits=Limits(content=49))


def test_limit_content_counts_all_chunks() -> None:
    data = GET_INDET + b"\x00" + b"\x0a" + b"a" * 10 + b"\x0a" + b"b" * 10 + b"\x00\x00"
    assert decode(data, limits=Limits(content=20)).content == b"a" * 10 + b"b" * 10
    with pytest.raises(DecodeError, match="limit"):
        decode(data, limits=Limits(content=19))


@pytest.mark.parametrize("framing", ["known", "indeterminate"])
def test_limit_field_lines(framing: Framing) -> None:
    msg = _req(headers=((b"a", b"1"),) * 5, trailers=((b"b", b"2"),) * 5)
    data = encode(msg, framing=framing)
    assert decode(data, limits=Limits(field_lines=5)) == msg
    with pytest.raises(DecodeError, match="field lines"):
        decode(data, limits=Limits(field_lines=4))
    info = Response(200, informational=(Informational(103, ((b"link", b"</a>"),) * 5),))
    data = encode(info, framing=framing)
    assert decode(data, limits=Limits(field_lines=5)) == info
    with pytest.raises(DecodeError, match="field lines"):
        decode(data, limits=Limits(field_lines=4))


def test_limit_content_chunks() -> None:
    data = GET_INDET + b"\x00" + b"\x01a" * 5 + b"\x00\x00"
    assert decode(data, limits=Limits(content_chunks=5)).content == b"aaaaa"
    with pytest.raises(DecodeError, match="chunks"):
        decode(data, limits=Limits(content_chunks=4))


def test_limit_informational() -> None:
    msg = Response(200, informational=(Informational(100),) * 3)
    for framing in ("known", "indeterminate"):
        data = encode(msg, framing=framing)
        assert decode(data, limits=Limits(informational=3)) == msg
        with pytest.raises(DecodeError, match="informational"):
            decode(data, limits=Limits(informational=2))


def test_limit_informational_default() -> None:
    many = b"\x01" + b"\x40\x64\x00" * 257 + b"\x40\xc8"
    with pytest.raises(DecodeError, match="256"):
        decode(many)
    assert len(bhttp.decode_response(many[:1] + many[1 + 3 :]).informational) == 256


@pytest.mark.parametrize("part", ["method", "scheme", "authority", "path"])
def test_limit_control_field(part: str) -> None:
    values = {"method": "M" * 30, "scheme": "s" * 30, "authority": "a" * 30, "path": "/" * 30}
    msg = _req(**{part: values[part]})
    data = encode(msg)
    assert decode(data, limits=Limits(control_field=30)) == msg
    with pytest.raises(DecodeError, match=part):
        decode(data, limits=Limits(control_field=29))


def test_default_limits() -> None:
    d = bhttp.DEFAULT_LIMITS
    assert (d.field_section, d.field_lines) == (64 * 1024, 1024)
    assert (d.content, d.content_chunks) == (16 * 1024 * 1024, 65536)
    assert (d.informational, d.control_field) == (256, 16 * 1024)
    big = _req(content=b"\x00" * (d.content + 1))
    with pytest.raises(DecodeError):
        decode(encode(big))


_CANARY = b"canary-plaintext-0b7d"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(GET + _vec(_vec(b"x") + _vec(_CANARY + b"\r\n")), id="value-crlf"),
        pytest.param(GET + _vec(_vec(b"x") + _vec(_CANARY + b" ")), id="value-space"),
        pytest.param(GET + _vec(_vec(b"X" + _CANARY) + _vec(b"v")), id="name-upper"),
        pytest.param(GET + _vec(_vec(_CANARY + b" ") + _vec(b"v")), id="name-not-token"),
        pytest.param(GET[:-2] + _vec(b"/" + _CANARY + b" x"), id="path-space"),
        pytest.param(GET[:-2] + _vec(b"/" + _CANARY + b"\xff"), id="path-non-ascii"),
        pytest.param(GET + b"\x00" + _vec(_CANARY) + b"\x00\x01", id="padding-after-content"),
        pytest.param(GET + b"\x00\x3f" + _CANARY, id="content-truncated"),
    ],
)
def test_decode_errors_never_quote_the_message(data: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode(data)
    text = str(info.value) + repr(info.value)
    assert _CANARY.decode() not in text
    assert _CANARY.hex() not in text


def test_construction_errors_never_quote_values() -> None:
    secret = _CANARY.decode()
    for kw in (
        {"headers": [(b"x", _CANARY + b"\n")]},
        {"headers": [(_CANARY + b" ", b"v")]},
        {"path": "/" + secret + " x"},
        {"authority": secret + " x"},
        {"method": secret + " x"},
    ):
        with pytest.raises(MisuseError) as info:
            _req(**kw)
        assert secret not in str(info.value)
