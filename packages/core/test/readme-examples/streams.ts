// README's streams example, a program: `streams.js IN OUT [PORT]` sends IN on a stream to each peer
// (connecting to PORT if given), writes the peer's stream into OUT, and exits once both are complete.
import { createWriteStream, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
// ---- README ----
import { NetchatPeer, type SessionId, type StreamId } from '../../src/index.js';

const peer = await NetchatPeer.listen({ port: 0, streams: true });

// Sending `file` (a Uint8Array), pull-driven: write what the stream takes, the rest when it has room.
peer.on('features', (e) => {
  if (!e.features.streams) return; // a text-only peer: openStream would throw STREAMS_UNSUPPORTED
  const stream = peer.openStream(e.session);
  let sent = 0;
  const more = () => {
    while (sent < file.length) {
      const took = peer.writeStream(e.session, stream, file.subarray(sent, sent + 65_536));
      sent += took;
      if (took === 0) return; // 'stream_writable' calls again
    }
    peer.finishStream(e.session, stream);
  };
  peer.on('stream_writable', (w) => w.session === e.session && w.stream === stream && more());
  more();
});

// Receiving into `sink` (a node Writable), in order: read while the sink takes more, and again at
// its 'drain' ('stream_readable' comes again only once a read took everything). The peer may send
// only as fast as we read, so a slow sink holds the sender back instead of filling memory.
peer.on('stream_opened', (e) => console.log(`the peer opened stream ${e.stream}`));
const read = (session: SessionId, stream: StreamId): void => {
  if (sink.writableNeedDrain) return; // its 'drain' reads on
  for (let bytes = peer.readStream(session, stream, 65_536); bytes.length > 0; ) {
    if (!sink.write(bytes)) {
      sink.once('drain', () => read(session, stream));
      return;
    }
    bytes = peer.readStream(session, stream, 65_536);
  }
};
peer.on('stream_readable', (e) => read(e.session, e.stream));
peer.on('stream_finished', (e) => {
  console.log(`stream ${e.stream}: ${e.direction} complete`);
  if (e.direction === 'receive') sink.end(); // told after the read that took the last bytes returned
});
peer.on('stream_cancelled', (e) => console.log(`stream ${e.stream} cancelled by ${e.by} (${e.reason}, ${e.code})`));
// ---- end README ----
const [input = '', output = '', connectPort] = process.argv.slice(2);
const file = new Uint8Array(readFileSync(input));
// A slow sink (each write waits a millisecond), so the reader waits on it: what backpressure is for.
const out = createWriteStream(output);
let written = 0;
const sink = new Writable({
  highWaterMark: 16 * 1024,
  write(chunk: Buffer, _encoding, callback) {
    written += chunk.length;
    setTimeout(() => out.write(chunk, callback), 1);
  },
  final(callback) {
    out.end(callback);
  },
});
// 'stream_finished' (send) says the peer's engine has every byte, not that its program read them (a
// close now would cancel what it did not read): each side says when its sink has it all.
let session = 0;
let sinkDone = false;
let peerDone = false;
const done = () => {
  if (!sinkDone || !peerDone) return;
  console.log(`done: ${written} bytes written`);
  void peer.close().then(() => process.exit(0));
};
sink.on('finish', () => {
  sinkDone = true;
  peer.send(session, 'received');
  done();
});
peer.on('message', (e) => {
  peerDone = e.text === 'received';
  done();
});
peer.on('accepted', (e) => {
  session = e.session;
});
peer.on('request', (e) => {
  session = e.session;
  peer.accept(e.session);
});
console.log(`listening on port ${peer.address.port}`);
if (connectPort) peer.connectTo({ host: '127.0.0.1', port: Number(connectPort) });
