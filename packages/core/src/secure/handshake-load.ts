/**
 * Whether a responder is under load (WireGuard's rule: only then does it demand cookies and
 * limit handshakes per host). Under load means: many half-done handshakes (each holds memory and
 * cost a Diffie-Hellman), or many inits a second (each costs a Diffie-Hellman when answered
 * directly). Counted on a fixed one-second grid: the current second and the one before.
 */
const SECOND = 1_000;

export class HandshakeLoad {
  private windowStart = 0;
  private count = 0;
  private previous = 0;

  constructor(
    private readonly initsPerSecond: number,
    private readonly pendingThreshold: number,
  ) {}

  countInit(now: number): void {
    this.advance(now);
    this.count++;
  }

  underLoad(now: number, pendingHandshakes: number): boolean {
    this.advance(now);
    return (
      pendingHandshakes >= this.pendingThreshold ||
      this.count >= this.initsPerSecond ||
      this.previous >= this.initsPerSecond
    );
  }

  private advance(now: number): void {
    if (now - this.windowStart < SECOND) return;
    const seconds = Math.floor((now - this.windowStart) / SECOND);
    this.previous = seconds === 1 ? this.count : 0;
    this.count = 0;
    this.windowStart += seconds * SECOND;
  }
}
