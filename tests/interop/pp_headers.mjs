// RFC 9577 headers through Cloudflare's @cloudflare/privacypass-ts, for privproc's interop test.
//
// Usage: node pp_headers.mjs WWW_AUTHENTICATE_VALUE TOKEN_HEX
// Parses our WWW-Authenticate value with the library and formats our token as the library's
// Authorization value and WWW-Authenticate value, quoted and unquoted. Prints one JSON object.
import {
    AuthorizationHeader,
    TOKEN_TYPES,
    Token,
    WWWAuthenticateHeader,
} from '@cloudflare/privacypass-ts';

const [wwwAuthenticate, tokenHex] = process.argv.slice(2);
const hex = (b) => Buffer.from(b).toString('hex');

const parsed = WWWAuthenticateHeader.parse(wwwAuthenticate);
const token = Token.deserialize(TOKEN_TYPES.BLIND_RSA, new Uint8Array(Buffer.from(tokenHex, 'hex')));
const authorization = new AuthorizationHeader(token);
const ours = AuthorizationHeader.parse(TOKEN_TYPES.BLIND_RSA, authorization.toString(true));
console.log(
    JSON.stringify({
        challenges: parsed.map((h) => ({
            challenge: hex(h.challenge.serialize()),
            token_key: hex(h.tokenKey),
            max_age: h.maxAge ?? null,
        })),
        authorization_quoted: authorization.toString(true),
        authorization_bare: authorization.toString(false),
        www_authenticate_quoted: parsed[0].toString(true),
        www_authenticate_bare: parsed[0].toString(false),
        roundtrip_ok: ours.length === 1 && hex(ours[0].token.serialize()) === tokenHex,
    }),
);
