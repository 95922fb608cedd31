// The load generator's cheap watcher side (bench/README.md, "The watchers"): many WebSockets in one Node.js process,
// on the `ws` package, each text message forwarded with its receive time to the load generator, which parses and
// checks it exactly as it does its own watchers' messages. One event loop reads every socket, so a message costs this
// process a few microseconds instead of a .NET ClientWebSocket's thread-pool round trip.
//
// Commands, one per line on stdin:
//   open <i> <url> <subprotocol|-> <source address|-> <first message, base64|-> [<protocol>]
// <protocol> is how the watcher talks to its server before and between the messages it forwards:
//   raw (default): send the first message when open; forward every text message (Tally, the bare broadcaster).
//   engineio: Socket.IO v5 over Engine.IO v4: on the open packet "0…" send "40", on "40…" send the first message (the
//     subscribe event) and report open; answer pings "2" with "3"; forward each "42[…]" event; "41" / "1" end it.
//   signalr: ASP.NET Core SignalR's JSON protocol: send the handshake, on its "{}" send the first message (an
//     invocation with id "1") and report open on its completion; forward each invocation record ("type":1); ping
//     every 10 s (the server's client timeout is 30 s); a close record ends it.
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

const RS = '\u001e';

function open(i, url, subprotocol, source, first, protocol = 'raw') {
  const options = { perMessageDeflate: false, maxPayload: 1 << 20, handshakeTimeout: 30000 };
  if (source !== '-') options.localAddress = source;
  const socket = subprotocol === '-' ? new WebSocket(url, options) : new WebSocket(url, subprotocol, options);
  const state = { socket, opened: false, ready: false, closing: false, handshaken: false, ping: null };
  sockets.set(i, state);
  const firstText = first === '-' ? null : Buffer.from(first, 'base64').toString('utf8');
  const ready = () => {
    if (state.ready) return;
    state.ready = true;
    emit(`o ${i}`);
  };
  socket.on('open', () => {
    state.opened = true;
    if (protocol === 'raw') {
      if (firstText !== null) socket.send(firstText);
      ready();
    } else if (protocol === 'signalr') {
      socket.send('{"protocol":"json","version":1}' + RS);
      state.ping = setInterval(() => socket.send('{"type":6}' + RS), 10000);
      state.ping.unref();
    }
  });
  socket.on('message', (data, isBinary) => {
    const at = process.hrtime.bigint();
    if (protocol === 'engineio' && !isBinary) {
      const c0 = data[0], c1 = data[1];
      if (c0 === 0x32 && data.length === 1) { socket.send('3'); return; } // ping
      if (c0 === 0x30) { socket.send('40'); return; } // open packet: connect to the main namespace
      if (c0 === 0x34 && c1 === 0x30) { if (firstText !== null) socket.send(firstText); ready(); return; } // connected
      if (c0 === 0x34 && c1 === 0x34) { emit(`${state.ready ? 'e' : 'f'} ${i} socket.io refused: ${oneLine(data.toString())}`); socket.terminate(); return; }
      if ((c0 === 0x34 && c1 === 0x31) || c0 === 0x31) { emit(`e ${i} socket.io closed the connection`); socket.terminate(); return; }
      if (!(c0 === 0x34 && c1 === 0x32)) return; // not an event
    }
    if (protocol === 'signalr' && !isBinary) {
      for (const record of data.toString('utf8').split(RS)) {
        if (record.length === 0) continue;
        if (!state.handshaken) {
          if (record !== '{}') { emit(`f ${i} SignalR handshake: ${oneLine(record)}`); socket.terminate(); return; }
          state.handshaken = true;
          if (firstText !== null) socket.send(firstText + RS); else ready();
          continue;
        }
        if (record.startsWith('{"type":1,')) {
          queue(Buffer.from(`m ${i} ${at} `), Buffer.from(record), newline);
        } else if (record.startsWith('{"type":3,')) {
          if (record.includes('"error"')) { emit(`f ${i} SignalR invocation failed: ${oneLine(record)}`); socket.terminate(); return; }
          ready();
        } else if (record.startsWith('{"type":7')) {
          emit(`e ${i} SignalR close: ${oneLine(record)}`); socket.terminate(); return;
        }
      }
      return;
    }
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
    if (!state.ready) emit(`f ${i} ${oneLine(err.message)}`);
    else if (!state.closing) emit(`e ${i} ${oneLine(err.message)}`);
  });
  socket.on('close', (code, reason) => {
    sockets.delete(i);
    if (state.ping) clearInterval(state.ping);
    if (state.closing) emit(`c ${i}`);
    else if (state.ready) emit(`e ${i} closed by the server: ${code} ${oneLine(reason.toString())}`);
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
    case 'open': open(Number(parts[1]), parts[2], parts[3], parts[4], parts[5], parts[6]); break;
    case 'close': close(Number(parts[1])); break;
    case 'exit': flush(); process.exit(0); break;
    default: emit(`e -1 unknown command ${oneLine(parts[0])}`);
  }
});
input.on('close', () => { flush(); process.exit(0); });
