/** Opening a chat between two clients on virtual time, as most client tests begin. */
import type { Address } from '@netchat/core';
import { settle, type VirtualNetwork } from '@netchat/testkit';
import { expect } from 'vitest';
import type { ChatClient } from '../../src/index.js';

/** `asker` asks the peer at `to`, whose client `answerer` accepts: both conversations open. */
export async function openChat(net: VirtualNetwork, asker: ChatClient, answerer: ChatClient, to: Address) {
  const mine = asker.connect(to);
  await settle(); // the address look-up
  expect(net.run(() => answerer.requests.size > 0, 10_000)).toBe(true);
  const request = answerer.requests.first();
  if (!request) throw new Error('no request');
  const theirs = answerer.accept(request);
  expect(net.run(() => mine.state === 'open', 10_000)).toBe(true);
  return { mine, theirs };
}
