// Reads JSON lines {"kind": "offer"|"invoice", "text": "..."} on stdin and prints one JSON
// line per input: what boltz-bolt12 (LDK compiled to WASM) parsed, or the error it raised.
// Usage: node --experimental-wasm-modules boltz_check.mjs <node_modules/boltz-bolt12 folder>
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const { Offer, Invoice } = await import(pathToFileURL(join(process.argv[2], "boltz_bolt12.js")).href);

const hex = (bytes) => (bytes ? Buffer.from(bytes).toString("hex") : null);

function check(kind, text) {
  if (kind === "offer") {
    const offer = new Offer(text);
    return {
      ok: true,
      description: offer.description ?? null,
      issuer: offer.issuer ?? null,
      signing_pubkey: hex(offer.signing_pubkey),
      amount: offer.amount === undefined ? null : offer.amount.toString(),
      paths: offer.paths.length,
    };
  }
  const invoice = new Invoice(text);
  return {
    ok: true,
    signing_pubkey: hex(invoice.signing_pubkey),
    payment_hash: hex(invoice.payment_hash),
    amount: invoice.amount_msat.toString(),
    payment_paths: invoice.payment_paths.length,
  };
}

for await (const line of createInterface({ input: process.stdin })) {
  const { kind, text } = JSON.parse(line);
  let result;
  try {
    result = check(kind, text);
  } catch (error) {
    result = { ok: false, error: String(error) };
  }
  console.log(JSON.stringify(result));
}
