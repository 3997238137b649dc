/** What every netchat datagram and every message inside one share: the first four bytes, and the size limits. */

/** "NC": lets a peer reject foreign traffic after two bytes. */
export const MAGIC = 0x4e43;
/** Magic (2 bytes), version (1), message code (1). */
export const HEADER_BYTES = 4;
/** A whole UDP datagram: fits inside the IPv6 minimum MTU (1280) with room for IP and UDP headers. */
export const MAX_DATAGRAM_BYTES = 1200;
/**
 * The largest datagram a path may be proven to carry (PROTOCOL.md, Datagram size): an IPv6
 * packet of 1500 bytes (Ethernet's MTU) less its IPv6 and UDP headers. Only `data` packets to a
 * peer that takes them (the `large_datagrams` feature), over a path where a probe of that size
 * was acknowledged, are ever this large.
 */
export const MAX_LARGE_DATAGRAM_BYTES = 1452;
/** What a data packet adds around a session message: header, receiver index, counter, tag. */
export const PACKET_OVERHEAD_BYTES = HEADER_BYTES + 4 + 8 + 16;
/** The longest session message, so that its data packet fits in one datagram. */
export const MAX_MESSAGE_DATAGRAM_BYTES = MAX_DATAGRAM_BYTES - PACKET_OVERHEAD_BYTES;
/** The longest session message in a large datagram (only `stream_data` and `pmtu_probe` are ever longer than 1168). */
export const MAX_LARGE_MESSAGE_BYTES = MAX_LARGE_DATAGRAM_BYTES - PACKET_OVERHEAD_BYTES;
/** The version byte of session messages (inside encrypted packets). 2: acknowledgements carry ackDelay. */
export const MESSAGE_VERSION = 2;
