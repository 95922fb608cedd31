'use strict';
// Live poll results with Node.js and socket.io, the way the tutorials build them: votes over HTTP, counts in memory,
// watchers emit "subscribe" with a poll id, join the poll's room and get "results" (the poll's whole counts) pushed.
// BASELINE_MODE=naive   — every vote emits the new counts to the poll's room (the common tutorial design);
// BASELINE_MODE=throttled (default) — at most one emit per poll per 50 ms (lodash.throttle: leading and trailing edge).
// websocket transport only. None of Tally's guarantees: no durability, no dedupe, no resume.
//
//   node server.js --port 3000 [--host 127.0.0.1]
const http = require('node:http');
const { Server } = require('socket.io');
const throttle = require('lodash.throttle');

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', process.env.PORT || 3000));
const mode = process.env.BASELINE_MODE || 'throttled';
if (mode !== 'naive' && mode !== 'throttled') {
  throw new Error(`BASELINE_MODE is naive or throttled, not '${mode}'`);
}

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
      const poll = { id, seq: 1, total: 0, counts: new Array(count).fill(0) };
      poll.broadcast = () => io.to(id).emit('results', results(poll));
      if (mode === 'throttled') poll.broadcast = throttle(poll.broadcast, 50);
      polls.set(id, poll);
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
        poll.broadcast();
        return send(res, 201, { voteId: `${poll.id}-${seq}`, seq, status: 'counted' });
      });
    }
    if (req.method === 'GET' && parts[3] === 'results') {
      return poll ? send(res, 200, results(poll)) : send(res, 404, { error: 'poll' });
    }
  }
  if (req.method === 'GET' && path === '/readyz') return send(res, 200, { status: 'ready', mode });
  if (!path.startsWith('/socket.io/')) send(res, 404, { error: 'not found' });
});

const io = new Server(server, { transports: ['websocket'], serveClient: false });
io.on('connection', (socket) => {
  socket.on('subscribe', (pollId) => {
    const poll = polls.get(pollId);
    if (!poll) return socket.emit('problem', `no poll ${pollId}`);
    socket.join(pollId);
    socket.emit('results', results(poll));
  });
});

server.listen(port, host, () => console.log(`socket.io baseline (${mode}) listening on http://${host}:${port}`));
const stop = () => {
  io.close(); // disconnects every socket, then closes the HTTP server
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000); // keep-alive connections must not hold the exit
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
