/**
 * The tabs in their order (the home tab first, then one per conversation, in the order opened)
 * and which one is shown. Showing a tab clears its unread count; leaving an open chat's tab
 * tells its peer we stopped typing there. Each tab gets its own draft over one shared history of
 * what was sent.
 */
import type { Conversation } from '@netchat/client';
import { InputHistory, LineEditor } from './line-editor.js';
import { Tab } from './tab.js';
import { TabLog } from './tab-log.js';

export class TabList {
  readonly tabs: Tab[];
  /** The index of the tab shown. */
  current = 0;
  private readonly history = new InputHistory();
  private nextTabId = 1;

  constructor(
    private readonly clock: () => Date,
    /** The open chat whose tab is left: its peer is told we stopped typing. */
    private readonly left: (conversation: Conversation) => void,
  ) {
    this.tabs = [this.newTab()];
  }

  get currentTab(): Tab {
    return this.tabs[this.current] as Tab;
  }

  get home(): Tab {
    return this.tabs[0] as Tab;
  }

  /** A new tab for a conversation (or the home tab), not yet in the list. */
  newTab(conversation?: Conversation, label?: string): Tab {
    return new Tab(
      this.nextTabId++,
      new TabLog(this.clock),
      new LineEditor(this.history),
      conversation,
      label,
    );
  }

  select(index: number): void {
    if (index < 0 || index >= this.tabs.length) return;
    const leaving = this.tabs[this.current]?.conversation;
    if (index !== this.current && leaving?.state === 'open') this.left(leaving);
    this.current = index;
    this.currentTab.unread = 0;
  }

  next(): void {
    this.select((this.current + 1) % this.tabs.length);
  }

  previous(): void {
    this.select((this.current - 1 + this.tabs.length) % this.tabs.length);
  }

  /** Shows `tab` (added at the end if new). */
  show(tab: Tab): void {
    if (!this.tabs.includes(tab)) this.tabs.push(tab);
    this.select(this.tabs.indexOf(tab));
  }

  /** Takes a chat's tab away (never the home tab); the one after it is shown if it was. */
  remove(tab: Tab): void {
    const index = this.tabs.indexOf(tab);
    if (index <= 0) return;
    const wasCurrent = index === this.current;
    this.tabs.splice(index, 1);
    if (wasCurrent) this.select(Math.min(index, this.tabs.length - 1));
    else if (this.current > index) this.current--;
  }

  tabOf(conversation: Conversation): Tab | undefined {
    return this.tabs.find((t) => t.conversation === conversation);
  }
}
