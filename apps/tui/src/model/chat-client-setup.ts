/**
 * The client's ChatClient as the TUI runs it: the port's known peers are its trust store, it
 * keeps time on the model's clock, logs to the chat history, and keeps one chat per peer (a
 * /connect to a peer already in a tab, by key or however its address was typed, shows that tab).
 * Any number of chats at once, unlike the CLI's one.
 */
import { ChatClient } from '@netchat/client';
import type { ModelSettings, PeerPort } from './settings.js';

export function tuiChatClient(port: PeerPort, settings: ModelSettings, now: () => number): ChatClient {
  return new ChatClient(
    port,
    {
      check: (key, nick) => port.trust(key, nick),
      remember: (key, nick, print, seen) => port.remember(key, nick, print, seen),
      list: () => port.contacts(),
    },
    {
      acceptAll: settings.acceptAll,
      clock: now,
      history: settings.history,
      timers: settings.timers,
      oneChatPerPeer: true,
    },
  );
}
