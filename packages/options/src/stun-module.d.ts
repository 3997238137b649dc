/** The part of the `stun` package (nodertc/stun, no types of its own) that stun.ts uses. */
declare module 'stun' {
  interface StunMessage {
    readonly transactionId: Buffer;
    getType(): number;
    getXorAddress(): { address: string; port: number; family: string } | undefined;
    getAddress(): { address: string; port: number; family: string } | undefined;
    toBuffer(): Buffer;
    addXorAddress(address: string, port: number): void;
  }
  const stun: {
    createMessage(type: number, transaction?: Buffer): StunMessage;
    decode(bytes: Buffer): StunMessage;
    constants: { STUN_BINDING_REQUEST: number; STUN_BINDING_RESPONSE: number };
    createServer(options: { type: 'udp4' | 'udp6'; socket?: import('node:dgram').Socket }): {
      listen(port: number, host: string, callback?: () => void): void;
      close(): void;
      send(message: StunMessage, port: number, address: string): void;
      on(
        event: 'bindingRequest',
        listener: (request: StunMessage, rinfo: { address: string; port: number }) => void,
      ): void;
    };
  };
  export default stun;
}
