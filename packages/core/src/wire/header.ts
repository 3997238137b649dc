/** Every netchat datagram, and every message inside one, starts with these four bytes. */

/** "NC": lets a peer reject foreign traffic after two bytes. */
export const MAGIC = 0x4e43;
/** Magic (2 bytes), version (1), message code (1). */
export const HEADER_BYTES = 4;
