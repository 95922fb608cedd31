// A webhook receiver for bench/webhooks.sh: Node's http module (keep-alive), verifying every Standard Webhooks
// signature with the secret POSTed to /config, answering 204. GET /stats: deliveries taken, bad signatures, messages
// seen twice, deliveries out of seq order per poll, and the first and last arrival (ms since the epoch).
// With --send URL N it is instead the baseline sender: N signed POSTs of a vote-sized body, one at a time, on one
// keep-alive connection, as a minimal in-order webhook sender would make them (its secret POSTed to /config first).
"use strict";
const http = require("node:http");
const crypto = require("node:crypto");

function sign(key, id, timestamp, body) {
  return "v1," + crypto.createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
}

if (process.argv[2] === "--send") {
  const url = new URL(process.argv[3]);
  const count = Number(process.argv[4]);
  const key = crypto.randomBytes(32);
  const poll = "base" + Date.now().toString(36).slice(-6); // ids of its own: a new one each run
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let i = 0;
  let started = 0;
  const next = () => {
    if (i === count) {
      const ms = Date.now() - started;
      console.log(JSON.stringify({ sent: count, ms, perSecond: Math.round(count / (ms / 1000)) }));
      agent.destroy();
      return;
    }
    i++;
    const body = Buffer.from(JSON.stringify({ type: "vote.counted", timestamp: new Date().toISOString(),
      data: { pollId: poll, seq: i, position: 4096 + i, workspace: "default", voteId: poll + "-" + i, optionIds: [1 + (i % 3)], voter: "h:0123456789abcdef0123456789abcdef" } }));
    const id = "msg_" + poll + "_" + i, timestamp = Math.floor(Date.now() / 1000);
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent,
      headers: { "content-type": "application/json", "content-length": body.length, "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": sign(key, id, timestamp, body) } },
      (response) => { response.resume(); response.on("end", next); });
    request.on("error", (e) => { console.error(e.message); process.exit(1); });
    request.end(body);
  };
  // The receiver verifies with this sender's secret, as it does with Tally's.
  const config = Buffer.from(JSON.stringify({ secret: "whsec_" + key.toString("base64") }));
  http.request({ host: url.hostname, port: url.port, path: "/config", method: "POST", headers: { "content-length": config.length } },
    (response) => { response.resume(); response.on("end", () => { started = Date.now(); next(); }); }).end(config);
} else {
  receive();
}

function receive() {
let key = null;
const seen = new Set();
const lastSeq = new Map();
const stats = { taken: 0, bad: 0, duplicates: 0, outOfOrder: 0, firstAt: 0, lastAt: 0 };
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (c) => chunks.push(c));
  request.on("end", () => {
    const body = Buffer.concat(chunks);
    if (request.method === "POST" && request.url === "/config") {
      const secret = JSON.parse(body).secret;
      key = secret ? Buffer.from(secret.slice("whsec_".length), "base64") : null;
      response.writeHead(204).end();
      return;
    }
    if (request.method === "GET" && request.url === "/stats") {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
      return;
    }
    const id = request.headers["webhook-id"], timestamp = request.headers["webhook-timestamp"];
    const expected = key ? Buffer.from(sign(key, id, timestamp, body)) : null;
    const valid = expected !== null && String(request.headers["webhook-signature"] || "").split(" ").some((s) => {
      const given = Buffer.from(s);
      return given.length === expected.length && crypto.timingSafeEqual(given, expected);
    });
    if (!valid) {
      stats.bad++;
      response.writeHead(401).end();
      return;
    }
    const now = Date.now();
    if (stats.firstAt === 0) stats.firstAt = now;
    stats.lastAt = now;
    if (seen.has(id)) {
      stats.duplicates++;
    } else {
      seen.add(id);
      stats.taken++;
      const data = JSON.parse(body).data;
      const poll = data.pollId || data.eventId;
      if ((lastSeq.get(poll) || 0) > data.seq) stats.outOfOrder++;
      lastSeq.set(poll, data.seq);
    }
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2] || 0), "127.0.0.1", () => console.log("listening " + server.address().port));
}
