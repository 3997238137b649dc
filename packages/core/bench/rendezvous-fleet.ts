/**
 * Many rendezvous clients in one process, for the scale benchmark: each is a real `Endpoint`
 * with a `RendezvousClient` (its own key, handshake, session, registration and heartbeats),
 * and several share one UDP socket, so that 100,000 clients need only as many sockets as there
 * are addresses. Datagrams are told apart by the index they carry (a channel's index is the
 * client's own, learnt from the init it sent), and every client's deadlines sit in one heap,
 * served by one timer. Loopback only: each socket binds its own 127.x.y.z.
 */
import dgram from 'node:dgram';
import { DeadlineQueue } from '../src/deadline-queue.js';
import { type Address, Endpoint, RendezvousClient } from '../src/index.js';

const HANDSHAKE_INIT = 1;
const COOKIE_REPLY = 2;
const HANDSHAKE_RESPONSE = 3;
const DATA = 5;

interface Client {
  readonly endpoint: Endpoint;
  readonly rendezvous: RendezvousClient;
  readonly socket: Slot;
  readonly indices: number[];
  registered: boolean;
  refused: boolean;
  scheduledAt: number | undefined;
  gone: boolean;
}

interface Slot {
  readonly socket: dgram.Socket;
  readonly host: string;
}

const readU32 = (b: Uint8Array, at: number) =>
  ((b[at] as number) * 0x1000000 +
    (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number))) >>>
  0;

export class ClientFleet {
  private readonly slots: Slot[] = [];
  private readonly byIndex = new Map<number, Client>();
  private readonly clients = new Set<Client>();
  private readonly deadlines = new DeadlineQueue<Client>((c) => c.scheduledAt);
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** Clients registered so far, and refused (the rendezvous was full). */
  registered = 0;
  refused = 0;

  constructor(private readonly server: Address) {}

  /** Binds `count` sockets, one per loopback address from 127.10.0.1 on. */
  async bind(count: number): Promise<void> {
    for (let i = this.slots.length; i < count; i++) {
      const n = i + 1;
      const host = `127.${10 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, host, () => resolve());
      });
      socket.on('error', () => {});
      socket.on('message', (data, rinfo) => this.receive(data, rinfo));
      this.slots.push({ socket, host });
    }
  }

  get addresses(): number {
    return this.slots.length;
  }

  get size(): number {
    return this.clients.size;
  }

  /** A new client (a new key) on socket `slot`: it connects to the rendezvous and registers. */
  add(slot: number): Client {
    const socket = this.slots[slot % this.slots.length] as Slot;
    const endpoint = new Endpoint({ nick: 'fleet' });
    const rendezvous = endpoint.use(
      (host) => new RendezvousClient(host, { server: this.server, acceptFrom: 'anyone', listedKeys: [] }),
    );
    const client: Client = {
      endpoint,
      rendezvous,
      socket,
      indices: [],
      registered: false,
      refused: false,
      scheduledAt: undefined,
      gone: false,
    };
    this.clients.add(client);
    rendezvous.start(performance.now());
    this.pump(client);
    return client;
  }

  /** Closes a client's sessions (its registration ends with its session at the rendezvous). */
  close(client: Client): void {
    client.endpoint.closeAll(performance.now());
    this.pump(client);
  }

  /** Forgets a client that has nothing left to send. */
  discard(client: Client): void {
    client.gone = true;
    client.scheduledAt = undefined;
    for (const index of client.indices) if (this.byIndex.get(index) === client) this.byIndex.delete(index);
    this.clients.delete(client);
  }

  /** Whether a client still has a session (closing ones included) or something to send. */
  busy(client: Client): boolean {
    return client.endpoint.busy;
  }

  /** Probes every client made of its session with the rendezvous (it doubted the rendezvous). */
  probes(): number {
    let sum = 0;
    for (const client of this.clients) sum += client.rendezvous.stats.probes;
    return sum;
  }

  all(): Client[] {
    return [...this.clients];
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.slots.map((s) => new Promise<void>((r) => s.socket.close(() => r()))));
  }

  private receive(data: Buffer, rinfo: dgram.RemoteInfo): void {
    const type = data[3];
    const at = type === HANDSHAKE_RESPONSE ? 8 : type === COOKIE_REPLY || type === DATA ? 4 : -1;
    if (at < 0 || data.length < at + 4) return;
    const client = this.byIndex.get(readU32(data, at));
    if (!client || client.gone) return;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    client.endpoint.handleDatagram(bytes, { host: rinfo.address, port: rinfo.port }, performance.now());
    this.pump(client);
  }

  private pump(client: Client): void {
    const { endpoint, socket } = client;
    for (let t = endpoint.pollTransmit(); t; t = endpoint.pollTransmit()) {
      if (t.data[3] === HANDSHAKE_INIT) {
        const index = readU32(t.data, 4);
        if (!this.byIndex.has(index)) {
          this.byIndex.set(index, client);
          client.indices.push(index);
        }
      }
      socket.socket.send(t.data, t.to.port, t.to.host);
    }
    while (endpoint.pollEvent()) {}
    for (let u = client.rendezvous.pollUpdate(); u; u = client.rendezvous.pollUpdate()) {
      if (u.type === 'registered' && !client.registered) {
        client.registered = true;
        this.registered++;
      }
      if (u.type === 'refused' && !client.refused) {
        client.refused = true;
        this.refused++;
      }
    }
    this.file(client);
  }

  /** Files the client's next deadline if it is earlier than the one filed (as the endpoint does). */
  private file(client: Client): void {
    const at = client.endpoint.nextTimeout();
    if (at === undefined || client.gone || (client.scheduledAt !== undefined && client.scheduledAt <= at))
      return;
    client.scheduledAt = at;
    this.deadlines.push(client, at);
    if (at < this.timerAt) this.arm(at);
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const due = this.deadlines.takeDue(now);
    for (const client of due) client.scheduledAt = undefined;
    for (const client of due) {
      if (client.gone) continue;
      client.endpoint.handleTimeout(now);
      this.pump(client);
    }
    const next = this.deadlines.peek();
    if (next !== undefined && next < this.timerAt) this.arm(next);
  }
}
