/**
 * NAT routers for the virtual network. Each hides the hosts whose address starts with its
 * `inside` prefix behind one public host, and filters what comes back as Linux conntrack with
 * MASQUERADE does: a datagram from outside gets in only if the inside address sent to exactly
 * that remote address and port before (address- and port-dependent filtering).
 *
 * Mapping: `endpoint-independent` keeps one public port per inside address, whatever the
 * destination (so a rendezvous sees the port a peer will see: hole punching works);
 * `port-randomising` (MASQUERADE --random-fully) picks a new public port for each destination,
 * so the port the rendezvous saw is of no use to anyone else (punching fails).
 */
import { type Address, formatAddress } from '../../src/index.js';
import { seededRandom } from './random.js';

export type NatKind = 'endpoint-independent' | 'port-randomising';

interface Mapping {
  readonly inside: Address;
  readonly publicPort: number;
  /** Remote addresses (formatAddress) this mapping sent to: only they may answer. */
  readonly allowed: Set<string>;
}

export class Nat {
  /** Datagrams from outside dropped because no mapping allowed them in. */
  dropped = 0;
  private readonly byInside = new Map<string, Mapping>();
  private readonly byPort = new Map<number, Mapping>();
  private readonly random: () => number;
  private nextPort = 40_000;

  constructor(
    readonly publicHost: string,
    readonly inside: string,
    private kind: NatKind,
    seed = 7,
  ) {
    this.random = seededRandom(seed);
  }

  holds(address: Address): boolean {
    return address.host.startsWith(this.inside);
  }

  /** The public source for a datagram from `from` (inside) to `to` (outside). */
  outbound(from: Address, to: Address): Address {
    const key =
      this.kind === 'endpoint-independent'
        ? formatAddress(from)
        : `${formatAddress(from)}>${formatAddress(to)}`;
    let mapping = this.byInside.get(key);
    if (!mapping) {
      mapping = { inside: from, publicPort: this.allocate(), allowed: new Set() };
      this.byInside.set(key, mapping);
      this.byPort.set(mapping.publicPort, mapping);
    }
    mapping.allowed.add(formatAddress(to));
    return { host: this.publicHost, port: mapping.publicPort };
  }

  /** The inside address a datagram from `from` to our public `to` goes to, or undefined (dropped). */
  inbound(from: Address, to: Address): Address | undefined {
    const mapping = this.byPort.get(to.port);
    if (!mapping?.allowed.has(formatAddress(from))) {
      this.dropped++;
      return undefined;
    }
    return mapping.inside;
  }

  /** Every mapping forgotten (conntrack -F, or a router reboot). */
  flush(): void {
    this.byInside.clear();
    this.byPort.clear();
  }

  /**
   * From now on a new public port for each destination, every mapping forgotten: the home's
   * laptop carried behind a port-randomising NAT (its public host kept, for the test's simplicity).
   */
  startRandomising(): void {
    this.kind = 'port-randomising';
    this.flush();
  }

  private allocate(): number {
    if (this.kind === 'endpoint-independent') return this.nextPort++;
    for (;;) {
      const port = 1024 + Math.floor(this.random() * 64_000);
      if (!this.byPort.has(port)) return port;
    }
  }
}

/** The translation for VirtualNetwork.translate: out through the sender's NAT, in through the receiver's. */
export function natRouting(nats: readonly Nat[]) {
  return (from: Address, to: Address): { from: Address; to: Address } | undefined => {
    const outer = nats.find((nat) => nat.holds(from) && !nat.holds(to));
    const source = outer ? outer.outbound(from, to) : from;
    const inner = nats.find((nat) => nat.publicHost === to.host);
    if (!inner) return { from: source, to };
    const destination = inner.inbound(source, to);
    return destination ? { from: source, to: destination } : undefined;
  };
}
