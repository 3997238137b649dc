/**
 * Errors the caller can cause (h11's LocalProtocolError). Misbehaving peers never raise errors:
 * their datagrams are dropped and counted in `EndpointStats`.
 * Each error has a stable `code`, made by one factory per code.
 */
export type NetchatErrorCode =
  | 'NO_SUCH_SESSION'
  | 'SESSION_NOT_OPEN'
  | 'NOT_A_REQUEST'
  | 'MESSAGE_TOO_LARGE'
  | 'EMPTY_MESSAGE'
  | 'SEND_QUEUE_FULL'
  | 'TOO_MANY_SESSIONS'
  | 'INVALID_ADDRESS'
  | 'SELF_CONNECT'
  | 'ADDRESS_FAMILY'
  | 'INVALID_ARGUMENT'
  | 'INVALID_OPTIONS'
  | 'STREAMS_DISABLED'
  | 'STREAMS_UNSUPPORTED'
  | 'STREAM_LIMIT'
  | 'NO_SUCH_STREAM'
  | 'STREAM_NOT_WRITABLE'
  | 'FILES_DISABLED'
  | 'FILES_UNSUPPORTED'
  | 'NO_SUCH_TRANSFER'
  | 'TRANSFER_STATE'
  | 'PEER_NOT_FOUND'
  | 'UNREADABLE_FILE';

export class NetchatError extends Error {
  override readonly name = 'NetchatError';
  constructor(
    readonly code: NetchatErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const errors = {
  noSuchSession: (id: number) => new NetchatError('NO_SUCH_SESSION', `no session ${id}`),
  sessionNotOpen: (id: number, state: string) =>
    new NetchatError('SESSION_NOT_OPEN', `session ${id} is ${state}, not open`),
  notARequest: (id: number) => new NetchatError('NOT_A_REQUEST', `session ${id} is not an incoming request`),
  messageTooLarge: (bytes: number, max: number) =>
    new NetchatError('MESSAGE_TOO_LARGE', `message of ${bytes} bytes exceeds the maximum of ${max} bytes`),
  emptyMessage: () => new NetchatError('EMPTY_MESSAGE', 'message is empty'),
  sendQueueFull: (max: number) =>
    new NetchatError('SEND_QUEUE_FULL', `more than ${max} bytes are waiting to be sent to this peer`),
  tooManySessions: (max: number) =>
    new NetchatError('TOO_MANY_SESSIONS', `already at the limit of ${max} sessions`),
  invalidAddress: (text: string, why: string) =>
    new NetchatError('INVALID_ADDRESS', `invalid address "${text}": ${why}`),
  selfConnect: (address: string) =>
    new NetchatError('SELF_CONNECT', `${address} is this peer's own address: connect to another peer`),
  addressFamily: (address: string, bound: string) =>
    new NetchatError(
      'ADDRESS_FAMILY',
      `cannot reach ${address} from a socket bound to ${bound} (use an address of the same IP version, or bind to all interfaces)`,
    ),
  invalidArgument: (what: string, why: string) =>
    new NetchatError('INVALID_ARGUMENT', `invalid ${what}: ${why}`),
  /** `/send` of folders with no regular file in them: said by name, not as an "invalid offer". */
  nothingToOffer: (named: readonly string[]) =>
    new NetchatError(
      'INVALID_ARGUMENT',
      `${named.length === 1 ? `${named[0]} holds no` : `none of ${named.join(', ')} holds a`} regular file to send (links and special files are not sent)`,
    ),
  invalidOptions: (why: string) => new NetchatError('INVALID_OPTIONS', `invalid options: ${why}`),
  streamsDisabled: () =>
    new NetchatError(
      'STREAMS_DISABLED',
      'this endpoint does not take streams (set the option streams: true)',
    ),
  streamsUnsupported: (id: number) =>
    new NetchatError('STREAMS_UNSUPPORTED', `the peer of session ${id} takes no streams (text only)`),
  streamLimit: (id: number, max: number) =>
    new NetchatError(
      'STREAM_LIMIT',
      `the peer of session ${id} allows ${max} streams so far: wait for \`streams_available\``,
    ),
  noSuchStream: (session: number, stream: number) =>
    new NetchatError('NO_SUCH_STREAM', `session ${session} has no stream ${stream}`),
  streamNotWritable: (session: number, stream: number, why: string) =>
    new NetchatError('STREAM_NOT_WRITABLE', `stream ${stream} of session ${session} ${why}`),
  filesDisabled: () =>
    new NetchatError(
      'FILES_DISABLED',
      'this peer does not take files (set the options streams: true and files: true)',
    ),
  filesUnsupported: (id: number, why: string) =>
    new NetchatError('FILES_UNSUPPORTED', `the peer of session ${id} cannot receive files: ${why}`),
  noSuchTransfer: (id: number) => new NetchatError('NO_SUCH_TRANSFER', `no transfer ${id}`),
  transferState: (id: number, why: string) => new NetchatError('TRANSFER_STATE', `transfer ${id} ${why}`),
  /** A rendezvous look-up that failed: `why` says so in words a person reads (not found, rate limited, no answer). */
  peerNotFound: (why: string) => new NetchatError('PEER_NOT_FOUND', `cannot find the peer: ${why}`),
  /** A file of the netchat home that cannot be read or is corrupt (the message says which and what to do). */
  unreadableFile: (path: string, why: string) => new NetchatError('UNREADABLE_FILE', `${path} ${why}`),
};
