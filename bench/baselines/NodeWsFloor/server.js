'use strict';
// The floor of fan-out cost on Node.js: the same minimal contract as KestrelCeiling (votes over HTTP counted in memory,
// GET /ws?pollId= a bare WebSocket), and every 50 ms each changed poll's results are encoded once, framed once (one
// unmasked text frame built by hand) and the same bytes written to every socket of the poll, one write each. None of
// Tally's guarantees and none of socket.io's protocol: what the platform costs to move the bytes, nothing more.
//
//   node server.js --port 3000 [--host 127.0.0.1]
const http = require('node:http');
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', process.env.PORT || 3000));
const tickMs = 50;

const polls = new Map();
let nextPoll = 0;

function results(poll) {
  return {
    type: 'results',
    pollId: poll.id,
    seq: poll.seq,
    totalVotes: poll.total,
    options: poll.counts.map((votes, i) => ({ id: i + 1, votes })),
  };
}

// One server-to-client text frame (RFC 6455 §5.2: FIN + opcode 1, no mask), header and payload in one buffer.
function frame(message) {
  const payload = Buffer.from(JSON.stringify(message));
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x81, length])
    : length < 65536 ? Buffer.from([0x81, 126, length >> 8, length & 0xff])
    : (() => { const h = Buffer.alloc(10); h[0] = 0x81; h[1] = 127; h.writeBigUInt64BE(BigInt(length), 2); return h; })();
  return Buffer.concat([header, payload]);
}

function send(res, status, body) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req, done) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      done(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      done(undefined);
    }
  });
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  const parts = path.split('/').filter(Boolean); // v1 polls {id} votes|results
  if (req.method === 'POST' && path === '/v1/polls') {
    return readJson(req, (body) => {
      const count = body && Array.isArray(body.options) ? body.options.length : 0;
      if (count < 1 || count > 16) return send(res, 400, { error: 'options' });
      const id = `p${++nextPoll}`;
      polls.set(id, { id, seq: 1, sentSeq: 1, total: 0, counts: new Array(count).fill(0), sockets: new Set() });
      res.setHeader('Location', `/v1/polls/${id}`);
      return send(res, 201, { id });
    });
  }
  if (parts.length === 4 && parts[0] === 'v1' && parts[1] === 'polls') {
    const poll = polls.get(parts[2]);
    if (req.method === 'POST' && parts[3] === 'votes') {
      return readJson(req, (body) => {
        if (!poll) return send(res, 404, { error: 'poll' });
        const ids = body && Array.isArray(body.optionIds) ? body.optionIds : [];
        if (ids.length === 0 || ids.some((o) => !Number.isInteger(o) || o < 1 || o > poll.counts.length)) {
          return send(res, 422, { error: 'option' });
        }
        for (const o of ids) poll.counts[o - 1]++;
        poll.total++;
        const seq = ++poll.seq;
        return send(res, 201, { voteId: `${poll.id}-${seq}`, seq, status: 'counted' });
      });
    }
    if (req.method === 'GET' && parts[3] === 'results') {
      return poll ? send(res, 200, results(poll)) : send(res, 404, { error: 'poll' });
    }
  }
  if (req.method === 'GET' && path === '/readyz') return send(res, 200, { status: 'ready' });
  send(res, 404, { error: 'not found' });
});

// perMessageDeflate off (ws's default for servers too), no per-message allocation beyond the one frame per tick.
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://localhost');
  const poll = url.pathname === '/ws' ? polls.get(url.searchParams.get('pollId')) : undefined;
  if (!poll) {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    poll.sockets.add(ws);
    ws.on('close', () => poll.sockets.delete(ws));
    ws.on('error', () => poll.sockets.delete(ws));
    ws._socket.write(frame(results(poll))); // the current results at once
  });
});

setInterval(() => {
  for (const poll of polls.values()) {
    if (poll.seq === poll.sentSeq || poll.sockets.size === 0) continue;
    poll.sentSeq = poll.seq;
    const bytes = frame(results(poll));
    for (const ws of poll.sockets) {
      if (ws.readyState === 1) ws._socket.write(bytes);
    }
  }
}, tickMs);

server.listen(port, host, () => console.log(`Node ws floor listening on http://${host}:${port}`));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
