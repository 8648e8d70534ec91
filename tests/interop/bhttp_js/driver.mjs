// Drives bhttp-js (an independent RFC 9292 implementation, TypeScript) for
// tests/interop/test_bhttp_js.py: reads a JSON list of jobs on stdin, writes a
// JSON list of results on stdout. Hex in, hex out; no network.
import { BHttpDecoder, BHttpEncoder } from "bhttp-js";

const hex = (u8) => Buffer.from(u8).toString("hex");
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));

async function describe(msg) {
  const out = { ok: true, headers: [...msg.headers], body_hex: hex(new Uint8Array(await msg.arrayBuffer())) };
  if (msg instanceof Request) {
    out.method = msg.method;
    out.url = msg.url;
  } else {
    out.status = msg.status;
  }
  return out;
}

async function run(job) {
  try {
    if (job.op === "decode-request") {
      return await describe(new BHttpDecoder().decodeRequest(unhex(job.hex)));
    }
    if (job.op === "decode-response") {
      return await describe(new BHttpDecoder().decodeResponse(unhex(job.hex)));
    }
    const body = job.body_hex ? unhex(job.body_hex) : undefined;
    if (job.op === "encode-request") {
      const req = new Request(job.url, { method: job.method, headers: job.headers, body });
      return { ok: true, hex: hex(await new BHttpEncoder().encodeRequest(req)) };
    }
    if (job.op === "encode-response") {
      const res = new Response(body, { status: job.status, headers: job.headers });
      return { ok: true, hex: hex(await new BHttpEncoder().encodeResponse(res)) };
    }
    return { ok: false, error: `unknown op ${job.op}` };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const jobs = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const job of jobs) results.push(await run(job));
process.stdout.write(JSON.stringify(results));
