/**
 * What each typed command does (commands.ts reads the line; this carries it out on the model):
 * sending (and /me), /connect, answering requests, the lists (/requests, /list, /contacts), /log, /nick,
 * /close and the rest. Every refusal is one line in the tab, never an exception.
 */
import { actionText, expandHome, texts } from '@netchat/client';
import { formatAddress, terminalSafe } from '@netchat/core';
import type { Command } from './commands.js';
import { clockTime, type Tab } from './tab.js';
import type { TuiModel } from './tui-model.js';

/** Runs `command` in the current tab; false if it was a message that could not be sent. */
export function runCommand(model: TuiModel, command: Command): boolean {
  const tab = model.currentTab;
  switch (command.name) {
    case 'nothing':
      return true;
    case 'say':
      return say(model, tab, command.text, false);
    case 'me':
      return say(model, tab, command.action, true);
    case 'connect': {
      // What the name means, as the CLI reads it; a name that means no peer is one line here.
      const resolved = model.resolve(command.target);
      if (resolved.ok) model.connect(resolved.target);
      else tab.log.warn(resolved.problem.message);
      return true;
    }
    case 'contacts':
      listContacts(model, tab);
      return true;
    case 'log':
      setLog(model, tab, command.on);
      return true;
    case 'accept':
    case 'decline': {
      // In a chat with a file offer waiting (or with N, offer N): the offer; else a request
      // (on the home tab requests come first, then offer N).
      const request = model.requests[(command.index ?? 1) - 1];
      const offer =
        tab.state !== 'home' || (request === undefined && command.index !== undefined)
          ? model.files?.offerFor(tab, command.index)
          : undefined;
      if (offer) model.files?.answer(offer, command.name === 'accept');
      else if (request) model.answer(request, command.name === 'accept');
      else if (!model.files) tab.log.warn(`no waiting request ${command.index ?? 1}: see /requests`);
      else
        tab.log.warn(
          command.index === undefined
            ? 'Nothing is waiting for an answer: see /requests and /transfers.'
            : `No waiting request or file offer ${command.index}: see /requests and /transfers.`,
        );
      return true;
    }
    case 'send':
    case 'transfers':
    case 'cancel':
      fileCommand(model, tab, command);
      return true;
    case 'requests':
      listRequests(model, tab);
      return true;
    case 'list':
      listTabs(model, tab);
      return true;
    case 'bell':
      if (command.on === undefined) {
        tab.log.notice(
          `The bell is ${model.bell ? 'on' : 'off'} for requests and messages in other tabs (/bell ${model.bell ? 'off' : 'on'} turns it ${model.bell ? 'off' : 'on'}).`,
        );
        return true;
      }
      model.bell = command.on;
      tab.log.notice(`Bell ${command.on ? 'on' : 'off'} for requests and messages in other tabs.`);
      return true;
    case 'close':
    case 'exit_session':
      closeTab(model, tab, command.name === 'close');
      return true;
    case 'nick':
      changeNick(model, tab, command.nick);
      return true;
    case 'clear':
      tab.log.clear();
      return true;
    case 'help':
      model.helpOpen = true;
      return true;
    case 'whoami':
      tab.log.notice(`You are ${model.nick || '(no nick)'} on ${model.settings.localAddress}.`);
      for (const line of whereToReach(model.settings.reachableAt ?? [], model.port)) tab.log.notice(line);
      return true;
    case 'quit':
      model.confirmingQuit = false;
      tab.log.notice('Closing every session…');
      model.port.quit();
      return true;
    case 'invalid':
      tab.log.warn(command.message);
      return true;
    case 'not_command':
      // Not used: back to the input, where one more `/` makes it a message.
      tab.log.warn(command.message);
      return false;
  }
}

function fileCommand(
  model: TuiModel,
  tab: Tab,
  command: Extract<Command, { name: 'send' | 'transfers' | 'cancel' }>,
): void {
  const files = model.files;
  if (!files) {
    tab.log.warn('File transfer is not available in this run.');
    return;
  }
  if (command.name === 'transfers') files.list(tab);
  else if (command.name === 'cancel') files.cancel(tab, command.id);
  else {
    const home = model.settings.paths?.home;
    files.send(
      tab,
      command.paths.map((p) => (home === undefined ? p : expandHome(p, home))),
    );
  }
}

function say(model: TuiModel, tab: Tab, text: string, action: boolean): boolean {
  const conversation = tab.conversation;
  if (tab.state !== 'open' || conversation === undefined) {
    const hint =
      tab.state === 'home'
        ? 'this is the home tab: /connect IP PORT to chat'
        : `this session is ${tab.state}`;
    tab.log.warn(`Not sent: ${hint}.`);
    return false;
  }
  try {
    model.send(tab, conversation, action ? actionText(text) : text);
    return true;
  } catch (error) {
    tab.log.warn(`Not sent: ${(error as Error).message}`);
    return false;
  }
}

/** The known peers as `netchat contacts` lists them: nick, fingerprint, where, last seen, verified or renamed. */
function listContacts(model: TuiModel, tab: Tab): void {
  const contacts = model.port.contacts();
  if (contacts.length === 0) {
    tab.log.notice('No known peers yet: they are added as you chat.');
    return;
  }
  for (const contact of contacts) tab.log.notice(texts.contactText(contact));
}

function setLog(model: TuiModel, tab: Tab, on: boolean | undefined): void {
  const history = model.settings.history;
  if (!history) {
    tab.log.warn('Chat history is not available in this run.');
    return;
  }
  // A settings.json that cannot be written is a warning of its own (watchStorage): the change holds for this run.
  if (on !== undefined) history.setEnabled(on);
  tab.log.notice(texts.historyStatusText(history));
}

function listRequests(model: TuiModel, tab: Tab): void {
  if (model.requests.length === 0) {
    tab.log.notice('No requests are waiting.');
    return;
  }
  model.requests.forEach((r, i) => {
    tab.log.notice(`${i + 1}. ${texts.who(r.peer, r.nick)} since ${clockTime(new Date(r.since))}`);
  });
}

function listTabs(model: TuiModel, tab: Tab): void {
  if (model.tabs.length === 1) {
    tab.log.notice('No conversations: /connect IP PORT to start one.');
    return;
  }
  model.tabs.forEach((t, i) => {
    if (t.state === 'home') return;
    const info = t.session === undefined ? undefined : model.port.session(t.session);
    const details = [
      t.peer ? formatAddress(t.peer) : t.label,
      t.state,
      t.state === 'open' && info?.rtt !== undefined ? `rtt ${Math.round(info.rtt)} ms` : '',
      t.unread > 0 ? `${t.unread} unread` : '',
    ].filter(Boolean);
    tab.log.notice(`${i}. ${t.nick ? model.labelOf(t) : '(no nick)'}: ${details.join(', ')}`);
  });
}

function closeTab(model: TuiModel, tab: Tab, removeIfEnded: boolean): void {
  if (tab.state === 'home') {
    tab.log.warn('The home tab has no session to close.');
    return;
  }
  if (tab.state === 'ended') {
    if (removeIfEnded) model.removeTab(tab);
    else tab.log.warn('This session has ended; /close closes the tab.');
    return;
  }
  // The client says how it ended ("Closing session with peer...", or a withdrawn request);
  // a request withdrawn before any answer takes its tab with it (see the model's onEnded).
  if (!tab.conversation) return;
  // Offers still asked in it are declined before the close, as quitting does (not "interrupted").
  model.files?.closing(tab);
  model.client.close(tab.conversation);
}

function changeNick(model: TuiModel, tab: Tab, nick: string): void {
  try {
    model.client.setNick(nick);
    model.nick = nick;
    const open = model.tabs.filter((t) => t.state === 'open').length;
    tab.log.notice(
      `You are now ${terminalSafe(nick)}${open > 0 ? ` (your ${open} open chat${open === 1 ? ' is' : 's are'} told)` : ''}.`,
    );
  } catch (error) {
    tab.log.warn((error as Error).message);
  }
}

/** /whoami's and the start's "Others can reach you at: 192.0.2.2 5555, fd00::2 5555" and "Your fingerprint: …". */
export function whereToReach(reachableAt: readonly string[], port: { fingerprint(): string }): string[] {
  return [
    ...(reachableAt.length > 0 ? [`Others can reach you at: ${reachableAt.join(', ')}`] : []),
    `Your fingerprint: ${port.fingerprint()}`,
  ];
}
