// README's virtual-time example, a program: prints the session's state after the run.
// ---- README ----
import { Endpoint, type NetchatEvent } from '../../src/index.js';
import { SimulatedNetwork, type Station } from '../../src/testing/index.js';

type Peer = Station<Endpoint>;
class Net extends SimulatedNetwork<Peer> {
  // Every event a station reports comes here (recorded, or acted on): accept every request.
  protected override told(peer: Peer, event: NetchatEvent): void {
    if (event.type === 'request') peer.endpoint.accept(event.session, this.now);
  }
}
const net = new Net(7);                      // the seed: the same losses every run
net.conditions.loss = 0.1;
const a = net.place({ endpoint: new Endpoint({ nick: 'a' }), address: { host: '10.0.0.1', port: 1 } });
const b = net.place({ endpoint: new Endpoint({ nick: 'b' }), address: { host: '10.0.0.2', port: 2 } });
const session = a.endpoint.connect(b.address, net.now);
net.run(() => a.endpoint.session(session)?.state === 'open', net.now + 10_000); // true: open
// ---- end README ----
console.log(`session ${session}: ${a.endpoint.session(session)?.state} at ${net.now} ms`);
