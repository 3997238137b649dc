/** A chat line read as a command (chat-commands.ts), in any case as the TUI reads it. */
import { describe, expect, it } from 'vitest';
import { readChatLine } from '../src/chat-commands.js';

describe('a chat command typed with Caps Lock on', () => {
  it.each([
    ['/log off', { name: 'log', on: false }],
    ['/LOG OFF', { name: 'log', on: false }],
    ['/Log On', { name: 'log', on: true }],
    ['/LOG', { name: 'log', on: undefined }],
    ['/TRANSFERS', { name: 'transfers' }],
  ])('%j', (line, command) => expect(readChatLine(line)).toEqual(command));

  it('a setting that is neither on nor off, in any case, gets the usage', () => {
    expect(readChatLine('/LOG MAYBE')).toEqual({ name: 'invalid', message: 'usage: /log [on|off]' });
  });
});
