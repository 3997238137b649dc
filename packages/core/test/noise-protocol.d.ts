// noise-protocol ships no types; the part the interoperability test uses.
declare module 'noise-protocol' {
  interface KeyPair {
    publicKey: Buffer;
    secretKey: Buffer;
  }
  interface State {
    readonly __state: unique symbol;
  }
  const noise: {
    keygen(): KeyPair;
    initialize(pattern: string, initiator: boolean, prologue: Buffer, s?: KeyPair): State;
    writeMessage: ((state: State, payload: Buffer, out: Buffer) => { tx: Buffer; rx: Buffer } | undefined) & {
      bytes: number;
    };
    readMessage(state: State, message: Buffer, payload: Buffer): { tx: Buffer; rx: Buffer };
  };
  export default noise;
}
