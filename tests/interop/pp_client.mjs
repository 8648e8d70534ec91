// An independent Privacy Pass client (Cloudflare's @cloudflare/privacypass-ts) that obtains
// type 0x0002 tokens from an issuer over HTTP and verifies them with the library's Origin.
//
// Usage: node pp_client.mjs ISSUER_URL ISSUER_NAME ORIGIN COUNT
// Prints one JSON line per token: {"challenge": hex, "token": hex, "token_key": hex, "verified": bool}
import {
    MediaType,
    PRIVATE_TOKEN_ISSUER_DIRECTORY,
    TOKEN_TYPES,
    Token,
    publicVerif,
    sendTokenRequest,
    util,
} from '@cloudflare/privacypass-ts';
import { base64url } from 'rfc4648';

const [issuerUrl, issuerName, origin, countText] = process.argv.slice(2);
const hex = (b) => Buffer.from(b).toString('hex');

const res = await fetch(issuerUrl + PRIVATE_TOKEN_ISSUER_DIRECTORY);
if (res.status !== 200) throw new Error(`directory: HTTP ${res.status}`);
const contentType = res.headers.get('content-type');
if (contentType !== MediaType.PRIVATE_TOKEN_ISSUER_DIRECTORY) {
    throw new Error(`directory: content-type ${contentType}`);
}
const directory = await res.json();
const entry = directory['token-keys'].find((k) => k['token-type'] === TOKEN_TYPES.BLIND_RSA.value);
const tokenKey = base64url.parse(entry['token-key']);
const requestUrl = new URL(directory['issuer-request-uri'], issuerUrl).toString();

const originVerifier = new publicVerif.Origin(publicVerif.BlindRSAMode.PSS, [origin]);
const challenge = originVerifier.createTokenChallenge(issuerName, new Uint8Array(0));
const issuerKey = await crypto.subtle.importKey(
    'spki',
    util.convertRSASSAPSSToEnc(tokenKey),
    TOKEN_TYPES.BLIND_RSA.rsaParams,
    true,
    ['verify'],
);

for (let i = 0; i < Number(countText); i++) {
    const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
    const request = await client.createTokenRequest(challenge, tokenKey);
    const responseBytes = await sendTokenRequest(request.serialize(), requestUrl);
    const token = await client.finalize(client.deserializeTokenResponse(responseBytes));
    const again = Token.deserialize(TOKEN_TYPES.BLIND_RSA, token.serialize());
    const verified = await originVerifier.verify(again, issuerKey);
    console.log(
        JSON.stringify({
            challenge: hex(challenge.serialize()),
            token: hex(token.serialize()),
            token_key: hex(tokenKey),
            verified,
        }),
    );
}
