/** `--json`: every endpoint event as one JSON object a line, with the peer as "IP:PORT". */
import { formatAddress, type NetchatEvent } from '@netchat/core';

export function eventToJson(event: NetchatEvent): string {
  return JSON.stringify({ ...event, peer: formatAddress(event.peer) });
}
