/**
 * Endpoints on virtual time, joined by the one simulated network (src/testing/simulated-network.ts:
 * latency, loss, duplication, reordering, NAT, shaped links, programs' timers). This layer makes
 * the endpoints (seeded, so every run is the same) and records what each node sent and was told.
 * `run` advances the clock from one datagram or deadline to the next: no test sleeps.
 */
import {
  type Address,
  type Datagram,
  Endpoint,
  type EndpointDependencies,
  type EndpointOptionsInput,
  type NetchatEvent,
} from '../../src/index.js';
import { SimulatedNetwork } from '../../src/testing/simulated-network.js';
import { seededBytes, seededU32 } from './random.js';

export type { LinkConditions } from '../../src/testing/simulated-network.js';

/** One datagram a node sent: the bytes on the wire and, for data packets, the session message sealed inside. */
export interface Sent {
  at: number;
  to: Address;
  data: Uint8Array;
  message?: Datagram;
}

/** What the network needs of a node: an Endpoint, or a test's raw peer. */
export interface NodeEndpoint {
  handleDatagram(bytes: Uint8Array, from: Address, now: number): void;
  handleTimeout(now: number): void;
  nextTimeout(): number | undefined;
  pollTransmit(): { to: Address; data: Uint8Array; message?: Datagram } | undefined;
  pollEvent(): NetchatEvent | undefined;
}

export interface Node<E extends NodeEndpoint = Endpoint> {
  endpoint: E;
  address: Address;
  events: (NetchatEvent & { at: number })[];
  /** Every datagram this node sent, with its send time. */
  sent: Sent[];
  /** A stopped program: it neither reads nor sends, and its timers wait. */
  frozen?: boolean;
}

export class VirtualNetwork extends SimulatedNetwork<Node<NodeEndpoint>> {
  /** Called with each event as it is collected: a test's application reacting at once (reading a stream). */
  onEvent: ((node: Node<NodeEndpoint>, event: NetchatEvent) => void) | undefined;
  /** Keep every datagram in `Node.sent`, and every event in `Node.events` (a benchmark moving gigabytes turns them off). */
  recordSent = true;
  recordEvents = true;

  add(
    host: string,
    port: number,
    options: EndpointOptionsInput = {},
    seed = port,
    dependencies: EndpointDependencies = {},
  ): Node {
    return this.place(this.node(host, port, options, { ...seeded(seed), ...dependencies }));
  }

  /**
   * The node's program crashed and started again: a new endpoint with the same key pair at the
   * same address (or at `port`, as a restart on a new port would be). Datagrams in flight to the
   * old address reach the new endpoint; every session it had is forgotten.
   */
  restart(node: Node, options: EndpointOptionsInput = {}, port = node.address.port): Node {
    this.unplace(node.address);
    return this.twin(node, node.address.host, port, options);
  }

  /** A second endpoint with `node`'s key pair at another address (a second device), beside it. */
  twin(node: Node, host: string, port: number, options: EndpointOptionsInput = {}, seed = port + 7): Node {
    return this.place(this.node(host, port, options, { ...seeded(seed), identity: node.endpoint.identity }));
  }

  /** Adds a node of the test's own making (a raw peer). */
  attach<E extends NodeEndpoint>(endpoint: E, host: string, port: number): Node<E> {
    const node: Node<E> = { endpoint, address: { host, port }, events: [], sent: [] };
    this.place(node);
    return node;
  }

  protected override sent(
    node: Node<NodeEndpoint>,
    t: { to: Address; data: Uint8Array; message?: Datagram },
  ): void {
    if (!this.recordSent) return;
    node.sent.push({ at: this.now, to: t.to, data: t.data, ...(t.message ? { message: t.message } : {}) });
  }

  protected override told(node: Node<NodeEndpoint>, event: NetchatEvent): void {
    if (this.recordEvents) node.events.push({ ...event, at: this.now });
    this.onEvent?.(node, event);
  }

  private node(
    host: string,
    port: number,
    options: EndpointOptionsInput,
    dependencies: EndpointDependencies,
  ): Node {
    return {
      endpoint: new Endpoint(options, { describeStreamPackets: true, ...dependencies }),
      address: { host, port },
      events: [],
      sent: [],
    };
  }
}

/** An endpoint's randomness from `seed`: the same session ids, indices and cookies every run. */
function seeded(seed: number): EndpointDependencies {
  return { randomU32: seededU32(seed), randomBytes: seededBytes(seed) };
}

export function eventsOf<T extends NetchatEvent['type']>(node: Node<NodeEndpoint>, type: T) {
  return node.events.filter((e): e is Extract<NetchatEvent, { type: T }> & { at: number } => e.type === type);
}

/** Sets up two nodes with an open session between them (a asked, b accepted). */
export function openPair(net: VirtualNetwork, options: EndpointOptionsInput = {}) {
  const a = net.add('127.0.0.1', 1111, { nick: 'alice', ...options });
  const b = net.add('127.0.0.2', 2222, { nick: 'bob', ...options });
  const sa = a.endpoint.connect(b.address, net.now);
  net.run(() => eventsOf(b, 'request').length > 0, net.now + 10_000);
  const request = eventsOf(b, 'request')[0];
  if (!request) throw new Error('no request arrived');
  b.endpoint.accept(request.session, net.now);
  net.run(() => eventsOf(a, 'accepted').length > 0, net.now + 10_000);
  return { a, b, sa, sb: request.session };
}
