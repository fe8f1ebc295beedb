// ws.mjs — the few lines of WebSocket (RFC 6455) a DevTools client needs, over
// node:net: Debian's Node 18 has no WebSocket of its own. Text frames only;
// the client's frames masked, as the protocol requires.
import {createConnection} from 'node:net';
import {randomBytes} from 'node:crypto';

export function connect(url) {
  const {hostname, port, pathname} = new URL(url);
  const socket = createConnection({host: hostname, port: Number(port)});
  const ws = {onmessage: null, onclose: null};
  let buffer = Buffer.alloc(0), open = false, fragments = [];
  const opened = new Promise((ok, fail) => {
    socket.on('connect', () => socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
      'Sec-WebSocket-Version: 13\r\n\r\n'));
    socket.on('error', fail);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!open) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!/^HTTP\/1\.1 101/.test(buffer.subarray(0, end).toString())) return fail(new Error('no WebSocket upgrade: ' + buffer.subarray(0, end)));
        buffer = buffer.subarray(end + 4), (open = true), ok(ws);
      }
      for (;;) { // every complete frame in the buffer
        if (buffer.length < 2) return;
        const fin = buffer[0] & 0x80, opcode = buffer[0] & 0x0f;
        let len = buffer[1] & 0x7f, at = 2;
        if (len === 126) {
          if (buffer.length < 4) return;
          (len = buffer.readUInt16BE(2)), (at = 4);
        } else if (len === 127) {
          if (buffer.length < 10) return;
          (len = Number(buffer.readBigUInt64BE(2))), (at = 10);
        }
        if (buffer.length < at + len) return;
        const payload = buffer.subarray(at, at + len);
        buffer = buffer.subarray(at + len);
        if (opcode === 8) return socket.end();
        if (opcode === 9) send(payload, 10); // ping → pong
        if (opcode === 1 || opcode === 0) {
          fragments.push(payload);
          if (fin) {
            const text = Buffer.concat(fragments).toString('utf8');
            fragments = [];
            if (ws.onmessage) ws.onmessage({data: text});
          }
        }
      }
    });
    socket.on('close', () => ws.onclose && ws.onclose());
  });
  function send(data, opcode = 1) {
    const payload = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), n = payload.length;
    const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n])
      : n < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 255])
      : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
    const mask = randomBytes(4), masked = Buffer.alloc(n);
    for (let i = 0; i < n; i++) masked[i] = payload[i] ^ mask[i & 3];
    socket.write(Buffer.concat([head, mask, masked]));
  }
  ws.send = (text) => send(text);
  ws.close = () => socket.destroy();
  return opened;
}
