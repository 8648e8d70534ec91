// Drives hpke-js (@hpke/*, an independent RFC 9180 implementation, TypeScript) for
// tests/interop/test_hpke_js.py: reads a JSON list of jobs on stdin, writes a JSON
// list of results on stdout. Hex in, hex out; no network. The OHTTP jobs are a
// small RFC 9458 §4.3/§4.4 encapsulation written here on top of hpke-js, with the
// response layer on node's own crypto (HKDF, AES-GCM, ChaCha20-Poly1305).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { Aes128Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { XWing } from "@hpke/hybridkem-x-wing";

const hex = (b) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("hex");
const unhex = (s) => new Uint8Array(Buffer.from(s ?? "", "hex"));
const te = new TextEncoder();

const KEMS = { 0x0010: DhkemP256HkdfSha256, 0x0020: DhkemX25519HkdfSha256, 0x647a: XWing };
const AEADS = { 0x0001: [Aes128Gcm, "aes-128-gcm", 16], 0x0003: [Chacha20Poly1305, "chacha20-poly1305", 32] };
const N_N = 12;
const N_T = 16;

function suiteOf(job) {
  if (job.kdf !== 0x0001) throw new Error(`kdf ${job.kdf} not in this driver`);
  return new CipherSuite({ kem: new KEMS[job.kem](), kdf: new HkdfSha256(), aead: new AEADS[job.aead][0]() });
}

function pskOf(job) {
  return job.psk ? { psk: { key: unhex(job.psk), id: unhex(job.psk_id) } } : {};
}

async function publicKey(suite, job) {
  return await suite.kem.deserializePublicKey(unhex(job.pk));
}

// RFC 5869 HKDF-SHA256 on node's HMAC (not hpke-js): the §4.4 response keys.
const extract = (salt, ikm) => createHmac("sha256", salt).update(ikm).digest();
function expand(prk, info, length) {
  let t = Buffer.alloc(0);
  let out = Buffer.alloc(0);
  for (let i = 1; out.length < length; i++) {
    t = createHmac("sha256", prk).update(Buffer.concat([t, te.encode(info), Buffer.from([i])])).digest();
    out = Buffer.concat([out, t]);
  }
  return out.subarray(0, length);
}

function responseAead(job, enc, secret, nonce) {
  const [, name, nK] = AEADS[job.aead];
  const prk = extract(Buffer.concat([Buffer.from(enc), nonce]), Buffer.from(secret));
  return [name, expand(prk, "key", nK), expand(prk, "nonce", N_N)];
}

function header(job) {
  const h = Buffer.alloc(7);
  h.writeUInt8(job.key_id, 0);
  h.writeUInt16BE(job.kem, 1);
  h.writeUInt16BE(job.kdf, 3);
  h.writeUInt16BE(job.aead, 5);
  return h;
}

const requestInfo = (hdr) => Buffer.concat([te.encode("message/bhttp request"), Buffer.from([0]), hdr]);
const nonceLen = (job) => Math.max(N_N, AEADS[job.aead][2]);

async function run(job) {
  const suite = suiteOf(job);
  if (job.op === "derive") {
    const kp = await suite.kem.deriveKeyPair(unhex(job.ikm));
    return {
      sk: hex(await suite.kem.serializePrivateKey(kp.privateKey)),
      pk: hex(await suite.kem.serializePublicKey(kp.publicKey)),
    };
  }
  if (job.op === "seal") {
    const ctx = await suite.createSenderContext({
      recipientPublicKey: await publicKey(suite, job),
      info: unhex(job.info),
      ...pskOf(job),
    });
    const ct = await ctx.seal(unhex(job.pt), unhex(job.aad));
    const exported = await ctx.export(unhex(job.exporter_context), job.export_len);
    return { enc: hex(ctx.enc), ct: hex(ct), exported: hex(exported) };
  }
  if (job.op === "open") {
    const ctx = await suite.createRecipientContext({
      recipientKey: await suite.kem.deserializePrivateKey(unhex(job.sk)),
      enc: unhex(job.enc),
      info: unhex(job.info),
      ...pskOf(job),
    });
    const pt = await ctx.open(unhex(job.ct), unhex(job.aad));
    const exported = await ctx.export(unhex(job.exporter_context), job.export_len);
    return { pt: hex(pt), exported: hex(exported) };
  }
  if (job.op === "ohttp-client") {
    // §4.3 client side; with job.ikm_e fixed, a second job re-derives the same context
    // to open the response (§4.4) that the Python gateway sealed in between.
    const hdr = header(job);
    const ctx = await suite.createSenderContext({
      recipientPublicKey: await publicKey(suite, job),
      info: requestInfo(hdr),
      ekm: unhex(job.ikm_e),
    });
    const ct = await ctx.seal(unhex(job.request));
    const out = { data: hex(Buffer.concat([hdr, Buffer.from(ctx.enc), Buffer.from(ct)])) };
    if (job.response) {
      const secret = await ctx.export(te.encode("message/bhttp response"), nonceLen(job));
      const res = Buffer.from(unhex(job.response));
      const n = nonceLen(job);
      const [name, key, nonce] = responseAead(job, ctx.enc, secret, res.subarray(0, n));
      const d = createDecipheriv(name, key, nonce, { authTagLength: N_T });
      d.setAuthTag(res.subarray(res.length - N_T));
      out.response = hex(Buffer.concat([d.update(res.subarray(n, res.length - N_T)), d.final()]));
    }
    return out;
  }
  if (job.op === "ohttp-gateway") {
    // §4.3 gateway side for one key; then seals job.response per §4.4.
    const data = Buffer.from(unhex(job.data));
    const hdr = data.subarray(0, 7);
    if (!hdr.equals(header(job))) throw new Error("header mismatch");
    const nEnc = suite.kem.encSize;
    const enc = data.subarray(7, 7 + nEnc);
    const ctx = await suite.createRecipientContext({
      recipientKey: await suite.kem.deserializePrivateKey(unhex(job.sk)),
      enc,
      info: requestInfo(hdr),
    });
    const request = await ctx.open(data.subarray(7 + nEnc));
    const secret = await ctx.export(te.encode("message/bhttp response"), nonceLen(job));
    const responseNonce = randomBytes(nonceLen(job));
    const [name, key, nonce] = responseAead(job, enc, secret, responseNonce);
    const c = createCipheriv(name, key, nonce, { authTagLength: N_T });
    const sealed = Buffer.concat([c.update(unhex(job.response)), c.final(), c.getAuthTag()]);
    return { request: hex(request), response: hex(Buffer.concat([responseNonce, sealed])) };
  }
  throw new Error(`unknown op ${job.op}`);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const results = [];
for (const job of JSON.parse(Buffer.concat(chunks).toString())) {
  try {
    results.push({ ok: true, ...(await run(job)) });
  } catch (e) {
    results.push({ ok: false, error: `${e.name}: ${e.message}` });
  }
}
process.stdout.write(JSON.stringify(results));
