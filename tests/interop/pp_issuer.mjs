// An independent Privacy Pass issuer (Cloudflare's @cloudflare/privacypass-ts) over plain HTTP,
// so privproc's client can be checked against it.
//
// Usage: node pp_issuer.mjs PORT ISSUER_NAME
// Serves the issuer directory, POST /token-request and POST /verify (a Token; 200 if it verifies
// under this issuer's key, 403 if not). Prints "ready" once listening; stops on SIGTERM.
import http from 'node:http';
import {
    MediaType,
    PRIVATE_TOKEN_ISSUER_DIRECTORY,
    TOKEN_TYPES,
    Token,
    publicVerif,
} from '@cloudflare/privacypass-ts';
import { base64url } from 'rfc4648';

const [portText, issuerName] = process.argv.slice(2);
const mode = publicVerif.BlindRSAMode.PSS;
const keys = await publicVerif.Issuer.generateKey(mode, {
    modulusLength: 2048,
    publicExponent: Uint8Array.from([1, 0, 1]),
});
const issuer = new publicVerif.Issuer(mode, issuerName, keys.privateKey, keys.publicKey);
const tokenKey = await publicVerif.getPublicKeyBytes(keys.publicKey);

const readBody = (req) =>
    new Promise((resolve, reject) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
        req.on('error', reject);
    });

const server = http.createServer(async (req, res) => {
    try {
        if (req.method === 'GET' && req.url === PRIVATE_TOKEN_ISSUER_DIRECTORY) {
            const body = JSON.stringify({
                'issuer-request-uri': '/token-request',
                'token-keys': [
                    { 'token-type': TOKEN_TYPES.BLIND_RSA.value, 'token-key': base64url.stringify(tokenKey) },
                ],
            });
            res.writeHead(200, { 'content-type': MediaType.PRIVATE_TOKEN_ISSUER_DIRECTORY });
            res.end(body);
        } else if (req.method === 'POST' && req.url === '/token-request') {
            if (req.headers['content-type'] !== MediaType.PRIVATE_TOKEN_REQUEST) {
                res.writeHead(415);
                res.end();
                return;
            }
            const request = publicVerif.TokenRequest.deserialize(TOKEN_TYPES.BLIND_RSA, await readBody(req));
            const response = await issuer.issue(request);
            res.writeHead(200, { 'content-type': MediaType.PRIVATE_TOKEN_RESPONSE });
            res.end(Buffer.from(response.serialize()));
        } else if (req.method === 'POST' && req.url === '/verify') {
            const token = Token.deserialize(TOKEN_TYPES.BLIND_RSA, await readBody(req));
            const ok = await issuer.verify(token);
            res.writeHead(ok ? 200 : 403);
            res.end();
        } else {
            res.writeHead(404);
            res.end();
        }
    } catch (err) {
        res.writeHead(422);
        res.end(String(err));
    }
});
server.listen(Number(portText), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
