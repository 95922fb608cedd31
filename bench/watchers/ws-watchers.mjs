// The load generator's cheap watcher side (bench/README.md, "The watchers"): many WebSockets in one Node.js process,
// on the `ws` package, each text message forwarded with its receive time to the load generator, which parses and
// checks it exactly as it does its own watchers' messages. One event loop reads every socket, so a message costs this
// process a few microseconds instead of a .NET ClientWebSocket's thread-pool round trip.
//
// Commands, one per line on stdin:
//   open <i> <url> <subprotocol|-> <source address|-> <first message, base64|->
//   close <i>
//   exit
// Events, one per line on stdout:
//   o <i>                       watcher i is open (its first message, if any, sent)
//   f <i> <why>                 watcher i could not open
//   m <i> <receivedAt> <text>   a text message; receivedAt is CLOCK_MONOTONIC in ns (the clock .NET's Stopwatch reads on Linux)
//   e <i> <why>                 watcher i's socket ended without being asked to
//   c <i>                       watcher i closed as asked
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const sockets = new Map();
let pending = [];
let flushQueued = false;

const newline = Buffer.from('\n');

// Lines are queued as Buffers and written together once per turn of the event loop: a message's payload is never
// decoded or copied into a string here.
function queue(...parts) {
  for (const part of parts) pending.push(part);
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

function emit(line) {
  queue(Buffer.from(line + '\n'));
}

function flush() {
  flushQueued = false;
  if (pending.length === 0) return;
  const chunk = Buffer.concat(pending);
  pending = [];
  process.stdout.write(chunk);
}

function oneLine(why) {
  return String(why).replace(/[\r\n]+/g, ' ').slice(0, 300);
}

function open(i, url, subprotocol, source, first) {
  const options = { perMessageDeflate: false, maxPayload: 1 << 20, handshakeTimeout: 30000 };
  if (source !== '-') options.localAddress = source;
  const socket = subprotocol === '-' ? new WebSocket(url, options) : new WebSocket(url, subprotocol, options);
  const state = { socket, opened: false, closing: false };
  sockets.set(i, state);
  socket.on('open', () => {
    state.opened = true;
    if (first !== '-') socket.send(Buffer.from(first, 'base64').toString('utf8'));
    emit(`o ${i}`);
  });
  socket.on('message', (data, isBinary) => {
    const at = process.hrtime.bigint();
    if (isBinary) {
      emit(`e ${i} a binary message (only text is forwarded)`);
      socket.terminate();
      return;
    }
    if (data.indexOf(10) >= 0) {
      emit(`e ${i} a message with a line break (not forwarded)`);
      socket.terminate();
      return;
    }
    queue(Buffer.from(`m ${i} ${at} `), data, newline);
  });
  socket.on('error', (err) => {
    if (!state.opened) emit(`f ${i} ${oneLine(err.message)}`);
    else if (!state.closing) emit(`e ${i} ${oneLine(err.message)}`);
  });
  socket.on('close', (code, reason) => {
    sockets.delete(i);
    if (state.closing) emit(`c ${i}`);
    else if (state.opened) emit(`e ${i} closed by the server: ${code} ${oneLine(reason.toString())}`);
    else emit(`f ${i} closed before it opened: ${code}`);
  });
}

function close(i) {
  const state = sockets.get(i);
  if (!state) {
    emit(`c ${i}`);
    return;
  }
  state.closing = true;
  if (state.socket.readyState === WebSocket.OPEN) {
    state.socket.close(1000, 'bench done');
    setTimeout(() => state.socket.terminate(), 2000).unref();
  } else {
    state.socket.terminate();
  }
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (line) => {
  const parts = line.split(' ');
  switch (parts[0]) {
    case 'open': open(Number(parts[1]), parts[2], parts[3], parts[4], parts[5]); break;
    case 'close': close(Number(parts[1])); break;
    case 'exit': flush(); process.exit(0); break;
    default: emit(`e -1 unknown command ${oneLine(parts[0])}`);
  }
});
input.on('close', () => { flush(); process.exit(0); });
