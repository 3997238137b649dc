// README's first example, a program: `chat.js` (listens) and `chat.js 127.0.0.1 PORT` (asks it to chat).
// ---- README ----
import { NetchatPeer } from '../../src/index.js';

// node chat.js [host port]: listens on a free port and, given a peer's address, asks it to chat.
const peer = await NetchatPeer.listen({ port: 0, nick: 'alice' }); // port 0: any free one
console.log(`listening on port ${peer.address.port}`);

peer.on('request', (e) => {
  console.log(`request from ${e.peer.host} ${e.peer.port} (${e.nick})`);
  peer.accept(e.session); // or peer.decline(e.session, 'busy', 'try later')
});
peer.on('accepted', (e) => peer.send(e.session, 'hello!'));
peer.on('declined', (e) => console.log(`declined: ${e.reason} ${e.detail}`));
peer.on('no_answer', () => console.log('no answer')); // after connectTimeout: a wrong port looks the same
peer.on('message', (e) => console.log(`${e.peer.host}: ${e.text}`));
peer.on('delivered', (e) => console.log(`message ${e.messageId} arrived`));
peer.on('failed', (e) => console.log(`message ${e.messageId} failed: ${e.reason}`));
peer.on('lost', (e) => console.log(`lost after ${e.missed} missed heartbeats`));
peer.on('closed', () => console.log('the peer closed the session'));
peer.on('presence', (e) => console.log(`${e.nick}${e.typing ? ' is typing' : ''}`));

const [host, port] = process.argv.slice(2);
if (host && port) await peer.connect(host, Number(port)); // resolves with the session's id
process.on('SIGINT', async () => {
  await peer.close(); // closes every session (each lingers, bounded, for what is in flight), then the socket
  process.exit(0);
});
// ---- end README ----
